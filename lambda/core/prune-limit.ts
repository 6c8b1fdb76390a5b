/** The most backups one run may prune: a number of objects, or a fraction of the assets backed up. */
export type PruneLimit = { readonly count: number } | { readonly fraction: number };

/** The default: 10% of the backed-up assets. */
export const DEFAULT_MAX_PRUNE: PruneLimit = { fraction: 0.1 };

/**
 * Reads a prune limit: a whole number (`500`) or a percentage (`10%`, from 0% to 100%). One parser
 * for the CLI's --max-prune, the function's MAX_PRUNE and the CDK context `maxPrune`. Returns
 * undefined for anything else (the caller says which setting and how to fix it).
 */
export const parsePruneLimit = (value: string): PruneLimit | undefined => {
  const v = value.trim();
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(v);
  if (pct) {
    const f = Number(pct[1]) / 100;
    return f >= 0 && f <= 1 ? { fraction: f } : undefined;
  }
  return /^\d+$/.test(v) ? { count: Number(v) } : undefined;
};
