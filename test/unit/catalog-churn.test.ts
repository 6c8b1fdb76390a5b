/**
 * The catalog changes only where the account changed (docs/history.md): entries in listing
 * order whatever order their copies ended in, page boundaries from the keys' hashes, pages named
 * by their bytes and written once, a restore point manifest per completed run, and the first run
 * of this version converting a format-2 catalog. In-memory source and destination.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Catalog, pageBody } from '../../lambda/store/catalog.ts';
import type { CatalogEntry, CatalogPointer } from '../../lambda/store/catalog.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';
import { StubSource, backup, catalogOf } from '../support/stub-world.ts';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');
const id = (n: number): string => `p${String(n).padStart(5, '0')}`;

const pointerOf = async (dest: MemoryDestination): Promise<CatalogPointer> => {
  const ptr = await new Catalog(dest, '').pointer();
  assert.ok(ptr, 'a committed catalog');
  return ptr;
};

/** The catalog files a night wrote (page files, slots, tentative files), pointer and manifests aside. */
const pageWrites = (dest: MemoryDestination, from: number): string[] =>
  dest.puts.slice(from).filter((k) => k.startsWith('_catalog/') && k !== '_catalog/current.json' && !k.startsWith('_catalog/points/') && !k.startsWith('_catalog/metadata'));

/** Runs one night and returns the catalog files it wrote besides the pointer and its manifest. */
const night = async (src: StubSource, dest: MemoryDestination, extra: Parameters<typeof backup>[2] = {}): Promise<string[]> => {
  const from = dest.puts.length;
  await backup(src, dest, { concurrency: 16, ...extra });
  return pageWrites(dest, from);
};

describe('a catalog that changes only where the account changed', () => {
  test('the night after a copy writes no catalog page: a copied entry keeps its place', async () => {
    const src = new StubSource();
    for (let n = 0; n < 40; n += 2) src.add(id(n), b(`body ${n}`));
    const dest = new MemoryDestination();
    await night(src, dest);
    src.add(id(21), b('new in the middle')); // copied while the others are unchanged
    await night(src, dest);
    const before = await pointerOf(dest);
    assert.deepEqual(await night(src, dest), [], 'no page written on the night after the copy');
    assert.deepEqual((await pointerOf(dest)).hashes, before.hashes);
  });

  test('one upload, one deletion, one tag edit: each rewrites at most 3 of ~20 pages', async () => {
    const src = new StubSource();
    for (let n = 0; n < 2000; n += 2) src.add(id(n), b(`body ${n}`));
    const dest = new MemoryDestination();
    const opts = { catalogPageEntries: 50 };
    await night(src, dest, opts);
    const pages = (await pointerOf(dest)).pages;
    assert.ok(pages >= 10, `${pages} pages`);
    src.add(id(1001), b('one upload'));
    const upload = await night(src, dest, opts);
    src.remove(id(500));
    const deletion = await night(src, dest, opts);
    const a = src.assets().find((x) => x.publicId === id(1500));
    assert.ok(a);
    (a.tags as string[]).splice(0, a.tags.length, 'edited'); // the same original, its tags edited
    const edit = await night(src, dest, opts);
    for (const [what, written] of [['upload', upload], ['deletion', deletion], ['tag edit', edit]] as const) {
      assert.ok(written.length >= 1 && written.length <= 3, `${what}: ${written.length} of ${pages} pages written: ${written.join(', ')}`);
    }
    const entries = await catalogOf(dest);
    assert.equal(entries.get(`image/upload/${id(500)}.jpg`)?.state, 'deleted', 'the deleted asset stays, as deleted');
    assert.deepEqual(entries.get(`image/upload/${id(1500)}.jpg`)?.tags, ['edited']);
    assert.equal(entries.size, 1001);
  });

  test('every completed run is a restore point: listed newest first, its manifest and pages complete', async () => {
    const src = new StubSource();
    for (let n = 0; n < 30; n += 1) src.add(id(n), b(`body ${n}`));
    const dest = new MemoryDestination();
    const catalog = new Catalog(dest, '');
    const opts = { catalogPageEntries: 8 };
    await night(src, dest, opts);
    src.add(id(100), b('night 2'));
    await night(src, dest, opts);
    src.remove(id(3));
    await night(src, dest, opts);
    const ptr = await pointerOf(dest);
    assert.equal(ptr.format, 3);
    assert.equal(ptr.points?.length, 3);
    assert.equal(ptr.points?.[0]?.runId, ptr.runId, 'the newest first');
    const times = ptr.points?.map((p) => p.completedAt) ?? [];
    assert.deepEqual([...times].sort().reverse(), times);
    const sizes: number[] = [];
    for (const p of ptr.points ?? []) {
      const m = await catalog.manifest(p.runId);
      let n = 0;
      for await (const _ of catalog.entriesOf(m)) n += 1;
      assert.equal(n, m.entries, `restore point ${p.runId}: every entry its manifest counts`);
      sizes.push(n);
    }
    assert.deepEqual(sizes, [31, 31, 30], 'night 3 keeps the deleted asset; night 1 had 30');
  });

  test('a format-2 catalog is read by the first run of this version and replaced by format 3', async () => {
    const src = new StubSource();
    for (let n = 0; n < 12; n += 1) src.add(id(n), b(`body ${n}`));
    const dest = new MemoryDestination();
    await night(src, dest);
    // Make the backup one an older version left: its entries in slot a, a format-2 pointer.
    const entries: CatalogEntry[] = [...(await catalogOf(dest)).values()];
    const catalog = new Catalog(dest, '');
    await catalog.writePage('a', 0, pageBody(entries));
    const old = { format: 2, slot: 'a', runId: 'old', completedAt: '2026-11-01T00:00:00.000Z', pages: 1, entries: entries.length, layout: 'a', hashes: ['x'] };
    dest.set(catalog.pointerKey, b(JSON.stringify(old)));
    const report = await backup(src, dest);
    assert.equal(report.copied, 0, 'the format-2 catalog was read: nothing copied again');
    const ptr = await pointerOf(dest);
    assert.equal(ptr.format, 3);
    assert.deepEqual(ptr.points?.map((p) => p.runId), [report.runId]);
    assert.deepEqual([...(await catalogOf(dest)).values()].map((e) => e.sha256).sort(), entries.map((e) => e.sha256).sort());
  });
});
