/** One asset that could not be backed up, and why. */
export interface Failure {
  readonly publicId: string;
  readonly resourceType: string;
  readonly type: string;
  readonly error: string;
}

/** The counters of one run; every field is a JSON number or array, so the report is its JSON. */
export interface RunCounters {
  listed: number;
  copied: number;
  unchanged: number;
  skipped: number;
  failed: number;
  /** Assets Cloudinary is still processing: not copied, not failed; the next run takes them. */
  pending: number;
  bytesCopied: number;
  missingFromSource: number;
  pruned: number;
  cloudinaryApiCalls: number;
  failures: Failure[];
}

/** Most failures a report lists by name; the count stays exact beyond it. */
export const MAX_LISTED_FAILURES = 1000;

/** Counters at zero. */
export const emptyCounters = (): RunCounters => ({
  listed: 0,
  copied: 0,
  unchanged: 0,
  skipped: 0,
  failed: 0,
  pending: 0,
  bytesCopied: 0,
  missingFromSource: 0,
  pruned: 0,
  cloudinaryApiCalls: 0,
  failures: [],
});

/** Records one failure, keeping the list bounded. */
export const recordFailure = (counters: RunCounters, failure: Failure): void => {
  counters.failed += 1;
  if (counters.failures.length < MAX_LISTED_FAILURES) counters.failures.push(failure);
};

/** Adds a page's counters into a run's. */
export const addCounters = (into: RunCounters, page: RunCounters): void => {
  into.listed += page.listed;
  into.copied += page.copied;
  into.unchanged += page.unchanged;
  into.skipped += page.skipped;
  into.failed += page.failed;
  into.pending += page.pending ?? 0;
  into.bytesCopied += page.bytesCopied;
  into.missingFromSource += page.missingFromSource;
  into.pruned += page.pruned;
  into.cloudinaryApiCalls += page.cloudinaryApiCalls;
  for (const f of page.failures) if (into.failures.length < MAX_LISTED_FAILURES) into.failures.push(f);
};
