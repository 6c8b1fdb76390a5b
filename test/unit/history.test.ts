/**
 * History (docs/history.md): a replaced or pruned original is retired before it is overwritten
 * or deleted, once; retention deletes only retired originals older than the retention; the
 * pointer keeps listing only restore points within it; a default never shortens a retention
 * another writer recorded. In-memory source and destination, a clock the test sets.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { historyKey } from '../../lambda/core/keys.ts';
import { Catalog } from '../../lambda/store/catalog.ts';
import { effectiveHistoryDays, expireHistory, retire } from '../../lambda/store/history.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';
import { StubSource, backup } from '../support/stub-world.ts';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');
const DAY = 86_400_000;

describe('history', () => {
  test('a replaced original and a pruned one are retired under _history/ before the write or the delete', async () => {
    const src = new StubSource();
    const first = src.add('shoe', b('shoe v1'));
    const hat = src.add('hat', b('hat v1'));
    const dest = new MemoryDestination();
    await backup(src, dest);
    src.replace('shoe', b('shoe v2, longer'));
    src.remove('hat');
    const report = await backup(src, dest, { prune: true });
    assert.equal(report.pruned, 1);
    assert.deepEqual(dest.bytes(historyKey('', 'image/upload/shoe.jpg', first.version)), b('shoe v1'));
    assert.deepEqual(dest.bytes(historyKey('', 'image/upload/hat.jpg', hat.version)), b('hat v1'));
    assert.deepEqual(dest.bytes('image/upload/shoe.jpg'), b('shoe v2, longer'));
    assert.equal(dest.bytes('image/upload/hat.jpg'), undefined, 'pruned');
    assert.ok(dest.keys().filter((k) => k.startsWith('_history/')).length === 2);
  });

  test('a retire repeated after the object was replaced keeps the first bytes', async () => {
    const dest = new MemoryDestination();
    dest.set('image/upload/a.jpg', b('version 1'));
    assert.equal(await retire(dest, '', 'image/upload/a.jpg', 1), true);
    dest.set('image/upload/a.jpg', b('version 2'));
    assert.equal(await retire(dest, '', 'image/upload/a.jpg', 1), false, 'a step run again');
    assert.deepEqual(dest.bytes(historyKey('', 'image/upload/a.jpg', 1)), b('version 1'));
    assert.equal(await retire(dest, '', 'image/upload/none.jpg', 1), false, 'nothing to retire');
  });

  test('retention deletes retired originals older than the retention, nothing younger, no current object', async () => {
    const now = new Date('2026-12-01T00:00:00Z');
    const dest = new MemoryDestination();
    const old = historyKey('p', 'p/image/upload/old.jpg', 1);
    const young = historyKey('p', 'p/image/upload/young.jpg', 1);
    dest.set(old, b('old'), new Date(now.getTime() - 91 * DAY));
    dest.set(young, b('young'), new Date(now.getTime() - 89 * DAY));
    dest.set('p/image/upload/current.jpg', b('current'), new Date(now.getTime() - 400 * DAY));
    dest.set('p/_catalog/current.json', b('{}'), new Date(now.getTime() - 400 * DAY));
    assert.equal(await expireHistory(dest, 'p', 90, now), 1);
    assert.deepEqual(dest.deleted, [old]);
    assert.ok(dest.bytes(young) && dest.bytes('p/image/upload/current.jpg') && dest.bytes('p/_catalog/current.json'));
  });

  test('a run told nothing keeps the recorded retention; an explicit one replaces it', () => {
    assert.equal(effectiveHistoryDays(undefined, false, undefined), 90);
    assert.equal(effectiveHistoryDays(undefined, false, 365), 365, 'a laptop with the default, a stack with 365');
    assert.equal(effectiveHistoryDays(undefined, false, 10), 10, 'a laptop with the default, a stack with 10');
    assert.equal(effectiveHistoryDays(30, true, 365), 30, '--keep-history 30');
    assert.equal(effectiveHistoryDays(400, true, 365), 400);
  });

  test('the pointer lists only the restore points within the retention, and records it', async () => {
    const src = new StubSource();
    src.add('a', b('a'));
    const dest = new MemoryDestination();
    const catalog = new Catalog(dest, '');
    await backup(src, dest, { historyDays: 10, historyDaysExplicit: true });
    const first = await catalog.pointer();
    // The first restore point completed 11 days ago.
    const aged = { ...first!, completedAt: new Date(Date.now() - 11 * DAY).toISOString(), points: [{ runId: first!.runId, completedAt: new Date(Date.now() - 11 * DAY).toISOString() }] };
    dest.set(catalog.pointerKey, b(JSON.stringify(aged)));
    await backup(src, dest);
    const ptr = await catalog.pointer();
    assert.equal(ptr?.historyDays, 10, 'the recorded retention, not the default');
    assert.deepEqual(ptr?.points?.map((p) => p.runId), [ptr?.runId], 'the 11-day-old restore point is no longer listed');
  });
});
