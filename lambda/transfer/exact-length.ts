import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { LengthMismatchError } from '../core/errors.ts';

/** Raised when no byte arrived for the idle timeout. */
export class IdleTimeoutError extends Error {
  override readonly name = 'IdleTimeoutError';
  constructor(readonly idleMs: number) {
    super(`no data for ${idleMs >= 1000 ? `${Math.round(idleMs / 1000)} s` : `${idleMs} ms`} (download stalled)`);
  }
}

/** The recorded sha256 did not match the bytes read: the source is damaged. */
export class ChecksumMismatchError extends Error {
  override readonly name = 'ChecksumMismatchError';
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`the bytes read have sha256 ${actual}, not the ${expected} recorded at backup time: the copy is damaged`);
  }
}

/**
 * Passes bytes through while counting and hashing them. It errors — so whatever consumes it
 * aborts instead of completing — when more bytes than expected arrive, when the input ends
 * short, when no byte arrives for `idleMs`, or (with `expectedSha256`) when the bytes are not the
 * ones recorded. This is what makes a truncated or damaged object impossible.
 *
 * The last byte is held back until the input has ended and every check passed: a consumer that
 * completes as soon as it has `expected` bytes (a PUT with that Content-Length, the last chunk of
 * a chunked upload) cannot complete on a body that turns out longer or damaged.
 */
export class ExactLengthStream extends Transform {
  private count = 0;
  private readonly hash = createHash('sha256');
  private timer: NodeJS.Timeout | undefined;
  private digest: string | undefined;

  /** The last byte, held back until the input ends (see the class comment). */
  private held: Buffer | undefined;

  /** False while the input is still being opened (see `opened`): no idle timer runs then. */
  private inputOpen: boolean;
  private markOpened: (() => void) | undefined;
  private markNotOpened: ((err: Error) => void) | undefined;

  /**
   * Resolves once the input is open and its bytes are about to flow; rejects when this stream is
   * destroyed before. A writer may prepare its request meanwhile but sends nothing before it: an
   * input that fails to open then costs the destination nothing (transfer/retrying.ts).
   */
  readonly opened: Promise<void>;

  constructor(
    readonly expected: number,
    private readonly idleMs: number,
    private readonly onChunk?: (bytes: number) => void,
    private readonly expectedSha256?: string,
    /** `inputPending`: made before its input is open; `inputOpened()` says when it is. */
    options: { readonly inputPending?: boolean } = {},
  ) {
    super();
    this.inputOpen = options.inputPending !== true;
    this.opened = this.inputOpen
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          this.markOpened = resolve;
          this.markNotOpened = reject;
        });
    // Handled here so that a writer that does not wait for it leaves no unhandled rejection.
    this.opened.catch(() => undefined);
    this.arm();
  }

  /** The input is open (see `opened`): its bytes may flow, and the idle timer starts. */
  inputOpened(): void {
    if (this.inputOpen) return;
    this.inputOpen = true;
    this.markOpened?.();
    this.arm();
  }

  /** Bytes seen so far. */
  get bytes(): number {
    return this.count;
  }

  /** The sha256 (hex) of all bytes, once the stream has ended cleanly. */
  get sha256(): string | undefined {
    return this.digest;
  }

  private flushed = false;

  /**
   * Starts (again) the wait for the next byte; only while the consumer wants more. A running
   * timer is restarted with refresh() rather than replaced: this runs for every chunk, and a
   * new Timeout per chunk was a measurable share of the copy's CPU.
   */
  private arm(): void {
    if (this.idleMs <= 0 || this.flushed || !this.inputOpen) return;
    if (this.timer) {
      this.timer.refresh();
      return;
    }
    this.timer = setTimeout(() => {
      this.destroy(new IdleTimeoutError(this.idleMs));
    }, this.idleMs);
    this.timer.unref?.();
  }

  /** Stops the wait (the consumer is busy, or the input ended). */
  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.count += chunk.length;
    if (this.count > this.expected) {
      done(new LengthMismatchError(this.expected, this.count, 'long'));
      return;
    }
    this.onChunk?.(chunk.length);
    const whole = chunk;
    if (this.count === this.expected && chunk.length > 0) {
      this.held = chunk.subarray(chunk.length - 1);
      chunk = chunk.subarray(0, chunk.length - 1);
    }
    // The bytes go on before they are hashed: a flowing consumer (the PUT's socket) has them
    // while the hash runs, instead of ~45 µs per 64 KiB later. At one copy in flight this thread
    // is the link every byte passes through (per-file timeline in test/bench/README.md).
    // Hashed before done(): done() is what hands this stream its next queued chunk (Writable's
    // onwrite), so the hash sees the chunks in order without relying on how Node re-enters here.
    this.push(chunk);
    this.hash.update(whole);
    done();
    // A consumer that is busy (an S3 part in flight) is not a stalled download: the timer
    // runs again only when the consumer asks for more (see _read).
    if (this.readableLength < this.readableHighWaterMark) this.arm();
    else this.disarm();
  }

  override _read(size: number): void {
    this.arm();
    super._read(size);
  }

  override _flush(done: TransformCallback): void {
    this.flushed = true;
    this.disarm();
    if (this.count !== this.expected) {
      done(new LengthMismatchError(this.expected, this.count, 'short'));
      return;
    }
    const digest = this.hash.digest('hex');
    if (this.expectedSha256 !== undefined && digest !== this.expectedSha256) {
      done(new ChecksumMismatchError(this.expectedSha256, digest));
      return;
    }
    this.digest = digest;
    if (this.held) this.push(this.held);
    done();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.disarm();
    this.markNotOpened?.(err ?? new Error('the input was closed before it opened'));
    cb(err);
  }
}
