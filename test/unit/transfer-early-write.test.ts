/**
 * transferWithRetry (lambda/transfer/retrying.ts) with the input's length known ahead (a backup:
 * Cloudinary listed it): the write starts while the input opens, on a check stream whose `opened`
 * says when the bytes come (1 in flight: the upload's setup was ~0.3-0.4 ms per file
 * after the download answered). What must not change: an input that fails to open stores and
 * sends nothing and its error is the one reported; a write that fails meanwhile stops the open;
 * the idle timeout counts only once bytes can flow; the sha256 is of the bytes written.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ExactLengthStream } from '../../lambda/transfer/exact-length.ts';
import { transferWithRetry } from '../../lambda/transfer/retrying.ts';

const data = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) % 256));
const sha = createHash('sha256').update(data).digest('hex');

/** A promise and its resolve/reject, settled by the test. */
const deferred = <T>() => {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

/** A writer as a destination behaves: waits for `opened`, then reads the whole body. */
const reader = (log: string[]) => async (body: ExactLengthStream): Promise<void> => {
  log.push('write called');
  await body.opened;
  log.push('opened');
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  log.push(`read ${Buffer.concat(chunks).length}`);
};

// A hang is these tests' failure mode: each gets a bound.
describe('transferWithRetry: the write starts while the input opens', { timeout: 10_000 }, () => {
  test('the write is under way before the input has opened, and gets every byte', async () => {
    const log: string[] = [];
    const open = deferred<{ body: Readable; length: number }>();
    const done = transferWithRetry({
      length: data.length,
      open: async () => {
        log.push('open called');
        return open.promise;
      },
      write: reader(log),
      attempts: 1,
    });
    await new Promise((r) => setImmediate(r));
    // The download's request first, then the upload's setup while it is in flight.
    assert.deepEqual(log, ['open called', 'write called'], 'the write did not start before the input opened');
    open.resolve({ body: Readable.from([data.subarray(0, 40_000), data.subarray(40_000)]), length: data.length });
    assert.equal(await done, sha);
    assert.deepEqual(log, ['open called', 'write called', 'opened', `read ${data.length}`]);
  });

  test('an input that fails to open: the writer is told (opened rejects), reads nothing, and the open error is reported', async () => {
    const log: string[] = [];
    const openError = new Error('HTTP 404 from the download');
    let openedRejected: unknown;
    await assert.rejects(
      transferWithRetry({
        length: data.length,
        open: async () => {
          await new Promise((r) => setTimeout(r, 20));
          throw openError;
        },
        write: async (body) => {
          log.push('write called');
          await body.opened.catch((e: unknown) => {
            openedRejected = e;
            throw e;
          });
          log.push('read');
        },
        attempts: 1,
      }),
      (err) => err === openError,
    );
    assert.equal(openedRejected, openError);
    assert.deepEqual(log, ['write called']);
  });

  test('no idle timeout while the input opens: the timer starts with the bytes', async () => {
    const log: string[] = [];
    const sum = await transferWithRetry({
      length: data.length,
      idleTimeoutMs: 50,
      open: async () => {
        await new Promise((r) => setTimeout(r, 250));
        return { body: Readable.from([data]), length: data.length };
      },
      write: reader(log),
      attempts: 1,
    });
    assert.equal(sum, sha);
  });

  test('a write that fails while the input opens stops the open, and its error is reported', async () => {
    const writeError = new Error('403 AccessDenied');
    let openAborted = false;
    await assert.rejects(
      transferWithRetry({
        length: data.length,
        open: (signal) =>
          new Promise((_resolve, reject) => {
            // An open that would never answer: only the abort ends it.
            signal.addEventListener('abort', () => {
              openAborted = true;
              reject(new Error('aborted'));
            });
          }),
        write: async () => {
          throw writeError;
        },
        attempts: 1,
      }),
      (err) => err === writeError,
    );
    assert.ok(openAborted);
  });

  test('an input of another length than the one expected fails the try, the writer reading nothing', async () => {
    const log: string[] = [];
    await assert.rejects(
      transferWithRetry({
        length: data.length,
        open: async () => ({ body: Readable.from([data.subarray(1)]), length: data.length - 1 }),
        write: reader(log),
        attempts: 1,
      }),
      /99999 bytes, 100000 were expected/,
    );
    assert.deepEqual(log, ['write called']);
  });
});
