import type { PlannedAsset } from '../core/plan.ts';
import { AssetNotReadyError, CancelledError, messageOf } from '../core/errors.ts';

/** How much time a step may use: a Lambda invocation's clock and the margins kept free. */
export interface TimeBound {
  /** Milliseconds left in this invocation (Lambda's getRemainingTimeInMillis). */
  readonly timeLeft: () => number;
  /** No copy starts with less than this left. @default 120000 */
  readonly startMarginMs?: number;
  /** Copies still running with less than this left are cut off, so the step can end in time. @default 45000 */
  readonly stopMarginMs?: number;
  /**
   * True for the first step of an invocation: its first copy starts even when it does not fit at
   * the measured rate, since no later invocation would give it more time (the next one spends the
   * same on loading and listing first). Any other copy that does not fit waits for such a step.
   */
  readonly fresh?: boolean;
  /** Transfer rate measured by earlier steps (bytes per ms), used until this step has its own. */
  readonly bytesPerMs?: number;
}

/** What became of one planned copy. */
export type CopyOutcome =
  | { readonly kind: 'copied'; readonly sha256: string }
  | { readonly kind: 'failed'; readonly error: string }
  /** Cloudinary has not finished processing the asset: not a failure, the next run takes it. */
  | { readonly kind: 'pending'; readonly error: string }
  /** Cut off by the end of the invocation: the next step copies it again. */
  | { readonly kind: 'interrupted' }
  /** Not started: no time left in this invocation (or the run was cancelled). */
  | { readonly kind: 'not-started' };

/** Options of copyWithin. */
export interface CopyWithinOptions {
  readonly concurrency: number;
  /** Absent for the command line: no time bound. */
  readonly bound?: TimeBound;
  /** Copies one asset; rejects on failure. `signal` aborts it (the copy must then store nothing). */
  copy(item: PlannedAsset, signal: AbortSignal, onBytes: (n: number) => void): Promise<string>;
  /** True when no new copy may start (Ctrl-C). */
  stopped(): boolean;
}

/** The outcome of a copy that rejected with `err` (`cut`: aborted by the end of the invocation). */
export const outcomeOf = (err: unknown, cut: boolean): CopyOutcome => {
  if (cut) return { kind: 'interrupted' };
  // Stopped (Ctrl-C, the lease lost): the copy did not fail, it was not finished; the page stays
  // open and the next run copies it. Counted as a failure it also broke the report's sum.
  if (err instanceof CancelledError) return { kind: 'not-started' };
  const error = messageOf(err);
  // Not ready (still processing) or deferred (a signed download beyond the reserve): pending.
  return err instanceof AssetNotReadyError ? { kind: 'pending', error } : { kind: 'failed', error };
};

const MIN_SAMPLE_MS = 1000;
const MIN_SAMPLE_BYTES = 64 * 1024;

/** One copy admitted by a TimeGate: its abort signal, its byte counter, and whether it was cut off. */
export interface Flight {
  readonly signal: AbortSignal;
  /** Counts `n` bytes moved (and cuts off every copy once the stop margin is reached). */
  readonly onBytes: (n: number) => void;
  /** True when the gate aborted this copy at the stop margin. */
  readonly cut: () => boolean;
  /** The copy ended (whatever its outcome). */
  readonly end: () => void;
}

interface Tracked {
  readonly size: number;
  done: number;
  readonly ac: AbortController;
  cut: boolean;
}

/**
 * The time bound of one durable step over all its copies, whichever page they belong to: a copy
 * starts when the bytes still in flight plus its own, at the rate measured so far, end before the
 * stop margin; with nothing in flight, one that does not fit waits for a fresh invocation (where
 * the first copy starts whatever its size). Once a copy is refused, no later copy starts (`closed`).
 * Copies still running at the stop margin are aborted. Without a bound every copy starts.
 */
export class TimeGate {
  private readonly inFlight = new Set<Tracked>();
  private readonly t0: number;
  private moved = 0;
  private started = 0;
  private refused = false;
  private waiters: (() => void)[] = [];
  private readonly watchdog: NodeJS.Timeout | undefined;

  constructor(private readonly bound: TimeBound | undefined) {
    this.t0 = bound?.timeLeft() ?? 0;
    this.watchdog = bound ? setInterval(() => this.cutOff(), 250) : undefined;
    this.watchdog?.unref();
  }

  /** Stops the watchdog (the step's copies all ended). */
  dispose(): void {
    if (this.watchdog) clearInterval(this.watchdog);
  }

  /** True once a copy was refused for time, or less than the start margin is left: nothing more starts. */
  get closed(): boolean {
    const b = this.bound;
    return this.refused || (b !== undefined && b.timeLeft() < (b.startMarginMs ?? 120_000));
  }

  /** Bytes per ms of invocation time: measured in this step once the sample is large enough. */
  rate(): number | undefined {
    const elapsed = this.t0 - (this.bound?.timeLeft() ?? this.t0);
    if (elapsed >= MIN_SAMPLE_MS && this.moved >= MIN_SAMPLE_BYTES) return this.moved / elapsed;
    return this.bound?.bytesPerMs;
  }

  /** Aborts every copy in flight once the stop margin is reached. */
  cutOff(): void {
    const b = this.bound;
    if (!b || b.timeLeft() >= (b.stopMarginMs ?? 45_000)) return;
    for (const f of this.inFlight) {
      f.cut = true;
      f.ac.abort();
    }
  }

  /** Whether a copy of `size` bytes may start now. */
  private fits(size: number): boolean {
    const b = this.bound;
    if (!b) return true;
    const left = b.timeLeft();
    if (left < (b.startMarginMs ?? 120_000)) return false;
    const r = this.rate();
    if (r === undefined) return this.inFlight.size === 0;
    const pending = [...this.inFlight].reduce((sum, f) => sum + Math.max(0, f.size - f.done), 0);
    if ((pending + size) / r <= left - (b.stopMarginMs ?? 45_000)) return true;
    // The first copy of an invocation's first step: the most time a copy can ever get.
    return this.started === 0 && b.fresh === true;
  }

  /**
   * A flight for a copy of `size` bytes: at once when it fits, after copies in flight ended when it
   * fits then; undefined when it does not (the gate closes: no later copy starts).
   */
  async admit(size: number): Promise<Flight | undefined> {
    while (!this.refused && !this.fits(size) && this.inFlight.size > 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
    if (this.refused || !this.fits(size)) {
      this.refused = true;
      return undefined;
    }
    const f: Tracked = { size, done: 0, ac: new AbortController(), cut: false };
    this.inFlight.add(f);
    this.started += 1;
    return {
      signal: f.ac.signal,
      onBytes: (n) => {
        f.done += n;
        this.moved += n;
        this.cutOff();
      },
      cut: () => f.cut,
      end: () => {
        this.inFlight.delete(f);
        const w = this.waiters;
        this.waiters = [];
        for (const wake of w) wake();
      },
    };
  }
}

/**
 * Copies planned assets with bounded concurrency, and — under a time bound — only as many as fit
 * in what is left of the invocation (see TimeGate); copies cut off at the stop margin are
 * `interrupted`. Resolves with one outcome per item (same order) and the rate measured.
 */
export const copyWithin = async (
  items: readonly PlannedAsset[],
  options: CopyWithinOptions,
): Promise<{ outcomes: CopyOutcome[]; bytesPerMs: number | undefined }> => {
  const gate = new TimeGate(options.bound);
  const outcomes: CopyOutcome[] = items.map(() => ({ kind: 'not-started' }));
  const running = new Set<Promise<void>>();
  try {
    for (let i = 0; i < items.length; i += 1) {
      while (running.size >= Math.max(1, options.concurrency)) await Promise.race(running);
      if (options.stopped()) break;
      const item = items[i] as PlannedAsset;
      const flight = await gate.admit(item.asset.bytes);
      if (flight === undefined || options.stopped()) {
        flight?.end();
        break;
      }
      const p: Promise<void> = options
        .copy(item, flight.signal, flight.onBytes)
        .then(
          (sha256): CopyOutcome => ({ kind: 'copied', sha256 }),
          (err: unknown): CopyOutcome => outcomeOf(err, flight.cut()),
        )
        .then((o) => {
          outcomes[i] = o;
          flight.end();
          running.delete(p);
        });
      running.add(p);
    }
    await Promise.all(running);
  } finally {
    gate.dispose();
  }
  return { outcomes, bytesPerMs: gate.rate() };
};
