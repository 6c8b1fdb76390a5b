/**
 * How a run writes and reads back its catalog pages (lambda/backup/catalog-pages.ts,
 * lambda/store/catalog.ts). Rules:
 * - A checkpoint counts the entries of its tentative (open) page; a later step may have written
 *   more into the same file before it failed. Reading back takes exactly the counted entries
 *   (readFile's limit), so no entry comes back twice.
 * - Once a restore point names a page file, nothing rewrites it: pages are named by their bytes'
 *   hash, an unchanged page is referenced where it is, and a changed one goes under a new name
 *   (docs/history.md).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { listedAsset } from '../fakes/listed-asset.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';
import { CatalogPages } from '../../lambda/backup/catalog-pages.ts';
import type { OrderedEntry } from '../../lambda/backup/catalog-pages.ts';
import { initialState } from '../../lambda/backup/run-state.ts';
import type { RunState } from '../../lambda/backup/run-state.ts';
import { Catalog, entryFor } from '../../lambda/store/catalog.ts';
import type { CatalogEntry } from '../../lambda/store/catalog.ts';

const entry = (id: string): CatalogEntry => entryFor(listedAsset(id), `image/upload/${id}.jpg`, 'current', undefined);
const ordered = (list: readonly string[], from = 0): OrderedEntry[] => list.map((id, i) => ({ ord: from + i, entry: entry(id) }));
const ids = (entries: readonly CatalogEntry[]): string[] => entries.map((e) => e.publicId);
/** A run's state; the listing is complete, so every entry is final and `close` closes them all. */
const state = (runId: string): RunState => initialState({ runId, startedAt: '', slot: 'a', listingComplete: true, staleUploadsAborted: 0 });
const NOW = new Date('2026-11-30T00:00:00Z');

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
    const lines = ordered(['e0', 'e1', 'e2', 'e3', 'e4']).map((x) => JSON.stringify({ o: x.ord, e: x.entry })).join('\n');
    await catalog.writeFile(catalog.openKey('run-2', 0), Buffer.from(`${lines}\n`));
    const pages = new CatalogPages(catalog, 100);
    const checkpoint: RunState = { ...state('run-2'), openEntries: 3 };
    await pages.sync(checkpoint);
    assert.deepEqual(ids(pages.open), ['e0', 'e1', 'e2']);
    // The step runs again and gathers e3, e4 afresh: each is in the catalog once.
    const closed = await pages.add(checkpoint, ordered(['e3', 'e4'], 3), true);
    assert.equal(closed.catalogEntries, 5);
    const ptr = await pages.pointerOf(closed, NOW, 90);
    assert.deepEqual(ids(await collect(catalog.entriesOf(ptr))), ['e0', 'e1', 'e2', 'e3', 'e4']);
  });
});

describe('pages a restore point names are never rewritten', () => {
  /** A committed catalog written by a run over `list`; returns the destination and the page files' bytes. */
  const committed = async (list: readonly string[]) => {
    const d = new MemoryDestination();
    const catalog = new Catalog(d, '');
    const pages = new CatalogPages(catalog, 100);
    const s = await pages.add(state('run-1'), ordered(list), true);
    await catalog.commit(await pages.pointerOf(s, NOW, 90));
    const files = new Map(d.puts.filter((k) => k.includes('/pages/')).map((k) => [k, d.bytes(k)] as const));
    assert.ok(files.size > 0, 'the first run wrote its pages');
    d.puts.length = 0;
    return { d, catalog, files };
  };

  test('an unchanged catalog is referenced where it is: the next run writes no page', async () => {
    const list = ['a', 'b', 'c', 'd'];
    const { d, catalog } = await committed(list);
    const pages = new CatalogPages(catalog, 100);
    const s = await pages.add(state('run-2'), ordered(list), true);
    await catalog.commit(await pages.pointerOf(s, NOW, 90));
    assert.deepEqual(d.puts.filter((k) => k.includes('/pages/')), []);
  });

  test('a changed page goes under a new name; the files the committed catalog names keep their bytes', async () => {
    const { d, catalog, files } = await committed(['a', 'b', 'c', 'd']);
    const pages = new CatalogPages(catalog, 100);
    const s = await pages.add(state('run-2'), ordered(['a', 'b', 'c', 'd', 'e']), true);
    const ptr = await pages.pointerOf(s, NOW, 90);
    await catalog.commit(ptr);
    const written = d.puts.filter((k) => k.includes('/pages/'));
    assert.ok(written.length > 0, 'the changed page was written');
    for (const k of written) assert.ok(!files.has(k), `${k} was written over a page the committed catalog names`);
    for (const [k, body] of files) assert.ok(body && d.bytes(k)?.equals(body), `${k} kept its bytes`);
    assert.deepEqual(ids(await collect(catalog.entriesOf(ptr))), ['a', 'b', 'c', 'd', 'e']);
  });
});
