import pLimit from 'p-limit';
import type { PlannedAsset } from '../core/plan.ts';
import { outcomeOf } from './copy-page.ts';
import type { CopyOutcome } from './copy-page.ts';
import type { RunState } from './run-state.ts';

/** A listing page the pipeline has opened: listed, planned and admitted, its copies queued. */
export interface OpenedPage {
  /** The copies admitted for this page, in the order they should start. */
  readonly copies: readonly PlannedAsset[];
  /**
   * Where the page after this one opens: the cursor (or listing) advanced, and this page's
   * admitted bytes charged to the budget, so a later page is admitted as if this one were done.
   */
  readonly following: RunState;
}

/** What the pipeline asks of the engine. */
export interface PageWorker<P extends OpenedPage> {
  /** Lists, plans and admits the page at `at`'s cursor (rejects when the listing fails for good). */
  open(at: RunState): Promise<P>;
  /** One copy; rejects on failure. */
  copy(page: P, item: PlannedAsset, signal: AbortSignal): Promise<string>;
  /** Records a page whose copies all ended, on top of the state the previous page left. */
  close(state: RunState, page: P, outcomes: readonly CopyOutcome[]): Promise<RunState>;
  /** True when no new copy or page may start (Ctrl-C, or the lease lost). */
  stopped(): boolean;
}

/** How far the listing may run ahead of the copies. */
export interface PipelineOptions {
  readonly concurrency: number;
  /**
   * Pages open at once (listed, not yet recorded): bounds memory at this many pages of assets
   * (500 each). @default 3
   */
  readonly maxOpenPages?: number;
}

interface Open<P> {
  readonly page: P;
  readonly outcomes: CopyOutcome[];
  /** Settles when every copy of the page has ended (or was never started). */
  done: Promise<void>;
  /** True once `done` has settled. */
  ended: boolean;
}

/**
 * Runs the listing's pages with no barrier between them (the command line): the next page is
 * listed while the copies of the earlier ones drain, and its copies join the same queue, so one
 * large file at the end of a page no longer holds back every copy of the next. Pages are still
 * recorded in listing order, each only once all its copies ended, so a recorded state always
 * describes finished work: a run stopped part way through records every page up to the first
 * unfinished one and nothing after it (their copies are in the destination, where the next run
 * finds them) — the guarantee a durable checkpoint gives. Memory stays bounded: a new page opens
 * only while fewer than `concurrency` copies wait for a slot and fewer than `maxOpenPages` pages
 * are open.
 *
 * `onState` receives each recorded state (the report of a failed run needs the last one). A page
 * that fails to list stops the listing; the pages before it still finish and are recorded, then
 * the error is thrown. A page that fails to record (the destination) stops every copy not started.
 */
export const runPipelined = async <P extends OpenedPage>(
  start: RunState,
  worker: PageWorker<P>,
  options: PipelineOptions,
  onState: (s: RunState) => void,
): Promise<RunState> => {
  const concurrency = Math.max(1, options.concurrency);
  const limit = pLimit(concurrency);
  const maxOpen = Math.max(1, options.maxOpenPages ?? 3);
  const never = new AbortController().signal;
  const open: Open<P>[] = [];
  let state = start;
  let ahead = start;
  let listingFailed: { error: unknown } | undefined;
  let recordFailed: { error: unknown } | undefined;
  let wake: () => void = () => undefined;
  const stopped = (): boolean => recordFailed !== undefined || worker.stopped();

  const queue = (page: P): Open<P> => {
    const outcomes: CopyOutcome[] = page.copies.map(() => ({ kind: 'not-started' }));
    const runs = page.copies.map((item, i) =>
      limit(async () => {
        if (stopped()) return;
        outcomes[i] = await worker.copy(page, item, never).then(
          (sha256): CopyOutcome => ({ kind: 'copied', sha256 }),
          (err: unknown) => outcomeOf(err, false),
        );
      }).finally(() => setImmediate(() => wake())),
    );
    const entry: Open<P> = { page, outcomes, done: Promise.resolve(), ended: false };
    entry.done = Promise.all(runs).then(() => {
      entry.ended = true;
    });
    return entry;
  };

  const canOpen = (): boolean => !stopped() && listingFailed === undefined && !ahead.listingComplete && open.length < maxOpen && limit.pendingCount < concurrency;

  for (;;) {
    while (canOpen()) {
      try {
        const page = await worker.open(ahead);
        open.push(queue(page));
        ahead = page.following;
      } catch (error) {
        listingFailed = { error };
      }
    }
    const first = open[0];
    if (first === undefined) break;
    // Wait for the oldest page to end, or for a copy to end (a free slot may let a page open).
    await Promise.race([first.done, new Promise<void>((resolve) => (wake = resolve))]);
    while (open[0]?.ended === true) {
      const { page, outcomes } = open.shift() as Open<P>;
      try {
        state = await worker.close(state, page, outcomes);
        onState(state);
      } catch (error) {
        recordFailed ??= { error };
      }
      if (recordFailed !== undefined || outcomes.some((o) => o.kind === 'not-started')) {
        await Promise.all(open.map((o) => o.done));
        open.length = 0;
      }
    }
  }
  const failure = recordFailed ?? listingFailed;
  if (failure !== undefined) throw failure.error;
  return state;
};
