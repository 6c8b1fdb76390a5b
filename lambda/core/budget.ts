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
 * The bytes a run may download so that the plan stays at or below `ceiling` (a fraction of its
 * limit). With credits: delivery counts at 1 GB per credit against the credit limit. Without
 * credits (older per-quota plans): bytes against the bandwidth limit. `sinceSnapshot` is what
 * this tool downloaded after the daily usage snapshot was taken (see bytesSinceSnapshot): the
 * snapshot does not show it yet. No limit reported: no budget. Already past the ceiling: a budget
 * of 0 (the run plans, but copies nothing).
 */
export const autoBudget = (usage: UsageInfo, ceiling: number, sinceSnapshot = 0): AutoBudget => {
  const creditsBefore = usage.creditsUsed + sinceSnapshot / BYTES_PER_CREDIT;
  if (usage.creditLimit !== undefined && usage.creditLimit > 0) {
    const creditCeiling = usage.creditLimit * ceiling;
    const left = Math.max(0, creditCeiling - creditsBefore);
    // Rounded to a thousandth of a byte first: (0.9 - 0.8999) credits is 100,000 bytes, not 99,999.
    return { budgetBytes: Math.floor(Math.round(left * BYTES_PER_CREDIT * 1000) / 1000), creditsBefore, creditLimit: usage.creditLimit, creditCeiling };
  }
  const bw = usage.bandwidth;
  if (bw?.limitBytes !== undefined && bw.limitBytes > 0) {
    const left = Math.max(0, bw.limitBytes * ceiling - bw.usedBytes - sinceSnapshot);
    return { budgetBytes: Math.floor(left), creditsBefore, creditLimit: undefined, creditCeiling: undefined };
  }
  return { budgetBytes: undefined, creditsBefore, creditLimit: undefined, creditCeiling: undefined };
};

/** What a run report under `_reports/` says about one run's downloads. */
export interface PastRun {
  readonly startedAt: string;
  readonly bytesDownloaded: number;
}

/**
 * Bytes this tool downloaded that the usage snapshot may not count yet: `GET /usage` is a daily
 * snapshot (`last_updated` is a day, usually the previous one), so every run that started on or
 * after that day is counted — a run on the snapshot day itself may be counted twice, which errs
 * on the side of the ceiling. Without `last_updated`, the runs of the last 48 hours.
 */
export const bytesSinceSnapshot = (runs: readonly PastRun[], lastUpdated: string | undefined, now: Date = new Date()): number => {
  const day = lastUpdated && /^\d{4}-\d{2}-\d{2}/.test(lastUpdated) ? Date.parse(`${lastUpdated.slice(0, 10)}T00:00:00Z`) : Number.NaN;
  const since = Number.isFinite(day) ? day : now.getTime() - 48 * 3600_000;
  let total = 0;
  for (const r of runs) {
    const t = Date.parse(r.startedAt);
    if (Number.isFinite(t) && t >= since && Number.isFinite(r.bytesDownloaded) && r.bytesDownloaded > 0) total += r.bytesDownloaded;
  }
  return total;
};

/** Reads the documented `GET /usage` response; tolerant of missing parts. */
export const parseUsage = (raw: Record<string, unknown>): UsageInfo => {
  const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});
  const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const credits = obj(raw.credits);
  const bandwidth = obj(raw.bandwidth);
  const used = num(credits.usage) ?? (num(bandwidth.usage) ?? 0) / BYTES_PER_CREDIT;
  const bwUsed = num(bandwidth.usage);
  return {
    plan: typeof raw.plan === 'string' ? raw.plan : 'unknown',
    creditsUsed: used,
    creditLimit: num(credits.limit),
    ...(bwUsed !== undefined ? { bandwidth: { usedBytes: bwUsed, limitBytes: num(bandwidth.limit) } } : {}),
    ...(typeof raw.last_updated === 'string' ? { lastUpdated: raw.last_updated } : {}),
  };
};

/** The least a run may hash from the destination by default (see hashLimit). */
export const MIN_HASH_BYTES = 5 * 1024 ** 3;

/**
 * Bytes a run may read back from the destination to hash objects catalogued without a sha256
 * (copies a hard kill left unrecorded, backups made before checksums or by other tools). A read of
 * the destination costs no Cloudinary credit, only time and the store's request and transfer fees.
 * The default covers what the previous run could have copied: its byte budget (the same setting
 * from night to night), at least MIN_HASH_BYTES; without a budget a run may copy anything, so a run
 * may hash anything. `explicit` (the user's setting) wins. Undefined: no limit.
 */
export const hashLimit = (explicit: number | undefined, budget: number | undefined): number | undefined =>
  explicit ?? (budget === undefined ? undefined : Math.max(budget, MIN_HASH_BYTES));
