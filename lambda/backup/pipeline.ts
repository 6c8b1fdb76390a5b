import pLimit from 'p-limit';
import type { LimitFunction } from 'p-limit';
import type { PlannedAsset } from '../core/plan.ts';
import { outcomeOf } from './copy-page.ts';
import type { CopyOutcome, TimeGate } from './copy-page.ts';
import type { RunState } from './run-state.ts';

/** A listing page the pipeline has opened: listed, planned and admitted, its copies queued. */
export interface OpenedPage {
  /** The copies admitted for this page, in the order they should start. */
  readonly copies: readonly PlannedAsset[];
  /**
   * Where the page after this one opens: the cursor (or listing) advanced. What the open pages
   * charge to the budget is the engine's to track (one ledger: see page-runner.ts).
   */
  readonly following: RunState;
}

/** What the pipeline asks of the engine. */
export interface PageWorker<P extends OpenedPage> {
  /** Lists, plans and admits the page at `at`'s cursor (rejects when the listing fails for good). */
  open(at: RunState): Promise<P>;
  /** One copy; rejects on failure. `signal` aborts it (it must then store nothing). */
  copy(page: P, item: PlannedAsset, signal: AbortSignal, onBytes: (n: number) => void): Promise<string>;
  /**
   * Records a page whose copies all ended, on top of the state the previous page left. `held`:
   * a page behind an unfinished one — its work is recorded, its position not (see runPipelined).
   */
  close(state: RunState, page: P, outcomes: readonly CopyOutcome[], held: boolean): Promise<RunState>;
  /** True when no new copy or page may start (Ctrl-C, or the lease lost). */
  stopped(): boolean;
  /** Whether another page may open after `open` (listed, not yet recorded); absent: yes. */
  mayOpen?(open: readonly P[]): boolean;
}

/** How far the listing may run ahead of the copies. */
export interface PipelineOptions {
  readonly concurrency: number;
  /**
   * Pages open at once (listed, not yet recorded): bounds memory at this many pages of assets
   * (500 each). @default 3
   */
  readonly maxOpenPages?: number;
  /** A durable step's time bound over every copy (see TimeGate); absent: no bound. */
  readonly gate?: TimeGate;
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
 * describes finished work — the guarantee a durable checkpoint gives. The first page left
 * unfinished (a copy not started or cut off: a stop, or the time gate) keeps the position; the
 * pages behind it are recorded `held` once their copies ended (their work counted, their settled
 * assets remembered, the position not moved: see afterPage), and nothing opens after it. Memory
 * stays bounded: a new page opens only while fewer than `concurrency` copies wait for a slot,
 * fewer than `maxOpenPages` pages are open, the gate is open and the worker's mayOpen agrees.
 *
 * `onState` receives each recorded state (the report of a failed run needs the last one). A page
 * that fails to list stops the listing; the pages before it still finish and are recorded, then
 * the error is thrown. A page that fails to record (the destination) stops every copy not started.
 */
export const runPipelined = <P extends OpenedPage>(start: RunState, worker: PageWorker<P>, options: PipelineOptions, onState: (s: RunState) => void): Promise<RunState> =>
  new Pipeline(start, worker, options, onState).run();

/** The pages in flight of one runPipelined call. */
class Pipeline<P extends OpenedPage> {
  private readonly concurrency: number;
  private readonly limit: LimitFunction;
  private readonly maxOpen: number;
  private readonly never = new AbortController().signal;
  /** Pages listed and not yet recorded, in listing order. */
  private readonly open: Open<P>[] = [];
  /** The last recorded state. */
  private state: RunState;
  /** Where the next page opens. */
  private ahead: RunState;
  private listingFailed: { error: unknown } | undefined;
  private recordFailed: { error: unknown } | undefined;
  private wake: () => void = () => undefined;
  /** True once a page was recorded unfinished: the pages after it are recorded held. */
  private unfinished = false;

  constructor(
    start: RunState,
    private readonly worker: PageWorker<P>,
    private readonly options: PipelineOptions,
    private readonly onState: (s: RunState) => void,
  ) {
    this.state = start;
    this.ahead = start;
    this.concurrency = Math.max(1, options.concurrency);
    this.limit = pLimit(this.concurrency);
    this.maxOpen = Math.max(1, options.maxOpenPages ?? 3);
  }

  async run(): Promise<RunState> {
    for (;;) {
      await this.openMore();
      const first = this.open[0];
      if (first === undefined) break;
      // Wait for the oldest page to end, or for a copy to end (a free slot may let a page open).
      await Promise.race([first.done, new Promise<void>((resolve) => (this.wake = resolve))]);
      await this.recordEnded();
    }
    const failure = this.recordFailed ?? this.listingFailed;
    if (failure !== undefined) throw failure.error;
    return this.state;
  }

  private stopped(): boolean {
    return this.recordFailed !== undefined || this.worker.stopped();
  }

  /** Opens pages while the listing may run ahead (see runPipelined). */
  private async openMore(): Promise<void> {
    const canOpen = (): boolean =>
      !this.stopped() &&
      !this.unfinished &&
      this.listingFailed === undefined &&
      !this.ahead.listingComplete &&
      this.open.length < this.maxOpen &&
      this.limit.pendingCount < this.concurrency &&
      this.options.gate?.closed !== true &&
      this.worker.mayOpen?.(this.open.map((o) => o.page)) !== false;
    while (canOpen()) {
      try {
        const page = await this.worker.open(this.ahead);
        this.open.push(this.queue(page));
        this.ahead = page.following;
      } catch (error) {
        this.listingFailed = { error };
      }
    }
  }

  /** Queues a page's copies behind those of the pages before it. */
  private queue(page: P): Open<P> {
    const outcomes: CopyOutcome[] = page.copies.map(() => ({ kind: 'not-started' }));
    const runs = page.copies.map((item, i) =>
      this.limit(async () => {
        if (this.stopped()) return;
        const flight = this.options.gate ? await this.options.gate.admit(item.asset.bytes) : { signal: this.never, onBytes: () => undefined, cut: () => false, end: () => undefined };
        if (flight === undefined) return;
        outcomes[i] = await this.worker.copy(page, item, flight.signal, flight.onBytes).then(
          (sha256): CopyOutcome => ({ kind: 'copied', sha256 }),
          (err: unknown) => outcomeOf(err, flight.cut()),
        );
        flight.end();
      }).finally(() => setImmediate(() => this.wake())),
    );
    const entry: Open<P> = { page, outcomes, done: Promise.resolve(), ended: false };
    entry.done = Promise.all(runs).then(() => {
      entry.ended = true;
    });
    return entry;
  }

  /**
   * Records the pages at the head whose copies all ended, in order; after the first unfinished
   * one, held (see runPipelined). After a failure to record, nothing more is recorded: the copies
   * of the pages behind it end, unrecorded, and the step or run that repeats the work finds them.
   */
  private async recordEnded(): Promise<void> {
    while (this.open[0]?.ended === true) {
      const { page, outcomes } = this.open.shift() as Open<P>;
      try {
        this.state = await this.worker.close(this.state, page, outcomes, this.unfinished);
        this.onState(this.state);
      } catch (error) {
        this.recordFailed ??= { error };
      }
      if (outcomes.some((o) => o.kind === 'not-started' || o.kind === 'interrupted')) this.unfinished = true;
      if (this.recordFailed !== undefined) {
        await Promise.all(this.open.map((o) => o.done));
        this.open.length = 0;
      }
    }
  }
}
