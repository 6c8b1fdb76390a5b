/**
 * Review finding: a body longer than listed must not complete a write with its first N bytes.
 * An HTTP PUT with `Content-Length: N` completes as soon as the server has N bytes (RFC 9110
 * §8.6: Content-Length delimits the message body; S3 PutObject's ContentLength, API reference),
 * and the last part of a chunked upload is sent once the bytes before it are in. The consumers
 * below do exactly that: they commit the moment they hold `length` bytes. ExactLengthStream must
 * hold the last byte back until its input has ended and every check passed.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ExactLengthStream } from '../../lambda/transfer/exact-length.ts';

/** A writer that commits (as a PUT with Content-Length does) as soon as it holds `length` bytes. */
class CommitsAtLength extends Writable {
  committed: Buffer | undefined;
  private readonly got: Buffer[] = [];
  private n = 0;
  constructor(private readonly length: number) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    this.got.push(chunk);
    this.n += chunk.length;
    if (this.n >= this.length && !this.committed) this.committed = Buffer.concat(this.got).subarray(0, this.length);
    // A server answers after a pause; the client's next chunk (or error) comes in between.
    setImmediate(() => done());
  }
}

const fill = (n: number, v: number): Buffer => Buffer.alloc(n, v);

/** A download: each chunk arrives after the consumer had time to take the one before. */
const network = (chunks: readonly Buffer[]): Readable =>
  Readable.from(
    (async function* () {
      for (const c of chunks) {
        yield c;
        await new Promise((r) => setTimeout(r, 10));
      }
    })(),
  );

describe('a body longer than listed, the chunk boundary exactly at N', () => {
  const cases: ReadonlyArray<readonly [string, number, Buffer[]]> = [
    ['single PUT: N bytes then 1 more', 10, [fill(10, 1), fill(1, 2)]],
    ['single PUT: N bytes then many more', 10, [fill(10, 1), fill(100, 2)]],
    ['chunked: parts of 4, boundary at N = 12', 12, [fill(4, 1), fill(4, 2), fill(4, 3), fill(4, 4)]],
    ['one byte long, N = 1', 1, [fill(1, 1), fill(1, 2)]],
  ];
  for (const [name, n, chunks] of cases) {
    test(`${name}: the write never completes`, async () => {
      const sink = new CommitsAtLength(n);
      await assert.rejects(pipeline(network(chunks), new ExactLengthStream(n, 5_000), sink), { name: 'LengthMismatchError' });
      assert.equal(sink.committed, undefined, 'no write completed with the first N bytes');
    });
  }

  test('exactly N bytes with the wrong sha256: the write never completes', async () => {
    const sink = new CommitsAtLength(8);
    await assert.rejects(pipeline(network([fill(4, 1), fill(4, 2)]), new ExactLengthStream(8, 5_000, undefined, 'ab'.repeat(32)), sink), {
      name: 'ChecksumMismatchError',
    });
    assert.equal(sink.committed, undefined);
  });

  test('exactly N bytes: the write completes with every byte', async () => {
    const chunks = [fill(4, 1), fill(4, 2)];
    const sha = createHash('sha256').update(Buffer.concat(chunks)).digest('hex');
    const sink = new CommitsAtLength(8);
    const guard = new ExactLengthStream(8, 5_000, undefined, sha);
    await pipeline(network(chunks), guard, sink);
    assert.deepEqual(sink.committed, Buffer.concat(chunks));
    assert.equal(guard.sha256, sha);
  });
});
