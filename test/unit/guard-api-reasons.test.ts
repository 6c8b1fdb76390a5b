/**
 * GuardedSource's record of the originals fetched through the download API: the source's reason
 * when it routes there, `cdn-refused` when the CDN refused the signed URL first, nothing for a
 * CDN download, and each asset once however often it was fetched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { Asset } from '../../lambda/core/asset.ts';
import type { DownloadApiReason } from '../../lambda/core/download-route.ts';
import { CdnRefusedError } from '../../lambda/core/errors.ts';
import { GuardedSource } from '../../lambda/adapters/cloudinary/guard.ts';
import type { DownloadRoute, ListPage, OpenedAsset, Source } from '../../lambda/ports/storage.ts';

const asset = (publicId: string): Asset => ({
  assetId: publicId, publicId, resourceType: 'image', type: 'private', format: 'jpg', version: 1, bytes: 1,
  createdAt: '', secureUrl: `https://res.cloudinary.com/x/image/private/v1/${publicId}.jpg`, tags: [], context: {}, metadata: {},
});

/** A source whose routes and CDN refusals are given per public_id. */
class Routed implements Source {
  readonly opened: Array<[string, DownloadRoute | undefined]> = [];
  constructor(
    private readonly reasons: Readonly<Record<string, DownloadApiReason>>,
    private readonly refusedOnCdn: ReadonlySet<string>,
  ) {}
  listPage(): Promise<ListPage> {
    return Promise.resolve({ assets: [] });
  }
  routeFor(a: Asset): DownloadRoute {
    return this.reasons[a.publicId] ? 'api' : 'cdn';
  }
  downloadApiReason(a: Asset): DownloadApiReason | undefined {
    return this.reasons[a.publicId];
  }
  open(a: Asset, _s: AbortSignal, route?: DownloadRoute): Promise<OpenedAsset> {
    this.opened.push([a.publicId, route]);
    if (route === 'cdn' && this.refusedOnCdn.has(a.publicId)) return Promise.reject(new CdnRefusedError(a.publicId, 401));
    return Promise.resolve({ body: Readable.from([Buffer.from('x')]), length: 1 });
  }
}

test('each download API fetch is recorded once with its reason; CDN downloads are not', async () => {
  const inner = new Routed({ token: 'access-control', 'a/../b': 'dot-segment' }, new Set(['refused']));
  const guard = new GuardedSource(inner);
  const signal = new AbortController().signal;
  for (const id of ['plain', 'token', 'a/../b', 'refused', 'token']) await guard.open(asset(id), signal);
  assert.deepEqual(inner.opened, [['plain', 'cdn'], ['token', 'api'], ['a/../b', 'api'], ['refused', 'cdn'], ['refused', 'api'], ['token', 'api']]);
  assert.equal(guard.apiCalls, 4, 'one Admin API call per download API fetch, none for the CDN');
  assert.deepEqual(
    guard.takeApiDownloads().map((d) => [d.publicId, d.reason]),
    [['token', 'access-control'], ['a/../b', 'dot-segment'], ['refused', 'cdn-refused']],
  );
  assert.deepEqual(guard.takeApiDownloads(), [], 'taken once');
});
