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
  /**
   * The input's length when it is known before opening (a backup: Cloudinary listed it). The
   * write then starts while the input opens, on a check stream whose `opened` tells it when the
   * bytes come (the upload's request is ready when the download answers, as a plain GET
   * piped into a PUT has it; at one copy in flight that setup was ~0.3-0.4 ms per file after the
   * download's answer). An input of another length fails the try.
   */
  readonly length?: number;
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

/** The check (exact length, idle timeout, sha256) a try's bytes pass through. */
const checkOf = (spec: TransferSpec, length: number, options?: { readonly inputPending?: boolean }): ExactLengthStream =>
  new ExactLengthStream(length, spec.idleTimeoutMs ?? 60_000, (n) => spec.onBytes?.(n), spec.expectedSha256, options);

/** Pipes an opened input into its check; a body that breaks off says how far the read got. */
const connect = (input: OpenedInput, v: ExactLengthStream): void => {
  // Node says only "aborted" when a server closes mid-body: say how far the read got.
  input.body.on('error', (e) => v.destroy(new Error(`download broke off after ${v.bytes} of ${input.length} bytes (${messageOf(e)})`, { cause: e })));
  v.on('error', () => input.body.destroy());
  input.body.pipe(v);
};

/**
 * Opens the input and starts the write on `v` meanwhile; resolves with the opened input (piped
 * into `v`) and the write in progress. When the open fails, `v` is destroyed with its error (the
 * writer, waiting for `v.opened`, has sent nothing) and the write is awaited before the error
 * goes on. When the write fails first, the open is aborted and the write's error goes on.
 */
const openWhileWriting = async (
  spec: TransferSpec,
  length: number,
  v: ExactLengthStream,
  ac: AbortController,
): Promise<OpenedInput & { writing: Promise<void | 'unread'> }> => {
  let writeError: { err: unknown } | undefined;
  // The download's request goes first; the upload's setup then runs while it is in flight.
  const opening = spec.open(ac.signal);
  const writing = spec.write(v, length, ac.signal);
  writing.catch((err: unknown) => {
    writeError = { err };
    ac.abort();
  });
  let input: OpenedInput;
  try {
    input = await opening;
  } catch (err) {
    const reason = writeError ? writeError.err : err;
    if (!v.destroyed) v.destroy(reason instanceof Error ? reason : new Error(messageOf(reason)));
    await writing.catch(() => undefined);
    throw reason;
  }
  if (input.length !== length) {
    input.body.destroy();
    const err = new Error(`the input has ${input.length} bytes, ${length} were expected`);
    v.destroy(err);
    await writing.catch(() => undefined);
    throw err;
  }
  connect(input, v);
  v.inputOpened();
  return { ...input, writing };
};

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
      let v: ExactLengthStream;
      let written: void | 'unread';
      if (spec.length === undefined) {
        input = await spec.open(ac.signal);
        v = check = checkOf(spec, input.length);
        connect(input, v);
        written = await spec.write(v, input.length, ac.signal);
      } else {
        v = check = checkOf(spec, spec.length, { inputPending: true });
        // Destroyed with the open's error before anything reads it: `errored` keeps that error.
        v.on('error', () => undefined);
        const opened = await openWhileWriting(spec, spec.length, v, ac);
        input = opened;
        written = await opened.writing;
      }
      if (written === 'unread') {
        input.body.destroy();
        return undefined;
      }
      // A write that resolved before the check stream ended (its consumer stopped early) stored
      // less than the input delivered: the checksum of the input is not the checksum of a copy.
      if (v.sha256 === undefined || !v.readableEnded) throw new Error('the write finished before the read did');
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
