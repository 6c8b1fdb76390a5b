/**
 * The engine's guard against a listing that would never end (lambda/backup/engine.ts): a next_cursor
 * already handed out for the same resource type stops the listing as a failed listing does —
 * reported incomplete, nothing pruned — while a retried page (same cursor in, same cursor out)
 * is not a loop. In-memory source and destination: no network, no fakes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { Asset, StoredObject } from '../../lambda/core/asset.ts';
import { SourceError } from '../../lambda/core/errors.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';
import { listedAsset } from '../fakes/listed-asset.ts';
import { BackupEngine, RunFailedError } from '../../lambda/backup/engine.ts';
import type { RunReport } from '../../lambda/backup/engine.ts';
import type { Destination, ListPage, OpenedAsset, PutRequest, PutResult, Source } from '../../lambda/ports/storage.ts';

const asset = (publicId: string): Asset => listedAsset(publicId);

/** Serves `pages` by cursor ('' = first page); counts listPage calls. */
class PagedSource implements Source {
  apiCalls = 0;
  constructor(private readonly pages: Record<string, { ids: string[]; next?: string }>) {}
  async listPage(_rt: string, type: string, cursor: string | undefined): Promise<ListPage> {
    this.apiCalls += 1;
    if (this.apiCalls > 50) throw new Error('listed forever');
    if (type !== 'upload') return { assets: [] };
    const page = this.pages[cursor ?? ''] ?? { ids: [] };
    return { assets: page.ids.map(asset), ...(page.next ? { nextCursor: page.next } : {}) };
  }
  async open(): Promise<OpenedAsset> {
    return { body: Readable.from([Buffer.from('abc')]), length: 3 };
  }
}

const engine = (source: Source & { apiCalls: number }, dest: Destination) =>
  new BackupEngine(source, dest, { prefix: '', resourceTypes: ['image'], concurrency: 2, diff: 'list', dryRun: false, prune: true, retryDelayMs: 0 });

describe('a next_cursor seen before', () => {
  const loops: ReadonlyArray<readonly [string, Record<string, { ids: string[]; next?: string }>]> = [
    ['the same cursor back (c1 -> c1)', { '': { ids: ['a'], next: 'c1' }, c1: { ids: ['b'], next: 'c1' } }],
    ['back to an earlier cursor (c1 -> c2 -> c1)', { '': { ids: ['a'], next: 'c1' }, c1: { ids: ['b'], next: 'c2' }, c2: { ids: ['c'], next: 'c1' } }],
  ];
  for (const [name, pages] of loops) {
    test(`${name}: the listing stops, reported incomplete, nothing pruned`, async () => {
      const dest = new MemoryDestination();
      dest.set('image/upload/gone.jpg', Buffer.from('old'));
      const source = new PagedSource(pages);
      const err = await engine(source, dest).run().then(
        () => assert.fail('the run must fail'),
        (e: unknown) => e as RunFailedError,
      );
      assert.ok(err instanceof RunFailedError && err.cause instanceof SourceError, String(err));
      assert.match(err.message, /next_cursor it had already given/);
      assert.equal(err.report.listingComplete, false);
      assert.equal(err.report.pruned, 0);
      assert.deepEqual(dest.deleted, []);
      assert.ok(source.apiCalls <= 3, `${source.apiCalls} calls`);
    });
  }

  test('a page listed again (a retried step) is not a loop', async () => {
    const dest = new MemoryDestination();
    const source = new PagedSource({ '': { ids: ['a'], next: 'c1' }, c1: { ids: ['b'], next: 'c2' }, c2: { ids: ['c'] } });
    const e = engine(source, dest);
    let state = await e.start();
    state = await e.step(state);
    const again = await e.step(state); // the durable runtime may run a step twice
    assert.equal(again.cursor, 'c2');
    state = await e.step(state);
    state = await e.step(state);
    assert.equal(state.listingIndex, 1, 'the image/upload listing is done');
    while (!state.listingComplete) state = await e.step(state); // image/private, image/authenticated: empty
    const report = await e.finish(state);
    assert.equal(report.listingComplete, true);
    assert.equal(report.failed, 0);
  });
});
