/**
 * transferWithRetry (lambda/transfer/retrying.ts) resolves with the sha256 of the bytes written,
 * and a copy is recorded as finished only with that checksum. Rule: a write that resolves without
 * having read the body to its end (a writer that returns early, having stored nothing or a part)
 * is a failed try, never a finished copy without a sha256. Only the writer's explicit 'unread'
 * (the target already holds the object) ends a transfer without one.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ExactLengthStream } from '../../lambda/transfer/exact-length.ts';
import { transferWithRetry } from '../../lambda/transfer/retrying.ts';

const data = Buffer.from('the original bytes of one asset');
const sha = createHash('sha256').update(data).digest('hex');

/** The two ways a transfer opens: the length known before (a backup) or from the open (a restore). */
const ways = [
  ['the length known before the open (backup)', { length: data.length }],
  ['the length known from the open (restore)', {}],
] as const;

// A hang is these tests' failure mode: each gets a bound.
describe('a write that returns before the read finished', { timeout: 10_000 }, () => {
  for (const [name, known] of ways) {
    test(`${name}: the try fails, no sha256 is returned, and every try is made`, async () => {
      let opens = 0;
      await assert.rejects(
        transferWithRetry({
          ...known,
          open: async () => {
            opens += 1;
            return { body: Readable.from([data]), length: data.length };
          },
          // Returns at once: nothing read, nothing stored.
          write: async () => undefined,
          attempts: 2,
          retryDelayMs: 0,
        }),
        /the write finished before the read did/,
      );
      assert.equal(opens, 2, 'the early return is a failed try, tried again');
    });

    test(`${name}: a write that reads part of the body and returns fails too`, async () => {
      await assert.rejects(
        transferWithRetry({
          ...known,
          open: async () => ({ body: Readable.from([data.subarray(0, 10), data.subarray(10)]), length: data.length }),
          write: async (body: ExactLengthStream) => {
            for await (const _chunk of body) break; // one chunk, then gives up quietly
          },
          attempts: 1,
        }),
        (err: unknown) => err instanceof Error,
      );
    });

    test(`${name}: a write that reads every byte resolves with their sha256`, async () => {
      const got = await transferWithRetry({
        ...known,
        open: async () => ({ body: Readable.from([data]), length: data.length }),
        write: async (body: ExactLengthStream) => {
          for await (const _chunk of body);
        },
        attempts: 1,
      });
      assert.equal(got, sha);
    });

    test(`${name}: only an explicit 'unread' ends the transfer without a sha256`, async () => {
      const got = await transferWithRetry({
        ...known,
        open: async () => ({ body: Readable.from([data]), length: data.length }),
        write: async () => 'unread' as const,
        attempts: 1,
      });
      assert.equal(got, undefined);
    });
  }
});
