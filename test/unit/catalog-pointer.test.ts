/**
 * The catalog pointer is checked before it is used (lambda/store/catalog.ts checkPointer): a
 * newer format, or a layout or hash list that does not cover every page, is refused with a
 * message that says what to do, instead of being read wrongly (pages from the wrong slot, pages
 * dropped) — found by a review of the format-2 pointer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryDestination } from '../fakes/memory-destination.ts';
import { Catalog } from '../../lambda/store/catalog.ts';

const withPointer = (ptr: Record<string, unknown>): Catalog => {
  const dest = new MemoryDestination();
  dest.set('_catalog/current.json', Buffer.from(JSON.stringify(ptr)));
  return new Catalog(dest, '');
};

const base = { slot: 'a', runId: 'r', completedAt: '2026-11-29T00:00:00Z', pages: 2, entries: 3 };

test('formats 1 and 2 are read', async () => {
  assert.equal((await withPointer({ format: 1, ...base }).pointer())?.pages, 2);
  assert.equal((await withPointer({ format: 2, ...base, layout: 'ab', hashes: ['x', 'y'] }).pointer())?.layout, 'ab');
});

test('a newer format is refused with what to do', async () => {
  await assert.rejects(withPointer({ format: 4, ...base }).pointer(), /format 4, written by a newer cloudinary-backup: upgrade/);
});

test('format 3 is read; a format-3 pointer without page names is refused', async () => {
  const ptr = { format: 3, runId: 'r', completedAt: '2026-11-29T00:00:00Z', pages: 2, entries: 3, hashes: ['0'.repeat(24), '1'.repeat(24)], points: [{ runId: 'r', completedAt: '2026-11-29T00:00:00Z' }] };
  assert.deepEqual((await withPointer(ptr).pointer())?.points, ptr.points);
  await assert.rejects(withPointer({ ...ptr, hashes: undefined }).pointer(), /names 2 catalog pages/);
});

test('a layout or hash list that does not cover every page is refused', async () => {
  await assert.rejects(withPointer({ format: 2, ...base, layout: 'a' }).pointer(), /names 2 catalog pages/);
  await assert.rejects(withPointer({ format: 2, ...base, layout: 'ab', hashes: ['x'] }).pointer(), /names 2 catalog pages/);
});
