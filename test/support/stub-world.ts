/**
 * An in-process Cloudinary stand-in for engine tests (no HTTP): assets held in memory, listed
 * one page per resource type and delivery type, opened as the bytes they hold. Tests change an
 * asset (same size, new bytes), delete it, or make its download deliver other bytes than listed.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Asset } from '../../lambda/core/asset.ts';
import { Catalog } from '../../lambda/store/catalog.ts';
import type { CatalogEntry } from '../../lambda/store/catalog.ts';
import { BackupEngine } from '../../lambda/backup/engine.ts';
import type { EngineOptions } from '../../lambda/backup/engine.ts';
import type { Destination, ListPage, OpenedAsset, Source } from '../../lambda/ports/storage.ts';

/** sha256 (hex) of a buffer. */
export const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface Held {
  asset: Asset;
  body: Buffer;
  /** Chunks the download delivers instead of `body` (a server that sends other bytes). */
  served?: Buffer[];
}

/** Assets by `resourceType/type/publicId`, with a counter of Admin API calls and downloads. */
export class StubSource implements Source {
  apiCalls = 0;
  readonly opened: string[] = [];
  private readonly held = new Map<string, Held>();
  /** Resource types whose listing answers `resources: []` (a hiccup, a restricted key). */
  readonly emptyTypes = new Set<string>();
  private clock = 1_700_000_000;

  /** Adds (or replaces) an asset; each call gets a later `version`, as an upload does. */
  add(publicId: string, body: Buffer, resourceType = 'image', type = 'upload', format = 'jpg'): Asset {
    this.clock += 10;
    const asset: Asset = {
      assetId: `id-${resourceType}-${publicId}`,
      publicId,
      resourceType,
      type,
      format,
      version: this.clock,
      bytes: body.length,
      createdAt: new Date(this.clock * 1000).toISOString(),
      secureUrl: `https://res.cloudinary.com/demo/${resourceType}/${type}/v${this.clock}/${publicId}.${format}`,
      tags: [`t-${publicId}`],
      context: { caption: publicId },
      metadata: {},
    };
    this.held.set(`${resourceType}/${type}/${publicId}`, { asset, body });
    return asset;
  }

  /** Replaces an asset's original with `body`, with a version of `versionSeconds` (default: later). */
  replace(publicId: string, body: Buffer, resourceType = 'image', versionSeconds?: number): Asset {
    const a = this.add(publicId, body, resourceType);
    if (versionSeconds === undefined) return a;
    const asset = { ...a, version: versionSeconds };
    this.held.set(`${resourceType}/upload/${publicId}`, { asset, body });
    return asset;
  }

  remove(publicId: string, resourceType = 'image'): void {
    this.held.delete(`${resourceType}/upload/${publicId}`);
  }

  /** Makes the download of an asset deliver these chunks (whatever the listing says). */
  serve(publicId: string, chunks: Buffer[], resourceType = 'image'): void {
    const h = this.held.get(`${resourceType}/upload/${publicId}`);
    if (!h) throw new Error(`no asset ${publicId}`);
    h.served = chunks;
  }

  bodyOf(publicId: string, resourceType = 'image'): Buffer {
    const h = this.held.get(`${resourceType}/upload/${publicId}`);
    if (!h) throw new Error(`no asset ${publicId}`);
    return h.body;
  }

  assets(): Asset[] {
    return [...this.held.values()].map((h) => h.asset);
  }

  async listPage(resourceType: string, type: string): Promise<ListPage> {
    this.apiCalls += 1;
    if (this.emptyTypes.has(resourceType)) return { assets: [] };
    const assets = [...this.held.values()].filter((h) => h.asset.resourceType === resourceType && h.asset.type === type).map((h) => h.asset);
    return { assets: assets.sort((a, b) => (a.publicId < b.publicId ? -1 : 1)) };
  }

  async open(asset: Asset): Promise<OpenedAsset> {
    const h = this.held.get(`${asset.resourceType}/${asset.type}/${asset.publicId}`);
    if (!h) throw new Error(`no asset ${asset.publicId}`);
    this.opened.push(asset.publicId);
    const chunks = h.served ?? [h.body];
    // Each chunk after a pause, as from a network: the consumer takes one before the next comes.
    const paced = async function* (): AsyncGenerator<Buffer> {
      for (const c of chunks) {
        yield c;
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    return { body: Readable.from(paced(), { objectMode: false }), length: asset.bytes };
  }
}

/** Engine options for these tests: every type, list diff, no pauses. */
export const engineOptions = (extra: Partial<EngineOptions> = {}): EngineOptions => ({
  prefix: '',
  resourceTypes: ['image', 'video', 'raw'],
  concurrency: 2,
  diff: 'list',
  dryRun: false,
  prune: false,
  retryDelayMs: 0,
  ...extra,
});

/** One CLI-like run of the engine. */
export const backup = (source: StubSource, dest: Destination, extra: Partial<EngineOptions> = {}) =>
  new BackupEngine(source, dest, engineOptions(extra)).run();

/** The entries of the current catalog, by key. */
export const catalogOf = async (dest: Destination, prefix = ''): Promise<Map<string, CatalogEntry>> => {
  const out = new Map<string, CatalogEntry>();
  for await (const e of new Catalog(dest, prefix).entries()) {
    if (out.has(e.key)) throw new Error(`duplicate catalog entry ${e.key}`);
    out.set(e.key, e);
  }
  return out;
};
