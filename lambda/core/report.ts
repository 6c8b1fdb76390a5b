/** One asset that could not be backed up, and why. */
export interface Failure {
  readonly publicId: string;
  readonly resourceType: string;
  readonly type: string;
  readonly error: string;
}

/**
 * The counters of one run. Every field is a number of fixed size, so a durable checkpoint that
 * holds them stays small whatever happens; the list of failures lives in the run's failure log
 * in the destination (see store/failure-log.ts), never in a checkpoint.
 */
export interface RunCounters {
  readonly listed: number;
  readonly copied: number;
  readonly unchanged: number;
  readonly skipped: number;
  readonly failed: number;
  /**
   * Assets left for the next run: Cloudinary is still processing them (not ready to download), or
   * the byte budget was reached (those are also in the report's remainingToCopy). Every report adds
   * up: copied + unchanged + skipped + failed + pending = listed.
   */
  readonly pending: number;
  /** Unchanged objects without a recorded sha256, hashed from the destination by this run (counted in `unchanged`). */
  readonly hashed: number;
  readonly hashedBytes: number;
  /** Unchanged objects catalogued without a sha256 (over the run's hash limit, or unreadable): the next run hashes them. */
  readonly unhashed: number;
  readonly bytesCopied: number;
  readonly missingFromSource: number;
  readonly pruned: number;
  readonly cloudinaryApiCalls: number;
}

/** Most failures a report lists by name; the count stays exact, the failure log has them all. */
export const MAX_LISTED_FAILURES = 1000;

/** Counters at zero. */
export const emptyCounters = (): RunCounters => ({
  listed: 0,
  copied: 0,
  unchanged: 0,
  skipped: 0,
  failed: 0,
  pending: 0,
  hashed: 0,
  hashedBytes: 0,
  unhashed: 0,
  bytesCopied: 0,
  missingFromSource: 0,
  pruned: 0,
  cloudinaryApiCalls: 0,
});

/** The sum of two sets of counters (a new object; neither input changes). */
export const addCounters = (a: RunCounters, b: Partial<RunCounters>): RunCounters => ({
  listed: a.listed + (b.listed ?? 0),
  copied: a.copied + (b.copied ?? 0),
  unchanged: a.unchanged + (b.unchanged ?? 0),
  skipped: a.skipped + (b.skipped ?? 0),
  failed: a.failed + (b.failed ?? 0),
  pending: a.pending + (b.pending ?? 0),
  // A checkpoint written before these counters existed has none: they start at 0.
  hashed: (a.hashed ?? 0) + (b.hashed ?? 0),
  hashedBytes: (a.hashedBytes ?? 0) + (b.hashedBytes ?? 0),
  unhashed: (a.unhashed ?? 0) + (b.unhashed ?? 0),
  bytesCopied: a.bytesCopied + (b.bytesCopied ?? 0),
  missingFromSource: a.missingFromSource + (b.missingFromSource ?? 0),
  pruned: a.pruned + (b.pruned ?? 0),
  cloudinaryApiCalls: a.cloudinaryApiCalls + (b.cloudinaryApiCalls ?? 0),
});
