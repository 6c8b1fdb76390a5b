/**
 * Where a run writes its catalog pages (lambda/backup/catalog-pages.ts, lambda/store/catalog.ts),
 * and how much of a tentative page it reads back. Rules:
 * - Until a run commits, no file the current catalog names is written: page n goes into the slot
 *   that does not hold the current catalog's page n (a page past the current catalog's end goes
 *   into the run's own slot), and a page whose bytes equal the current page n is referenced
 *   where it is, not written.
 * - A checkpoint counts the entries of its tentative page; a later step may have written more
 *   into the same file before it failed. Reading back takes exactly the counted entries
 *   (readPage's limit), so no entry comes back twice.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { listedAsset } from '../fakes/listed-asset.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';
import { CatalogPages } from '../../lambda/backup/catalog-pages.ts';
import { initialState } from '../../lambda/backup/run-state.ts';
import type { RunState } from '../../lambda/backup/run-state.ts';
import { Catalog, entryFor, pageBody, pageHash } from '../../lambda/store/catalog.ts';
import type { CatalogEntry, CatalogPointer } from '../../lambda/store/catalog.ts';

const entry = (id: string): CatalogEntry => entryFor(listedAsset(id), `image/upload/${id}.jpg`, 'current', undefined);
const ids = (entries: readonly CatalogEntry[]): string[] => entries.map((e) => e.publicId);
const state = (slot: 'a' | 'b'): RunState => initialState({ runId: 'run-2', startedAt: '', slot, listingComplete: false, staleUploadsAborted: 0 });

const collect = async (it: AsyncIterable<CatalogEntry>): Promise<CatalogEntry[]> => {
  const out: CatalogEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
};

describe('readPage', () => {
  test('reads the first `limit` entries of a page, never one more', async () => {
    const d = new MemoryDestination();
    const catalog = new Catalog(d, '');
    await catalog.writePage('a', 0, ['e0', 'e1', 'e2', 'e3', 'e4'].map(entry));
    for (const [limit, expected] of [[0, 0], [1, 1], [3, 3], [4, 4], [5, 5], [9, 5], [Infinity, 5]] as const) {
      assert.deepEqual(ids(await collect(catalog.readPage('a', 0, limit))), ['e0', 'e1', 'e2', 'e3', 'e4'].slice(0, expected), `limit ${limit}`);
    }
  });

  test('a tentative page holding more entries than its checkpoint counts: only the counted ones come back', async () => {
    const d = new MemoryDestination();
    const catalog = new Catalog(d, '');
    // A step wrote three entries and its checkpoint counts them; a later step wrote two more
    // into the same file, then failed before its checkpoint.
    await catalog.writePage('a', 0, ['e0', 'e1', 'e2', 'e3', 'e4'].map(entry));
    const pages = new CatalogPages(catalog, 100);
    const checkpoint: RunState = { ...state('a'), openEntries: 3 };
    await pages.sync(checkpoint);
    assert.deepEqual(ids(pages.open), ['e0', 'e1', 'e2']);
    // The step runs again and gathers e3, e4 afresh: each is on the closed page once.
    const closed = await pages.add(checkpoint, ['e3', 'e4'].map(entry), true);
    assert.equal(closed.catalogEntries, 5);
    assert.deepEqual(ids(await collect(catalog.readPage('a', 0))), ['e0', 'e1', 'e2', 'e3', 'e4']);
  });
});

describe('the slot of each page', () => {
  /** A committed catalog of two pages, page 0 in slot a and page 1 in slot b. */
  const committed = async () => {
    const d = new MemoryDestination();
    const catalog = new Catalog(d, '');
    const p0 = pageBody(['old0', 'old1'].map(entry));
    const p1 = pageBody(['old2', 'old3'].map(entry));
    await catalog.writePage('a', 0, p0);
    await catalog.writePage('b', 1, p1);
    const ptr: CatalogPointer = { format: 2, slot: 'a', runId: 'run-1', completedAt: '2026-11-29T00:00:00Z', pages: 2, entries: 4, layout: 'ab', hashes: [pageHash(p0), pageHash(p1)] };
    await catalog.commit(ptr);
    d.puts.length = 0;
    return { d, catalog, named: new Map([[catalog.pageKey('a', 0), p0], [catalog.pageKey('b', 1), p1]]) };
  };

  test('changed pages go into the slot the current catalog does not use for them; its files stay as they were', async () => {
    const { d, catalog, named } = await committed();
    const pages = new CatalogPages(catalog, 2);
    // The engine gives a run the slot the pointer does not name.
    let s = state('b');
    s = await pages.add(s, ['n0', 'n1'].map(entry));
    s = await pages.add(s, ['n2', 'n3'].map(entry));
    s = await pages.add(s, ['n4'].map(entry), true);
    assert.equal(s.pageSlots, 'bab', 'page 0 beside a, page 1 beside b, page 2 (new) in the run\'s slot');
    assert.deepEqual(d.puts, [catalog.pageKey('b', 0), catalog.pageKey('a', 1), catalog.pageKey('b', 2)]);
    for (const [key, body] of named) assert.ok(d.bytes(key)?.equals(body), `${key} was written before the commit`);
    const ptr = pages.pointerOf(s, '2026-11-30T00:00:00Z');
    assert.deepEqual(ids(await collect(catalog.entriesOf(ptr))), ['n0', 'n1', 'n2', 'n3', 'n4']);
  });

  test('a tentative page is written beside the current page of its number, never over it', async () => {
    const { d, catalog, named } = await committed();
    const pages = new CatalogPages(catalog, 10);
    const s = await pages.add(state('b'), ['n0'].map(entry));
    await pages.persist(s);
    assert.deepEqual(d.puts, [catalog.pageKey('b', 0)]);
    for (const [key, body] of named) assert.ok(d.bytes(key)?.equals(body), `${key} was written before the commit`);
  });

  test('an unchanged page is referenced where it is, not written', async () => {
    const { d, catalog } = await committed();
    const pages = new CatalogPages(catalog, 2);
    let s = state('b');
    s = await pages.add(s, ['old0', 'old1'].map(entry));
    s = await pages.add(s, ['n2', 'n3'].map(entry));
    assert.equal(s.pageSlots, 'aa');
    assert.deepEqual(d.puts, [catalog.pageKey('a', 1)]);
  });
});
