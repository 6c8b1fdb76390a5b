/**
 * A page's unchanged objects without a recorded sha256 (lambda/backup/page.ts): hashed from the
 * destination within the run's allowance (core/budget.ts hashLimit), counted unchanged; and the
 * report's sum — copied + unchanged + skipped + failed + pending = listed — whatever ended how.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Asset } from '../../lambda/core/asset.ts';
import { MIN_HASH_BYTES, hashLimit } from '../../lambda/core/budget.ts';
import type { PlannedAsset } from '../../lambda/core/plan.ts';
import type { RunCounters } from '../../lambda/core/report.ts';
import { admit, afterPage } from '../../lambda/backup/page.ts';
import type { CopyOutcome } from '../../lambda/backup/copy-page.ts';
import { outcomeOf } from '../../lambda/backup/copy-page.ts';
import { CancelledError } from '../../lambda/core/errors.ts';
import { initialState } from '../../lambda/backup/run-state.ts';

const asset = (id: string, version: number, bytes = 100): Asset => ({
  assetId: id, publicId: id, resourceType: 'image', type: 'upload', format: 'jpg', version, bytes,
  createdAt: '', secureUrl: '', tags: [], context: {}, metadata: {},
});
const copy = (id: string, version: number, bytes = 100): PlannedAsset => ({ asset: asset(id, version, bytes), key: `image/upload/${id}.jpg`, decision: { action: 'copy', reason: 'missing' } });
const same = (id: string, bytes = 100): PlannedAsset => ({ asset: asset(id, 1, bytes), key: `image/upload/${id}.jpg`, decision: { action: 'unchanged' } });
const remote = (id: string): PlannedAsset => ({ asset: { ...asset(id, 1), type: 'fetch' }, key: `image/fetch/${id}.jpg`, decision: { action: 'skip', reason: 'remote' } });
const fresh = () => initialState({ runId: 'r', startedAt: '', slot: 'a', listingComplete: false, staleUploadsAborted: 0 });
const SHA = 'f'.repeat(64);
const sum = (c: RunCounters): number => c.copied + c.unchanged + c.skipped + c.failed + c.pending;

describe('hashing what has no recorded checksum', () => {
  const recorded = (k: string) => (k.includes('summed') ? { version: 1, current: true, sha256: SHA } : undefined);

  test('unchanged without a sha256 are hashed within the allowance; the rest stay unhashed', () => {
    const planned = [same('summed'), same('a', 300), same('b', 300), same('c', 300)];
    const a = admit(fresh(), planned, undefined, recorded, { limit: 700, used: 50 });
    assert.deepEqual(a.hashes.map((h) => h.asset.publicId), ['a', 'b']);
    assert.deepEqual(a.settled.map((s) => `${s.item.asset.publicId}:${s.sha256 ?? '-'}`), [`summed:${SHA}`, 'c:-']);
    assert.deepEqual(admit(fresh(), planned, undefined, recorded).hashes, [], 'no allowance: nothing hashed');
  });

  test('a hash read back is unchanged with its sha256; a failed read is unhashed; one not started leaves the page open', () => {
    const a = admit(fresh(), [same('a'), same('b'), same('c')], undefined, () => undefined, { limit: undefined, used: 0 });
    const outcomes: CopyOutcome[] = [{ kind: 'copied', sha256: SHA }, { kind: 'failed', error: 'read failed' }, { kind: 'not-started' }];
    const r = afterPage(fresh(), { admission: a, outcomes, dryRun: false, nextCursor: 'n', listings: 1, apiCalls: 0, downloadedBytes: 0, retryBytes: 0, bytesPerMs: undefined });
    const c = r.state.counters;
    assert.deepEqual([c.listed, c.unchanged, c.hashed, c.hashedBytes, c.unhashed, c.failed], [2, 2, 1, 100, 1, 0]);
    assert.deepEqual(r.entries.map((e) => `${e.publicId}:${e.state}:${e.sha256 ?? '-'}`), [`a:current:${SHA}`, 'b:current:-']);
    assert.equal(r.partial, true, 'c is hashed by the step that continues the page');
  });

  test('the default allowance covers the byte budget, at least MIN_HASH_BYTES; none without a budget; an explicit one wins', () => {
    assert.equal(hashLimit(undefined, undefined), undefined);
    assert.equal(hashLimit(undefined, 1000), MIN_HASH_BYTES);
    assert.equal(hashLimit(undefined, MIN_HASH_BYTES * 3), MIN_HASH_BYTES * 3);
    assert.equal(hashLimit(0, MIN_HASH_BYTES * 3), 0);
  });
});

describe('every report adds up', () => {
  test('copied, failed, pending, budget-deferred, remote, unchanged and stopped copies: the sum is listed', () => {
    const planned = [copy('a', 5), copy('b', 4), copy('c', 3), copy('stopped', 2), copy('old', 1, 10_000), same('kept'), remote('r')];
    const a = admit(fresh(), planned, 500, () => undefined);
    const outcomes: CopyOutcome[] = [
      { kind: 'copied', sha256: SHA },
      { kind: 'failed', error: 'boom' },
      { kind: 'pending', error: 'processing' },
      // Ctrl-C or a lost lease: the copy was aborted; it is not a failure.
      outcomeOf(new CancelledError(), false),
    ];
    assert.deepEqual(outcomes[3], { kind: 'not-started' });
    const r = afterPage(fresh(), { admission: a, outcomes, dryRun: false, nextCursor: 'n', listings: 1, apiCalls: 0, downloadedBytes: 0, retryBytes: 0, bytesPerMs: undefined });
    const c = r.state.counters;
    assert.deepEqual([c.listed, c.copied, c.failed, c.pending, c.skipped, c.unchanged], [6, 1, 1, 2, 1, 1]);
    assert.equal(sum(c), c.listed);
    assert.equal(r.state.remainingToCopy, 1, 'the deferred one is also left for the next run');
  });
});
