/** Bytes of delivery bandwidth one Cloudinary credit buys. */
export const BYTES_PER_CREDIT = 1e9;

/** What `GET /usage` says about credits (the parts a budget needs). */
export interface UsageInfo {
  readonly plan: string;
  /** Credits used this cycle (bandwidth, storage and transformations together). */
  readonly creditsUsed: number;
  /** The plan's credit limit; undefined when the plan reports none. */
  readonly creditLimit: number | undefined;
  /** Plans without `credits` (older per-quota plans): bandwidth used and its limit, in bytes. */
  readonly bandwidth?: { readonly usedBytes: number; readonly limitBytes: number | undefined };
  /** The day the snapshot describes (`last_updated`, YYYY-MM-DD): usage is a daily snapshot. */
  readonly lastUpdated?: string;
  /** The rate-limit headers of the `/usage` call itself (fed into the Admin API reserve). */
  readonly rateLimit?: { readonly limit: number; readonly remaining: number; readonly resetAt: Date };
}

/** A per-run budget derived from the account's usage. */
export interface AutoBudget {
  /** Bytes this run may download; undefined when the plan has no limit. */
  readonly budgetBytes: number | undefined;
  readonly creditsBefore: number;
  readonly creditLimit: number | undefined;
  /** Credits the run must not take the account past. */
  readonly creditCeiling: number | undefined;
}

/**
 * The bytes a run may download so that credits used stay at or below `ceiling` (a fraction of
 * the plan's limit), counting delivery at 1 GB per credit. No limit reported: no budget.
 * Already past the ceiling: a budget of 0 (the run plans, but copies nothing).
 */
export const autoBudget = (usage: UsageInfo, ceiling: number): AutoBudget => {
  if (usage.creditLimit === undefined || !(usage.creditLimit > 0)) {
    return { budgetBytes: undefined, creditsBefore: usage.creditsUsed, creditLimit: undefined, creditCeiling: undefined };
  }
  const creditCeiling = usage.creditLimit * ceiling;
  const left = Math.max(0, creditCeiling - usage.creditsUsed);
  return {
    // Rounded to a thousandth of a byte first: (0.9 - 0.8999) credits is 100,000 bytes, not 99,999.
    budgetBytes: Math.floor(Math.round(left * BYTES_PER_CREDIT * 1000) / 1000),
    creditsBefore: usage.creditsUsed,
    creditLimit: usage.creditLimit,
    creditCeiling,
  };
};

/** Reads the documented `GET /usage` response; tolerant of missing parts. */
export const parseUsage = (raw: Record<string, unknown>): UsageInfo => {
  const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});
  const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const credits = obj(raw.credits);
  const bandwidth = obj(raw.bandwidth);
  const used = num(credits.usage) ?? (num(bandwidth.usage) ?? 0) / BYTES_PER_CREDIT;
  return { plan: typeof raw.plan === 'string' ? raw.plan : 'unknown', creditsUsed: used, creditLimit: num(credits.limit) };
};
