import type { PlannedAsset } from '../core/plan.ts';
import { AssetNotReadyError, messageOf } from '../core/errors.ts';

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
  const error = messageOf(err);
  // Not ready (still processing) or deferred (a signed download beyond the reserve): pending.
  return err instanceof AssetNotReadyError ? { kind: 'pending', error } : { kind: 'failed', error };
};

const MIN_SAMPLE_MS = 1000;
const MIN_SAMPLE_BYTES = 64 * 1024;

interface Flight {
  readonly size: number;
  done: number;
  readonly ac: AbortController;
  cut: boolean;
}

/** The schedule of one step's copies under a time bound (see copyWithin). */
class TimedCopies {
  readonly outcomes: CopyOutcome[];
  private readonly inFlight = new Map<number, Flight>();
  readonly running = new Set<Promise<void>>();
  private readonly t0: number;
  private moved = 0;
  private started = 0;

  constructor(
    private readonly items: readonly PlannedAsset[],
    private readonly options: CopyWithinOptions,
  ) {
    this.outcomes = items.map(() => ({ kind: 'not-started' }));
    this.t0 = options.bound?.timeLeft() ?? 0;
  }

  /** Bytes per ms of invocation time: measured in this step once the sample is large enough. */
  rate(): number | undefined {
    const elapsed = this.t0 - (this.options.bound?.timeLeft() ?? this.t0);
    if (elapsed >= MIN_SAMPLE_MS && this.moved >= MIN_SAMPLE_BYTES) return this.moved / elapsed;
    return this.options.bound?.bytesPerMs;
  }

  /** Aborts every copy in flight once the stop margin is reached. */
  cutOff(): void {
    const b = this.options.bound;
    if (!b || b.timeLeft() >= (b.stopMarginMs ?? 45_000)) return;
    for (const f of this.inFlight.values()) {
      f.cut = true;
      f.ac.abort();
    }
  }

  /** Whether a copy of `size` bytes may start now. */
  fits(size: number): boolean {
    const b = this.options.bound;
    if (!b) return true;
    const left = b.timeLeft();
    const startMargin = b.startMarginMs ?? 120_000;
    if (left < startMargin) return false;
    const r = this.rate();
    if (r === undefined) return this.inFlight.size === 0;
    const pending = [...this.inFlight.values()].reduce((sum, f) => sum + Math.max(0, f.size - f.done), 0);
    if ((pending + size) / r <= left - (b.stopMarginMs ?? 45_000)) return true;
    // The first copy of an invocation's first step: the most time a copy can ever get.
    return this.started === 0 && b.fresh === true;
  }

  start(i: number): void {
    const item = this.items[i] as PlannedAsset;
    const f: Flight = { size: item.asset.bytes, done: 0, ac: new AbortController(), cut: false };
    this.inFlight.set(i, f);
    this.started += 1;
    const onBytes = (n: number): void => {
      f.done += n;
      this.moved += n;
      this.cutOff();
    };
    const p = this.options
      .copy(item, f.ac.signal, onBytes)
      .then(
        (sha256): CopyOutcome => ({ kind: 'copied', sha256 }),
        (err: unknown): CopyOutcome => outcomeOf(err, f.cut),
      )
      .then((o) => {
        this.outcomes[i] = o;
        this.inFlight.delete(i);
        this.running.delete(p);
      });
    this.running.add(p);
  }
}

/**
 * Copies planned assets with bounded concurrency, and — under a time bound — only as many as fit
 * in what is left of the invocation: a copy starts when the bytes still in flight plus its own,
 * at the rate measured so far, end before the stop margin; with nothing in flight, a copy that
 * does not fit waits for a fresh invocation (where it starts at once, whatever its size). Copies
 * still running at the stop margin are aborted (`interrupted`). Resolves with one outcome per item
 * (same order) and the rate measured.
 */
export const copyWithin = async (
  items: readonly PlannedAsset[],
  options: CopyWithinOptions,
): Promise<{ outcomes: CopyOutcome[]; bytesPerMs: number | undefined }> => {
  const s = new TimedCopies(items, options);
  const watchdog = options.bound ? setInterval(() => s.cutOff(), 250) : undefined;
  watchdog?.unref();
  try {
    for (let i = 0; i < items.length; i += 1) {
      const size = (items[i] as PlannedAsset).asset.bytes;
      while (s.running.size >= Math.max(1, options.concurrency)) await Promise.race(s.running);
      while (!options.stopped() && !s.fits(size) && s.running.size > 0) await Promise.race(s.running);
      if (options.stopped() || !s.fits(size)) break;
      s.start(i);
    }
    await Promise.all(s.running);
  } finally {
    if (watchdog) clearInterval(watchdog);
  }
  return { outcomes: s.outcomes, bytesPerMs: s.rate() };
};
