/**
 * Verify and restore hold a compact table of the objects and read the catalog again a
 * page at a time instead of holding every entry. What they report must not depend on where an
 * entry falls among the catalog's pages, on the order the listing comes in, or on keys that
 * differ only in case or sort differently in UTF-8 and UTF-16; and a page that changes between
 * two reads must stop the run instead of mixing two catalogs.
 *
 * Orders, at their source:
 * - S3 lists keys "in ascending order of the respective key names" (ListObjectsV2, Amazon S3 API
 *   Reference; the same text in @aws-sdk/client-s3 dist-types/commands/ListObjectsV2Command.d.ts),
 *   and the S3 User Guide ("Listing object keys programmatically") says list results are always
 *   in UTF-8 binary order. The destination below lists that way.
 * - JavaScript's default sort (and `<` on strings) compares UTF-16 code units (ECMA-262,
 *   Array.prototype.sort's SortCompare and IsLessThan on strings). U+FF61 (UTF-8 EF BD A1) sorts
 *   before U+1F600 (UTF-8 F0 9F 98 80) in UTF-8, after it in UTF-16 (its surrogate D83D < FF61).
 * - The catalog holds its entries in the order the backup listed them (Cloudinary's listing
 *   order), not key order (lambda/backup/catalog-pages.ts: entries are appended as pages list).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Asset, StoredObject } from '../../lambda/core/asset.ts';
import { keyFor } from '../../lambda/core/keys.ts';
import type { RestoreItem } from '../../lambda/core/restore-plan.ts';
import type { ListPage } from '../../lambda/ports/storage.ts';
import type { Uploader } from '../../lambda/ports/upload.ts';
import { RestoreEngine } from '../../lambda/restore/restore.ts';
import { Catalog, pageBody, pageHash } from '../../lambda/store/catalog.ts';
import type { CatalogEntry } from '../../lambda/store/catalog.ts';
import { verifyBackup } from '../../lambda/verify/verify.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';

/** A MemoryDestination that lists as S3 does: keys in UTF-8 binary order. */
class S3OrderDestination extends MemoryDestination {
  override async *list(prefix: string): AsyncIterable<StoredObject> {
    const all: StoredObject[] = [];
    for await (const o of super.list(prefix)) all.push(o);
    yield* all.sort((a, b) => Buffer.compare(Buffer.from(a.key, 'utf8'), Buffer.from(b.key, 'utf8')));
  }
}

const entry = (publicId: string, state: CatalogEntry['state'] = 'current', format = 'jpg'): CatalogEntry => ({
  key: keyFor('', { publicId, resourceType: 'image', type: 'upload', format }),
  assetId: `id-${publicId}`,
  publicId,
  resourceType: 'image',
  type: 'upload',
  format,
  version: 7,
  bytes: 10 + publicId.length,
  createdAt: '2026-01-01T00:00:00Z',
  tags: [],
  context: {},
  metadata: {},
  state,
});

/**
 * Three catalog pages. Keys differ only in case (Photo/photo) and sort differently in UTF-8 and
 * UTF-16 (U+FF61 / U+1F600), on different pages; `gone` ends page 1 and has no object; the
 * identity of `c` is on page 0 (current) and again at the start of page 2 under its old format's
 * key (deleted: the first entry of an identity wins); an object no entry names sorts between
 * the keys of two pages.
 */
const PAGES: CatalogEntry[][] = [
  [entry('c'), entry('Photo'), entry('\uFF61x')],
  [entry('\u{1F600}x'), entry('photo'), entry('gone')],
  [entry('c', 'deleted', 'png'), entry('a'), entry('b')],
];
const GONE = 'gone';
const EXTRA = keyFor('', { publicId: 'bb', resourceType: 'image', type: 'upload', format: 'jpg' });

/** The backup of PAGES: every object but GONE's, the extra object, and a format-2 catalog. */
const backup = async (): Promise<{ d: S3OrderDestination; all: CatalogEntry[] }> => {
  const d = new S3OrderDestination();
  const all = PAGES.flat();
  for (const e of all) if (e.publicId !== GONE) d.set(e.key, Buffer.alloc(e.bytes, 1));
  d.set(EXTRA, Buffer.alloc(5, 2));
  const catalog = new Catalog(d, '');
  for (const [n, page] of PAGES.entries()) await catalog.writePage('a', n, page);
  const hashes = PAGES.map((p) => pageHash(pageBody(p)));
  await catalog.commit({ format: 2, slot: 'a', runId: 'r', completedAt: '2026-01-01T00:00:00Z', pages: PAGES.length, entries: all.length, layout: 'aaa', hashes });
  return { d, all };
};

/** An account listing: the given public_ids exist (image/upload), 500 per page. */
const account = (has: readonly string[]) => ({
  apiCalls: 0,
  async listPage(resourceType: string, type: string): Promise<ListPage> {
    this.apiCalls += 1;
    const assets = resourceType === 'image' && type === 'upload' ? has.map((publicId) => ({ ...entry(publicId), secureUrl: '' }) as Asset) : [];
    return { assets };
  },
});

const noUploads: Uploader = { description: 'none', upload: () => Promise.reject(new Error('a dry run uploaded')) };

describe('verify and restore over a catalog of several pages', () => {
  test('verify: the one entry without its object is missing and the one object without an entry is extra, wherever they fall', async () => {
    const { d, all } = await backup();
    const r = await verifyBackup(d, { prefix: '', deep: true, concurrency: 2 });
    assert.equal(r.entries, all.length);
    assert.equal(r.objects, all.length - 1 + 1);
    const missing = all.filter((e) => e.publicId === GONE).map((e) => e.key);
    assert.deepEqual(r.problems.filter((p) => p.kind === 'missing').map((p) => p.key), missing);
    assert.deepEqual(r.problems.filter((p) => p.kind === 'extra').map((p) => p.key), [EXTRA]);
    assert.equal(r.missing + r.extra + r.corrupt, 2, JSON.stringify(r.problems));
    assert.equal(r.hashed, 0, 'no entry records a sha256');
    assert.equal(r.unhashed, all.length - 1);
  });

  test('restore --dry-run: the plan is the catalog order, first entry of an identity, case-distinct names apart, the extra object last', async () => {
    const { d, all } = await backup();
    const lister = account(['photo']);
    const planned: RestoreItem[] = [];
    // --include-uncatalogued: the extra object (a key the key rule makes) is planned too, after the catalog's entries.
    const options = { prefix: '', overwrite: false, dryRun: true, concurrency: 2, includeUncatalogued: true };
    const engine = new RestoreEngine(lister, noUploads, d, options, { wouldUpload: (i) => planned.push(i) });
    const r = await engine.run();
    const seen = new Set<string>();
    const winners = all.filter((e) => (seen.has(e.publicId) ? false : (seen.add(e.publicId), true)));
    const expected = [...winners.filter((e) => e.publicId !== GONE && e.publicId !== 'photo').map((e) => e.key), EXTRA];
    assert.deepEqual(
      planned.map((i) => i.key),
      expected,
    );
    assert.equal(r.plannedUploads, expected.length);
    assert.equal(r.skipped, 1, 'photo is in the account; Photo is another asset');
    assert.deepEqual(r.failures.map((f) => f.publicId), [GONE]);
    assert.equal(r.listed, winners.length + 1);
  });

  test('a catalog page that changes between two reads stops the restore with what to do', async () => {
    const { d } = await backup();
    const catalog = new Catalog(d, '');
    let reads = 0;
    const changing = Object.create(d) as S3OrderDestination;
    changing.get = async (key: string) => {
      if (key === catalog.pageKey('a', 1) && ++reads === 2) await catalog.writePage('a', 1, [entry('other')]);
      return d.get(key);
    };
    const engine = new RestoreEngine(account([]), noUploads, changing, { prefix: '', overwrite: false, dryRun: true, concurrency: 2 });
    await assert.rejects(engine.run(), /catalog page .*000001\.jsonl changed while it was being read .*run the command again/);
  });
});
