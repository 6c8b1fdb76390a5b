import type { PlannedAsset } from '../core/plan.ts';
import { messageOf } from '../core/errors.ts';

/** How much time a step may use: a Lambda invocation's clock and the margins kept free. */
export interface TimeBound {
  /** Milliseconds left in this invocation (Lambda's getRemainingTimeInMillis). */
  readonly timeLeft: () => number;
  /** No copy starts with less than this left. @default 120000 */
  readonly startMarginMs?: number;
  /** Copies still running with less than this left are cut off, so the step can end in time. @default 45000 */
  readonly stopMarginMs?: number;
  /** The length of a whole invocation. @default 900000 (Lambda's 15 minutes) */
  readonly invocationMs?: number;
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

const MIN_SAMPLE_MS = 1000;
const MIN_SAMPLE_BYTES = 64 * 1024;

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
  const bound = options.bound;
  const startMargin = bound?.startMarginMs ?? 120_000;
  const stopMargin = bound?.stopMarginMs ?? 45_000;
  const invocation = bound?.invocationMs ?? 900_000;
  const t0 = bound?.timeLeft() ?? 0;
  let moved = 0;
  const outcomes: CopyOutcome[] = items.map(() => ({ kind: 'not-started' }));
  const inFlight = new Map<number, { size: number; done: number; ac: AbortController; cut: boolean }>();
  const running = new Set<Promise<void>>();

  const rate = (): number | undefined => {
    const elapsed = t0 - (bound?.timeLeft() ?? t0);
    if (elapsed >= MIN_SAMPLE_MS && moved >= MIN_SAMPLE_BYTES) return moved / elapsed;
    return bound?.bytesPerMs;
  };
  const cutOff = (): void => {
    if (!bound || bound.timeLeft() >= stopMargin) return;
    for (const f of inFlight.values()) {
      f.cut = true;
      f.ac.abort();
    }
  };
  const fits = (size: number): boolean => {
    if (!bound) return true;
    const left = bound.timeLeft();
    if (left < startMargin) return false;
    const r = rate();
    const pending = [...inFlight.values()].reduce((sum, f) => sum + Math.max(0, f.size - f.done), 0);
    if (r === undefined) return inFlight.size === 0;
    if ((pending + size) / r <= left - stopMargin) return true;
    // Nothing in flight and a fresh invocation: this is the most time the copy can ever get.
    return inFlight.size === 0 && left >= invocation - startMargin;
  };
  const watchdog = bound ? setInterval(cutOff, 250) : undefined;
  watchdog?.unref();

  const start = (i: number, item: PlannedAsset): void => {
    const f = { size: item.asset.bytes, done: 0, ac: new AbortController(), cut: false };
    inFlight.set(i, f);
    const p = options
      .copy(item, f.ac.signal, (n) => {
        f.done += n;
        moved += n;
        cutOff();
      })
      .then(
        (sha256) => {
          outcomes[i] = { kind: 'copied', sha256 };
        },
        (err: unknown) => {
          const error = messageOf(err);
          if (f.cut) outcomes[i] = { kind: 'interrupted' };
          else if ((err as Error | undefined)?.name === 'AssetNotReadyError') outcomes[i] = { kind: 'pending', error };
          else outcomes[i] = { kind: 'failed', error };
        },
      )
      .finally(() => {
        inFlight.delete(i);
        running.delete(p);
      });
    running.add(p);
  };

  try {
    for (let i = 0; i < items.length; i += 1) {
      const item = items[i] as PlannedAsset;
      while (running.size >= Math.max(1, options.concurrency)) await Promise.race(running);
      while (!options.stopped() && !fits(item.asset.bytes) && running.size > 0) await Promise.race(running);
      if (options.stopped() || !fits(item.asset.bytes)) break;
      start(i, item);
    }
    await Promise.all(running);
  } finally {
    if (watchdog) clearInterval(watchdog);
  }
  return { outcomes, bytesPerMs: rate() };
};
