/**
 * ExactLengthStream (lambda/transfer/exact-length.ts) passes each chunk on before hashing it
 * (at one copy in flight the PUT's socket then has the bytes while the hash runs), and its
 * sha256 stays the sha256 of every byte, in order, the held-back last byte included.
 *
 * What the first test relies on in Node's streams (lib/internal/streams/readable.js addChunk,
 * Node 20): push() to a flowing reader with nothing buffered emits 'data' synchronously, so the
 * consumer's write runs inside push().
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Hash, createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { once } from 'node:events';
import { ExactLengthStream } from '../../lambda/transfer/exact-length.ts';

const chunkOf = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) % 256));

describe('ExactLengthStream: pass on, then hash', () => {
  test('a flowing consumer has each chunk before the hash sees it', async () => {
    const events: string[] = [];
    const update = Hash.prototype.update;
    // Records every hash update by size (each chunk below has its own size).
    Hash.prototype.update = function (this: Hash, data: Parameters<Hash['update']>[0], ...rest: unknown[]) {
      events.push(`hash ${(data as unknown as Buffer).length}`);
      return (update as (...a: unknown[]) => Hash).call(this, data, ...rest);
    } as Hash['update'];
    try {
      const chunks = [chunkOf(1000, 1), chunkOf(2000, 2), chunkOf(3000, 3)];
      const total = chunks.reduce((a, c) => a + c.length, 0);
      const s = new ExactLengthStream(total, 5_000);
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          events.push(`write ${chunk.length}`);
          done();
        },
      });
      s.pipe(sink);
      for (const c of chunks) s.write(c);
      s.end();
      await once(sink, 'finish');
      // The last chunk's last byte is held back until the input has ended (the class comment).
      assert.deepEqual(events, ['write 1000', 'hash 1000', 'write 2000', 'hash 2000', 'write 2999', 'hash 3000', 'write 1']);
    } finally {
      Hash.prototype.update = update;
    }
  });

  test('the sha256 is of every byte in order, the held-back last one included, when chunks queued behind a slow consumer', async () => {
    const chunks = Array.from({ length: 40 }, (_, i) => chunkOf(4096 + i, i));
    const all = Buffer.concat(chunks);
    const s = new ExactLengthStream(all.length, 5_000);
    const got: Buffer[] = [];
    // A consumer that takes one chunk per turn of the event loop: the stream's buffers fill, the
    // writes below queue, and are then handed to _transform back to back.
    const sink = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _enc, done) {
        got.push(chunk);
        setImmediate(done);
      },
    });
    s.pipe(sink);
    for (const c of chunks) s.write(c);
    s.end();
    await once(sink, 'finish');
    assert.ok(Buffer.concat(got).equals(all), 'bytes pass through in order');
    assert.equal(s.sha256, createHash('sha256').update(all).digest('hex'));
  });
});
