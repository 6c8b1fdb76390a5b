/**
 * `run --follow` (lambda/entry/cli/follow.ts) polls the run's progress object in the bucket. A
 * read that fails — a dropped connection, or a read racing the run's own rewrite of the object
 * (seen once in CI: the follow ended with "aborted" while the run went on) — is tried again at the
 * next poll; only five failures in a row end the following, with the error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { MemoryDestination } from '../fakes/memory-destination.ts';
import { follow } from '../../lambda/entry/cli/follow.ts';
import { writeProgress } from '../../lambda/store/progress.ts';

/** A bucket whose next `failReads` reads of a progress object fail. */
class FlakyProgress extends MemoryDestination {
  failReads = 0;
  override async get(key: string): Promise<Readable> {
    if (this.failReads > 0 && key.includes('progress')) {
      this.failReads -= 1;
      throw new Error('aborted');
    }
    return super.get(key);
  }
}

const finished = { format: 1 as const, executionName: 'manual-1', pagesDone: 2, listed: 2, copied: 2, bytesCopied: 3000, failed: 0, pending: 0, deferred: 0, waitingUntil: null, updatedAt: '2026-11-29T00:00:00.000Z', finished: true };

test('a progress read that fails is tried again at the next poll', async () => {
  const dest = new FlakyProgress();
  await writeProgress(dest, 'p', finished);
  dest.failReads = 4;
  assert.equal(await follow(dest, 'p', 'manual-1', 10, 60_000), 0);
  assert.equal(dest.failReads, 0);
});

test('five failed reads in a row end the following with the error', async () => {
  const dest = new FlakyProgress();
  await writeProgress(dest, 'p', finished);
  dest.failReads = 5;
  await assert.rejects(follow(dest, 'p', 'manual-1', 10, 60_000), /aborted/);
});
