/**
 * When a run's listing counts as complete (lambda/backup/page.ts pastPage, lambda/backup/engine.ts
 * step). Rule: the listing is complete only once the last page of the last listing (resource type
 * x delivery type) has been listed; before, the state names the next listing and a cursor. A
 * listing marked complete early leaves the assets of the listings not visited uncopied and, with
 * --prune, their backups deleted as if the assets were gone.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BackupEngine } from '../../lambda/backup/engine.ts';
import { pastPage } from '../../lambda/backup/page.ts';
import { initialState } from '../../lambda/backup/run-state.ts';
import type { RunState } from '../../lambda/backup/run-state.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';
import { StubSource, backup, catalogOf, engineOptions } from '../support/stub-world.ts';

const at = (listingIndex: number, cursor?: string): RunState => ({
  ...initialState({ runId: 'r', startedAt: '', slot: 'a', listingComplete: false, staleUploadsAborted: 0 }),
  listingIndex,
  ...(cursor ? { cursor } : {}),
});

describe('pastPage', () => {
  test('the last page of each listing moves to the next; only the last listing\'s completes the run\'s listing', () => {
    for (const [index, listings, complete] of [[0, 3, false], [1, 3, false], [2, 3, true], [0, 1, true], [4, 6, false], [5, 6, true]] as const) {
      const next = pastPage(at(index, 'c7'), undefined, listings);
      assert.equal(next.listingIndex, index + 1, `listing ${index} of ${listings}`);
      assert.equal(next.listingComplete, complete, `listing ${index} of ${listings}`);
      assert.equal(next.cursor, undefined);
    }
  });

  test('a page with a next cursor stays in its listing', () => {
    for (const index of [0, 1, 2]) {
      const next = pastPage(at(index, 'c1'), 'c2', 3);
      assert.deepEqual([next.listingIndex, next.cursor, next.listingComplete], [index, 'c2', false]);
    }
  });
});

describe('the engine, step by step', () => {
  test('every listing is visited before the listing is complete; an asset of the last one is backed up and never pruned', async () => {
    const source = new StubSource();
    const dest = new MemoryDestination();
    // Only the last of image's three listings (upload, private, authenticated) holds an asset.
    source.add('signed-only', Buffer.from('authenticated bytes'), 'image', 'authenticated');
    await backup(source, dest, { resourceTypes: ['image'] });
    // The setup run's own bookkeeping (it deletes its copy records once its catalog is committed) is not what these rules are about.
    dest.deleted.length = 0;
    const key = 'image/authenticated/signed-only.jpg';
    assert.ok(dest.bytes(key));

    const engine = new BackupEngine(source, dest, engineOptions({ resourceTypes: ['image'], prune: true, maxPrune: { fraction: 1 } }));
    let state = await engine.start();
    const seen: Array<readonly [number, boolean]> = [[state.listingIndex, state.listingComplete]];
    for (let i = 0; i < 10 && !state.listingComplete; i += 1) {
      state = await engine.step(state);
      seen.push([state.listingIndex, state.listingComplete]);
    }
    assert.deepEqual(seen, [[0, false], [1, false], [2, false], [3, true]]);
    const report = await engine.finish(state);
    assert.equal(report.missingFromSource, 0);
    assert.deepEqual(dest.deleted, []);
    assert.equal((await catalogOf(dest)).get(key)?.state, 'current');
  });
});
