import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';

/**
 * The smallest chunk sent (but the last). S3 refuses aws-chunked chunks under 8 KiB but the last
 * (InvalidChunkSizeError; aws/aws-sdk-js-v3#6859); the SDK joins a stream's reads into 64 KiB
 * chunks (requestStreamBufferSize, see client.ts), and so does this encoder.
 */
export const MIN_AWS_CHUNK = 64 * 1024;

const CRLF = Buffer.from('\r\n');

/**
 * Frames a body as `aws-chunked` with one trailing checksum header, the encoding of
 * `x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER` ("Signature calculations for
 * trailing headers (chunked uploads)",
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html, and
 * "Transferring Payload in Multiple Chunks", sigv4-streaming.html): each chunk is
 * `<hex size>\r\n<bytes>\r\n` with no chunk signature (the payload is unsigned), then
 * `0\r\n`, the trailer `<name>:<value>\r\n` and a closing `\r\n`. The SDK's own encoder is
 * @smithy/core serde getAwsChunkedEncodingStream.
 *
 * `trailerValue` is read when the input has ended, so it may be a digest computed while the
 * bytes passed (the length check's sha256): S3 then checks every byte at no extra hashing cost.
 * The input's bytes are passed on as they are (no copy); reads under MIN_AWS_CHUNK are held until
 * enough have come.
 */
export class AwsChunkedEncoder extends Transform {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private total = 0;

  constructor(
    /** x-amz-decoded-content-length: a body of another length fails here, before the last chunk. */
    private readonly length: number,
    private readonly trailerName: string,
    private readonly trailerValue: () => string | undefined,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.total += chunk.length;
    if (this.total > this.length) {
      done(new Error(`the body is longer than its ${this.length} bytes (nothing was stored)`));
      return;
    }
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes >= MIN_AWS_CHUNK) this.emitHeld();
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.total !== this.length) {
      done(new Error(`the body ended after ${this.total} of its ${this.length} bytes (nothing was stored)`));
      return;
    }
    if (this.heldBytes > 0) this.emitHeld();
    const value = this.trailerValue();
    if (value === undefined) {
      done(new Error(`the body ended without its ${this.trailerName} (nothing was stored)`));
      return;
    }
    this.push(`0\r\n${this.trailerName}:${value}\r\n\r\n`);
    done();
  }

  private emitHeld(): void {
    this.push(`${this.heldBytes.toString(16)}\r\n`);
    for (const b of this.held) this.push(b);
    this.push(CRLF);
    this.held = [];
    this.heldBytes = 0;
  }
}
