/**
 * The retrying transfer (lambda/transfer/retrying.ts) and its check stream
 * (lambda/transfer/exact-length.ts), as the report and the budget see them. Rules:
 * - Every byte read is counted (onBytes): the run's byte budget and its report's bytesDownloaded
 *   rest on it.
 * - A download that breaks off fails the try with how far it got; it never hangs until the idle
 *   timeout, and never completes a write.
 * - A download that stalls after its input opened (the backup's early-write path) fails with the
 *   idle timeout; once the bytes have all passed, no timer fires any more.
 * - A spent byte budget stops retries and says so; without a retry to refuse, the budget is not
 *   asked and the error is the input's own. Retries wait longer each time.
 * - A transfer leaves no listener on the run's abort signal.
 * - Error messages say what happened in units a person reads.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, test } from 'node:test';
import { PassThrough, Readable } from 'node:stream';
import type { ExactLengthStream } from '../../lambda/transfer/exact-length.ts';
import { ChecksumMismatchError, ExactLengthStream as Check, IdleTimeoutError } from '../../lambda/transfer/exact-length.ts';
import { transferWithRetry } from '../../lambda/transfer/retrying.ts';

const data = Buffer.from('0123456789abcdefghijklmnopqrstu'); // 31 bytes

/** A writer as a destination behaves: waits for the input, reads every byte. */
const drain = async (body: ExactLengthStream): Promise<void> => {
  await body.opened;
  for await (const _chunk of body);
};

/**
 * A real download holds a socket that keeps the event loop alive while it stalls; this stands in,
 * for three seconds at most (a transfer that never ends fails its test instead of hanging the run).
 */
const keepAlive = (): (() => void) => {
  const t = setTimeout(() => undefined, 3_000);
  return () => clearTimeout(t);
};

const ways = [
  ['length known before the open', { length: data.length }],
  ['length from the open', {}],
] as const;

describe('the transfer, as the budget and the report see it', { timeout: 5_000 }, () => {
  for (const [name, known] of ways) {
    test(`${name}: every byte read is counted`, async () => {
      let counted = 0;
      await transferWithRetry({
        ...known,
        open: async () => ({ body: Readable.from([data.subarray(0, 7), data.subarray(7, 20), data.subarray(20)]), length: data.length }),
        write: drain,
        onBytes: (n) => (counted += n),
        attempts: 1,
      });
      assert.equal(counted, data.length);
    });

    test(`${name}: a download that breaks off fails at once, saying how far it got`, async () => {
      const release = keepAlive();
      try {
        const started = Date.now();
        await assert.rejects(
          transferWithRetry({
            ...known,
            open: async () => {
              const body = new PassThrough();
              body.write(data.subarray(0, 10));
              setTimeout(() => body.destroy(new Error('socket hang up')), 20);
              return { body, length: data.length };
            },
            write: drain,
            idleTimeoutMs: 5_000,
            attempts: 1,
          }),
          /download broke off after 10 of 31 bytes \(socket hang up\)/,
        );
        assert.ok(Date.now() - started < 4_000, 'it waited for the idle timeout');
      } finally {
        release();
      }
    });

    test(`${name}: a download that stalls after it opened fails with the idle timeout`, async () => {
      const release = keepAlive();
      try {
        await assert.rejects(
          transferWithRetry({
            ...known,
            open: async () => {
              const body = new PassThrough();
              body.write(data.subarray(0, 5)); // then nothing
              return { body, length: data.length };
            },
            write: drain,
            idleTimeoutMs: 60,
            attempts: 1,
          }),
          (err: unknown) => err instanceof IdleTimeoutError,
        );
      } finally {
        release();
      }
    });
  }

  test('once every byte has passed, the idle timer never fires', async () => {
    const check = new Check(data.length, 30);
    const errors: unknown[] = [];
    check.on('error', (e) => errors.push(e));
    const out: Buffer[] = [];
    Readable.from([data]).pipe(check);
    for await (const c of check) out.push(c as Buffer);
    await new Promise((r) => setTimeout(r, 120));
    assert.deepEqual(errors, []);
    assert.ok(Buffer.concat(out).equals(data));
  });
});

describe('retries and the byte budget', { timeout: 10_000 }, () => {
  const failing = () => {
    let opens = 0;
    return {
      get opens() {
        return opens;
      },
      open: async () => {
        opens += 1;
        return { body: Readable.from([data.subarray(0, 10)]), length: data.length };
      },
    };
  };

  test('a spent budget stops the retries and says so', async () => {
    const input = failing();
    let asked = 0;
    await assert.rejects(
      transferWithRetry({ open: input.open, write: drain, attempts: 3, retryDelayMs: 0, mayRetry: () => (asked += 1) < 0 }),
      (err: unknown) => err instanceof Error && /; not retried: the byte budget of this run is spent$/.test(err.message) && err.cause !== undefined,
    );
    assert.equal(input.opens, 1);
    assert.equal(asked, 1);
  });

  test('the last try asks no budget, and its error is the input\'s own', async () => {
    const input = failing();
    let asked = 0;
    await assert.rejects(
      transferWithRetry({ open: input.open, write: drain, attempts: 2, retryDelayMs: 0, mayRetry: () => (asked += 1) > 0 }),
      (err: unknown) => err instanceof Error && !/not retried/.test(err.message),
    );
    assert.equal(input.opens, 2);
    assert.equal(asked, 1, 'asked before the one retry only');
  });

  test('retries wait longer each time: 1x then 2x the delay', async () => {
    const input = failing();
    const started = Date.now();
    await assert.rejects(transferWithRetry({ open: input.open, write: drain, attempts: 3, retryDelayMs: 60 }));
    assert.equal(input.opens, 3);
    assert.ok(Date.now() - started >= 170, `${Date.now() - started} ms`);
  });

  test('a transfer leaves no listener on the run\'s abort signal, whether it succeeds or fails', async () => {
    const ac = new AbortController();
    await transferWithRetry({ open: async () => ({ body: Readable.from([data]), length: data.length }), write: drain, signal: ac.signal, attempts: 1 });
    await assert.rejects(transferWithRetry({ open: failing().open, write: drain, signal: ac.signal, attempts: 2, retryDelayMs: 0 }));
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  });
});

describe('messages', () => {
  test('the idle timeout in seconds from one second, in ms below', () => {
    assert.equal(new IdleTimeoutError(60_000).message, 'no data for 60 s (download stalled)');
    assert.equal(new IdleTimeoutError(1_000).message, 'no data for 1 s (download stalled)');
    assert.equal(new IdleTimeoutError(999).message, 'no data for 999 ms (download stalled)');
    assert.equal(new IdleTimeoutError(1).name, 'IdleTimeoutError');
  });
  test('a checksum mismatch names both sums and says the copy is damaged', () => {
    const e = new ChecksumMismatchError('aa', 'bb');
    assert.equal(e.message, 'the bytes read have sha256 bb, not the aa recorded at backup time: the copy is damaged');
    assert.equal(e.name, 'ChecksumMismatchError');
  });
  test('an input closed before it opened: the writer is told so', async () => {
    const check = new Check(10, 5_000, undefined, undefined, { inputPending: true });
    check.on('error', () => undefined);
    check.destroy();
    await assert.rejects(check.opened, /the input was closed before it opened/);
  });
});
