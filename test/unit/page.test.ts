/**
 * The pure page rules of a backup step (lambda/backup/page.ts): which assets a step leaves out
 * (settled by an earlier step of the same page), the budget's newest-first admission, and the
 * state after a step — a finished page advances the cursor, an unfinished one keeps it with the
 * settled assets' ids, an asset cut off twice fails with the remedy, the input never changes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Asset } from '../../lambda/core/asset.ts';
import type { PlannedAsset } from '../../lambda/core/plan.ts';
import { TOO_LARGE, admit, afterPage } from '../../lambda/backup/page.ts';
import type { PageWork } from '../../lambda/backup/page.ts';
import type { CopyOutcome } from '../../lambda/backup/copy-page.ts';
import { initialState, settledId } from '../../lambda/backup/run-state.ts';
import type { RunState } from '../../lambda/backup/run-state.ts';

const asset = (id: string, version: number, bytes = 100): Asset => ({
  assetId: id, publicId: id, resourceType: 'image', type: 'upload', format: 'jpg', version, bytes,
  createdAt: '', secureUrl: '', tags: [], context: {}, metadata: {},
});
const copy = (id: string, version: number, bytes = 100): PlannedAsset => ({ asset: asset(id, version, bytes), key: `image/upload/${id}.jpg`, decision: { action: 'copy', reason: 'missing' } });
const same = (id: string): PlannedAsset => ({ asset: asset(id, 1), key: `image/upload/${id}.jpg`, decision: { action: 'unchanged' } });
const fresh = (): RunState => initialState({ runId: 'r', startedAt: '', slot: 'a', listingComplete: false, staleUploadsAborted: 0 });
const work = (over: Partial<PageWork> & Pick<PageWork, 'admission' | 'outcomes'>): PageWork => ({
  dryRun: false, nextCursor: 'next', listings: 3, apiCalls: 1, downloadedBytes: 0, retryBytes: 0, bytesPerMs: undefined, ...over,
});

describe('admit', () => {
  test('copies newest first; under a budget the oldest are deferred', () => {
    const planned = [copy('old', 1), copy('new', 3), copy('mid', 2), same('kept')];
    const a = admit(fresh(), planned, 250, () => undefined);
    assert.deepEqual(a.copies.map((c) => c.asset.publicId), ['new', 'mid']);
    assert.deepEqual(a.settled.map((s) => `${s.item.asset.publicId}:${s.outcome}`), ['kept:unchanged', 'old:deferred']);
  });
  test('the budget already charged in the state counts', () => {
    const a = admit({ ...fresh(), plannedBytes: 200 }, [copy('a', 2), copy('b', 1)], 350, () => undefined);
    assert.deepEqual(a.copies.map((c) => c.asset.publicId), ['a']);
  });
  test('assets settled by an earlier step of this page are left out; cut-off copies go first', () => {
    const state: RunState = { ...fresh(), page: { done: [settledId('image/upload/a.jpg')], interrupted: [settledId('image/upload/old.jpg')] } };
    const a = admit(state, [copy('a', 5), copy('b', 4), copy('old', 1)], undefined, () => undefined);
    assert.deepEqual(a.copies.map((c) => c.asset.publicId), ['old', 'b']);
  });
  test('an unchanged asset keeps the sha256 recorded for its version only', () => {
    const a = admit(fresh(), [same('x'), same('y')], undefined, (k) => (k.includes('x') ? { version: 1, current: true, sha256: 'abc' } : { version: 0, current: true, sha256: 'old' }));
    assert.deepEqual(a.settled.map((s) => s.sha256), ['abc', undefined]);
  });
});

describe('afterPage', () => {
  const planned = [copy('a', 3), copy('b', 2), copy('c', 1)];
  const admission = admit(fresh(), planned, undefined, () => undefined);

  test('a finished page advances to the next cursor and counts every outcome', () => {
    const outcomes: CopyOutcome[] = [{ kind: 'copied', sha256: 's' }, { kind: 'failed', error: 'boom' }, { kind: 'pending', error: 'processing' }];
    const before = fresh();
    const frozen = JSON.stringify(before);
    const r = afterPage(before, work({ admission, outcomes }));
    assert.equal(JSON.stringify(before), frozen, 'the input state is not changed');
    assert.equal(r.partial, false);
    assert.equal(r.state.cursor, 'next');
    assert.equal(r.state.page, undefined);
    assert.deepEqual([r.state.counters.listed, r.state.counters.copied, r.state.counters.failed, r.state.counters.pending], [3, 1, 1, 1]);
    assert.equal(r.state.plannedBytes, 200, 'copied and failed copies were charged; a pending one never started');
    assert.deepEqual(r.failures.map((f) => f.publicId), ['b']);
    assert.deepEqual(r.entries.map((e) => `${e.publicId}:${e.state}`), ['a:current', 'b:stale', 'c:stale']);
  });

  test('the last page of the last listing completes the listing', () => {
    const r = afterPage({ ...fresh(), listingIndex: 2, cursor: 'c9' }, work({ admission, outcomes: planned.map(() => ({ kind: 'copied', sha256: 's' })), nextCursor: undefined }));
    assert.equal(r.state.listingComplete, true);
    assert.equal(r.state.cursor, undefined);
  });

  test('an unfinished page keeps its cursor and remembers what is settled, not what is in flight', () => {
    const state: RunState = { ...fresh(), cursor: 'here' };
    const r = afterPage(state, work({ admission, outcomes: [{ kind: 'copied', sha256: 's' }, { kind: 'interrupted' }, { kind: 'not-started' }] }));
    assert.equal(r.partial, true);
    assert.equal(r.state.cursor, 'here');
    assert.deepEqual(r.state.page, { done: [settledId('image/upload/a.jpg')], interrupted: [settledId('image/upload/b.jpg')] });
    assert.equal(r.state.counters.listed, 1, 'only settled assets are counted');
    assert.equal(r.state.plannedBytes, 100, 'a cut-off copy is not charged: the next step charges it once');
  });

  test('an asset cut off a second time fails with the remedy', () => {
    const state: RunState = { ...fresh(), page: { done: [], interrupted: [settledId('image/upload/b.jpg')] } };
    const r = afterPage(state, work({ admission, outcomes: [{ kind: 'copied', sha256: 's' }, { kind: 'interrupted' }, { kind: 'copied', sha256: 't' }] }));
    assert.equal(r.partial, false);
    assert.deepEqual(r.failures, [{ publicId: 'b', resourceType: 'image', type: 'upload', error: TOO_LARGE }]);
  });

  test('a dry run counts the plan and copies nothing', () => {
    const r = afterPage(fresh(), work({ admission, outcomes: [], dryRun: true }));
    assert.equal(r.state.plannedCopies, 3);
    assert.equal(r.state.counters.copied, 0);
    assert.equal(r.partial, false);
  });
});
