import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { messageOf } from '../core/errors.ts';
import { ExactLengthStream } from './exact-length.ts';

/** An opened input: a stream and the exact number of bytes it must deliver. */
export interface OpenedInput {
  readonly body: Readable;
  readonly length: number;
}

/** One transfer, tried up to `attempts` times, each with a fresh input. */
export interface TransferSpec {
  /** Opens the input afresh (a half-read stream cannot be replayed). */
  open(signal: AbortSignal): Promise<OpenedInput>;
  /**
   * Writes the checked stream; must reject (and store nothing) when the stream errors. Resolves
   * with 'unread' when it decided to store nothing without reading the stream (the target already
   * has the object): the transfer then ends without a checksum.
   */
  write(body: ExactLengthStream, length: number, signal: AbortSignal): Promise<void | 'unread'>;
  /** @default 3 */
  readonly attempts?: number;
  /** Pause before a retry, multiplied by the attempt number. @default 500 */
  readonly retryDelayMs?: number;
  /** A read with no byte for this long fails. @default 60000 */
  readonly idleTimeoutMs?: number;
  /** The sha256 the bytes must have (restore: the one recorded at backup time). */
  readonly expectedSha256?: string;
  /** Called with every chunk's size as it passes. */
  onBytes?(n: number): void;
  /** Whether another try is allowed (the byte budget); called before each retry. */
  mayRetry?(): boolean;
  /** Errors not worth another try (a refused credential, an asset that changed). */
  isFinal?(err: unknown): boolean;
  /** Aborts the transfer in progress and prevents any further try. */
  readonly signal?: AbortSignal;
}

/**
 * The one retrying transfer of backup and restore: open, check (exact length, idle timeout,
 * sha256), write; on failure abort both sides and try again with a fresh input. Resolves with
 * the sha256 of the bytes written. Rejects with the most telling error: the input's own failure
 * explains more than the writer's reaction to it.
 */
export const transferWithRetry = async (spec: TransferSpec): Promise<string | undefined> => {
  const attempts = Math.max(1, spec.attempts ?? 3);
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    if (spec.signal?.aborted) throw spec.signal.reason;
    const ac = new AbortController();
    const onOuterAbort = (): void => ac.abort();
    spec.signal?.addEventListener('abort', onOuterAbort, { once: true });
    let input: OpenedInput | undefined;
    let check: ExactLengthStream | undefined;
    try {
      input = await spec.open(ac.signal);
      const opened = input;
      const v = new ExactLengthStream(opened.length, spec.idleTimeoutMs ?? 60_000, (n) => spec.onBytes?.(n), spec.expectedSha256);
      check = v;
      // Node says only "aborted" when a server closes mid-body: say how far the read got.
      opened.body.on('error', (e) => v.destroy(new Error(`download broke off after ${v.bytes} of ${opened.length} bytes (${messageOf(e)})`, { cause: e })));
      v.on('error', () => opened.body.destroy());
      opened.body.pipe(v);
      if ((await spec.write(v, opened.length, ac.signal)) === 'unread') {
        opened.body.destroy();
        return undefined;
      }
      if (v.sha256 === undefined) throw new Error('the write finished before the read did');
      return v.sha256;
    } catch (err) {
      ac.abort();
      input?.body.destroy();
      lastError = spec.signal?.aborted ? spec.signal.reason : (check?.errored ?? err);
      if (spec.signal?.aborted || spec.isFinal?.(err) || spec.isFinal?.(lastError)) break;
      if (attempt < attempts && spec.mayRetry && !spec.mayRetry()) {
        lastError = new Error(`${messageOf(lastError)}; not retried: the byte budget of this run is spent`, { cause: lastError });
        break;
      }
      if (attempt < attempts) await sleep((spec.retryDelayMs ?? 500) * attempt);
    } finally {
      spec.signal?.removeEventListener('abort', onOuterAbort);
    }
  }
  throw lastError;
};
