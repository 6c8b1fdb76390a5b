/**
 * A durable step or finish run again in the same process (lambda/backup/catalog-pages.ts): the
 * catalog entries held in memory must be exactly those the checkpoint counts. Found by a review
 * (reproduced before the fix): a finish retried after its last catalog write failed committed its
 * carried-forward entries twice; a step whose read-back of the open catalog page failed went on,
 * when run again, with an empty page, and the committed catalog lost those assets.
 * In-memory source and destination.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { Asset } from '../../lambda/core/asset.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';
import { listedAsset } from '../fakes/listed-asset.ts';
import { BackupEngine } from '../../lambda/backup/engine.ts';
import { Catalog } from '../../lambda/store/catalog.ts';
import type { ListPage, OpenedAsset, Source } from '../../lambda/ports/storage.ts';

const asset = (publicId: string): Asset => listedAsset(publicId);

/** Two listing pages by default ('' then 'n'), or one page of `ids`. */
class Src implements Source {
  apiCalls = 0;
  constructor(private readonly ids?: string[]) {}
  async listPage(_rt: string, type: string, cursor?: string): Promise<ListPage> {
    this.apiCalls += 1;
    if (type !== 'upload') return { assets: [] };
    if (this.ids) return { assets: this.ids.map(asset) };
    return cursor ? { assets: [asset('c'), asset('d')] } : { assets: [asset('a'), asset('b')], nextCursor: 'n' };
  }
  async open(): Promise<OpenedAsset> {
    return { body: Readable.from([Buffer.from('abc')]), length: 3 };
  }
}

/** A destination whose next `failPageGets` reads of a catalog page fail. */
class FlakyGet extends MemoryDestination {
  failPageGets = 0;
  override async get(key: string): Promise<Readable> {
    if (this.failPageGets > 0 && /_catalog\/(open|pages)\//.test(key)) {
      this.failPageGets -= 1;
      throw new Error('GET failed (injected)');
    }
    return super.get(key);
  }
}

const opts = { prefix: '', resourceTypes: ['image'], concurrency: 2, diff: 'list' as const, dryRun: false, prune: false, retryDelayMs: 0 };

const catalogOf = async (dest: MemoryDestination): Promise<string[]> => {
  const out: string[] = [];
  for await (const e of new Catalog(dest, '').entries()) out.push(`${e.publicId}:${e.state}`);
  return out.sort();
};

test('a finish run again in the same process after its last catalog write failed commits each entry once', async () => {
  const dest = new MemoryDestination();
  await new BackupEngine(new Src(['a', 'b']), dest, opts).run();
  const eng = new BackupEngine(new Src(['a']), dest, opts); // b deleted in Cloudinary: kept as 'deleted'
  let state = await eng.start();
  while (!state.listingComplete) state = await eng.persist(await eng.step(state));
  dest.failPuts.set('_catalog/', 3); // the page write fails on every try
  await assert.rejects(eng.finish(state));
  await eng.finish(state);
  assert.deepEqual(await catalogOf(dest), ['a:current', 'b:deleted']);
});

test('a step whose read-back of the open catalog page failed, run again in the same process, loses no entry', async () => {
  const dest = new FlakyGet();
  const first = new BackupEngine(new Src(), dest, opts);
  const checkpoint = await first.persist(await first.step(await first.start()));
  assert.equal(checkpoint.openEntries, 2, 'page 1 recorded in a tentative catalog page');
  const next = new BackupEngine(new Src(), dest, opts); // the next invocation
  dest.failPageGets = 1;
  await assert.rejects(next.step(checkpoint), /GET failed/);
  let state = await next.step(checkpoint);
  while (!state.listingComplete) state = await next.step(state);
  await next.finish(state);
  assert.deepEqual(await catalogOf(dest), ['a:current', 'b:current', 'c:current', 'd:current']);
});
