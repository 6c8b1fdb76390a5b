/**
 * CatalogPages (lambda/backup/catalog-pages.ts) holds the open page's entries as the JSON lines it
 * will write (issue 14: as objects they were most of what a 1M no-change night promoted into V8's
 * old space). What that must keep: the page's bytes are pageBody of the entries as they were when
 * added (a caller's later change to an entry object is not written), and `open` gives the entries
 * back as they were.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CatalogPages } from '../../lambda/backup/catalog-pages.ts';
import { initialState } from '../../lambda/backup/run-state.ts';
import { Catalog, entryFor, pageBody } from '../../lambda/store/catalog.ts';
import type { CatalogEntry } from '../../lambda/store/catalog.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';
import { listedAsset } from '../fakes/listed-asset.ts';

const entry = (id: string): CatalogEntry => entryFor(listedAsset(id, { tags: ['t'], context: { alt: id } }), `image/upload/${id}.jpg`, 'current', undefined);

describe('CatalogPages: the open page', () => {
  test('is written as its entries were when added, and read back as they were', async () => {
    const dest = new MemoryDestination();
    const catalog = new Catalog(dest, '');
    const pages = new CatalogPages(catalog, 3);
    const state = initialState({ runId: 'r1', startedAt: '2026-01-01T00:00:00Z', slot: 'a', listingComplete: false, staleUploadsAborted: 0 });
    const [a, b, c] = [entry('a'), entry('b'), entry('c')];
    const expected = pageBody([a, b, c]);
    let s = await pages.add(state, [a, b]);
    // The listing's objects are shared with the entries (tags, context): a later change of them
    // must not reach the page.
    (a.tags as string[]).push('added later');
    assert.deepEqual(pages.open.map((e) => e.tags), [['t'], ['t']]);
    s = await pages.add(s, [c]);
    assert.equal(s.pageNo, 1, 'the page closed at 3 entries');
    assert.deepEqual(dest.bytes(catalog.pageKey('a', 0)), expected);
  });
});
