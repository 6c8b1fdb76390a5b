/**
 * ExactLengthStream (lambda/transfer/exact-length.ts): passes bytes through, counting and hashing
 * them; errors when the input ends short, runs long, or stalls for idleMs. This is what makes
 * a truncated object impossible (docs/failures.md).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { LengthMismatchError } from '../../lambda/core/errors.ts';
import { ExactLengthStream, IdleTimeoutError } from '../../lambda/transfer/exact-length.ts';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Pipes chunks through an ExactLengthStream; resolves with the output or rejects with its error. */
const run = async (chunks: readonly Buffer[], expected: number, idleMs = 5_000) => {
  const s = new ExactLengthStream(expected, idleMs);
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(chunk);
      done();
    },
  });
  await pipeline(Readable.from(chunks), s, sink);
  return { stream: s, output: Buffer.concat(out) };
};

const b = (s: string): Buffer => Buffer.from(s, 'utf8');
const random = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 2654435761) % 251));

describe('exact length passes, with the sha256 of the bytes', () => {
  const cases: ReadonlyArray<readonly [string, Buffer[]]> = [
    ['empty', []],
    ['one chunk', [b('hello')]],
    ['several chunks', [b('abc'), b('def'), b('g')]],
    ['an empty chunk among others', [b('ab'), Buffer.alloc(0), b('cd')]],
    ['1 MiB in 64 KiB chunks', Array.from({ length: 16 }, () => random(65_536))],
    ['multi-byte UTF-8', [b('日本語 😀')]],
  ];
  for (const [name, chunks] of cases) {
    test(name, async () => {
      const all = Buffer.concat(chunks);
      const { stream, output } = await run(chunks, all.length);
      assert.ok(output.equals(all), 'bytes pass through unchanged');
      assert.equal(stream.bytes, all.length);
      assert.equal(stream.sha256, sha256(all));
    });
  }
});

describe('a wrong length errors', () => {
  const cases: ReadonlyArray<{ name: string; chunks: Buffer[]; expected: number; direction: 'short' | 'long'; actualAtLeast: number }> = [
    { name: 'nothing when 1 byte is expected', chunks: [], expected: 1, direction: 'short', actualAtLeast: 0 },
    { name: '3 of 6 bytes', chunks: [b('abc')], expected: 6, direction: 'short', actualAtLeast: 3 },
    { name: 'one byte short', chunks: [b('abc'), b('de')], expected: 6, direction: 'short', actualAtLeast: 5 },
    { name: 'one byte long, one chunk', chunks: [b('abcdefg')], expected: 6, direction: 'long', actualAtLeast: 7 },
    { name: 'one byte long, over two chunks', chunks: [b('abc'), b('defg')], expected: 6, direction: 'long', actualAtLeast: 7 },
    { name: 'anything when 0 bytes are expected', chunks: [b('x')], expected: 0, direction: 'long', actualAtLeast: 1 },
    { name: 'a long tail after exact length', chunks: [b('abcdef'), b('x'.repeat(1000))], expected: 6, direction: 'long', actualAtLeast: 7 },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const s = new ExactLengthStream(c.expected, 5_000);
      const sink = new Writable({ write: (_c, _e, done) => done() });
      await assert.rejects(pipeline(Readable.from(c.chunks), s, sink), (err: unknown) => {
        assert.ok(err instanceof LengthMismatchError, String(err));
        assert.equal(err.direction, c.direction);
        assert.equal(err.expected, c.expected);
        assert.ok(err.actual >= c.actualAtLeast);
        if (c.direction === 'short') assert.equal(err.actual, c.actualAtLeast);
        return true;
      });
      assert.equal(s.sha256, undefined, 'no digest for a wrong length');
    });
  }
});

/**
 * A real download holds an open socket, which keeps the event loop alive while it stalls; these
 * tests have none, and the stream's timer is unref'd, so a ref'd interval stands in for it.
 */
const keepAlive = (): (() => void) => {
  const t = setInterval(() => undefined, 1_000);
  return () => clearInterval(t);
};

describe('idle timeout', () => {
  const cases: ReadonlyArray<readonly [string, Buffer[]]> = [
    ['no byte at all', []],
    ['some bytes, then silence', [b('abc')]],
  ];
  for (const [name, first] of cases) {
    test(`${name} (idleMs 50) -> IdleTimeoutError`, async () => {
      const release = keepAlive();
      const source = new PassThrough();
      const s = new ExactLengthStream(100, 50);
      const sink = new Writable({ write: (_c, _e, done) => done() });
      const started = Date.now();
      const done = pipeline(source, s, sink);
      for (const chunk of first) source.write(chunk);
      await assert.rejects(done, (err: unknown) => err instanceof IdleTimeoutError && err.idleMs === 50);
      const took = Date.now() - started;
      release();
      assert.ok(took >= 40 && took < 2_000, `errored after ${took} ms`);
      source.destroy();
    });
  }

  test('bytes arriving more often than idleMs keep it alive past idleMs', async () => {
    const source = new PassThrough();
    const s = new ExactLengthStream(6, 200);
    const sink = new Writable({ write: (_c, _e, done) => done() });
    const done = pipeline(source, s, sink);
    for (const ch of 'abcdef') {
      await sleep(50);
      source.write(b(ch));
    }
    source.end();
    await done; // 300 ms in all, never 200 ms without a byte
    assert.equal(s.sha256, sha256(b('abcdef')));
  });

  test('a consumer slower than idleMs is not a stalled download', async () => {
    // The source has every byte ready; only the consumer (an S3 part upload, say) pauses.
    const data = random(1 << 20);
    const chunks = Array.from({ length: 16 }, (_, i) => data.subarray(i * 65_536, (i + 1) * 65_536));
    const s = new ExactLengthStream(data.length, 100);
    let first = true;
    const out: Buffer[] = [];
    const slowSink = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _enc, cb) {
        out.push(chunk);
        if (first) {
          first = false;
          setTimeout(cb, 400);
        } else {
          cb();
        }
      },
    });
    await pipeline(Readable.from(chunks), s, slowSink);
    assert.ok(Buffer.concat(out).equals(data));
    assert.equal(s.sha256, sha256(data));
  });
});
