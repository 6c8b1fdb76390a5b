/**
 * Catalog churn (docs/history.md): what one change in the account costs the catalog. The real
 * BackupEngine runs nights over a synthetic account listed newest first, 500 per page (as
 * Cloudinary lists), into an in-memory destination that counts every request and the bytes
 * written under `_catalog/`. Nights: the first backup; a night with no change; one upload; the
 * night after that copy; one deletion (the backup kept); one tag edit. The same script runs the
 * engine of another tree (`--lambda <dir>`: e.g. the previous format's sources, from
 * `git archive <commit> lambda`), so both formats are measured the same way.
 *
 *   node --import tsx test/bench/bench-catalog-churn.ts [--assets 100000] [--lambda DIR] [--out FILE]
 */
import path from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { Asset } from '../../lambda/core/asset.ts';
import type { Destination, ListPage, OpenedAsset, PutRequest, PutResult, Source, TaggedObject, WriteCondition } from '../../lambda/ports/storage.ts';

type StoredObject = NonNullable<Awaited<ReturnType<Destination['head']>>>;
import type { EngineOptions } from '../../lambda/backup/options.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';
import { writeResults } from './measure.ts';

const PAGE = 500;

/** A synthetic image account listed newest first, `PAGE` per page; assets can be added, removed, re-tagged. */
class ChurnSource implements Source {
  apiCalls = 0;
  /** Newest first. */
  private assets: Asset[] = [];
  private clock = 1_700_000_000;

  constructor(n: number) {
    for (let i = 0; i < n; i += 1) this.assets.push(this.make(`folder-${i % 97}/photo-${i}`));
    this.assets.reverse();
  }

  private make(publicId: string): Asset {
    this.clock += 1;
    return {
      assetId: `a${this.clock}`,
      publicId,
      resourceType: 'image',
      type: 'upload',
      format: 'jpg',
      version: this.clock,
      bytes: 8,
      createdAt: new Date(this.clock * 1000).toISOString(),
      secureUrl: `https://res.cloudinary.com/demo/image/upload/v${this.clock}/${publicId}.jpg`,
      tags: ['product', `batch-${this.clock % 50}`],
      context: { caption: `Photo ${publicId}` },
      metadata: {},
    };
  }

  upload(publicId: string): void {
    this.assets.unshift(this.make(publicId));
  }

  removeAt(i: number): void {
    this.assets.splice(i, 1);
  }

  retagAt(i: number): void {
    const a = this.assets[i] as Asset;
    this.assets[i] = { ...a, tags: [...a.tags, 'edited'] };
  }

  async listPage(_rt: string, type: string, cursor: string | undefined): Promise<ListPage> {
    this.apiCalls += 1;
    if (type !== 'upload') return { assets: [] };
    const start = cursor ? Number(cursor) : 0;
    const end = Math.min(this.assets.length, start + PAGE);
    return { assets: this.assets.slice(start, end), ...(end < this.assets.length ? { nextCursor: String(end) } : {}) };
  }

  async open(a: Asset): Promise<OpenedAsset> {
    return { body: Readable.from([Buffer.alloc(a.bytes, 7)]), length: a.bytes };
  }
}

/** Counts requests as S3 would bill them (a listing: one per 1,000 keys) and the catalog bytes written. */
class CountingDestination extends MemoryDestination {
  requests = 0;
  catalogPuts = 0;
  catalogBytes = 0;
  override async *list(prefix: string): AsyncIterable<StoredObject> {
    let n = 0;
    this.requests += 1;
    for await (const o of super.list(prefix)) {
      if (++n % 1000 === 0) this.requests += 1;
      yield o;
    }
  }
  override async head(key: string): Promise<StoredObject | undefined> {
    this.requests += 1;
    return super.head(key);
  }
  override async put(r: PutRequest): Promise<PutResult> {
    this.requests += 1;
    if (r.key.includes('_catalog/')) {
      this.catalogPuts += 1;
      this.catalogBytes += r.length;
    }
    return super.put(r);
  }
  override async get(key: string): Promise<Readable> {
    this.requests += 1;
    return super.get(key);
  }
  override async delete(key: string): Promise<void> {
    this.requests += 1;
    return super.delete(key);
  }
  override async readTagged(key: string): Promise<TaggedObject | undefined> {
    this.requests += 1;
    return super.readTagged(key);
  }
  override async writeConditional(key: string, body: Buffer, condition: WriteCondition): Promise<string> {
    this.requests += 1;
    return super.writeConditional(key, body, condition);
  }
}

interface Night {
  readonly night: string;
  readonly copied: number;
  readonly s3Requests: number;
  readonly catalogFilesWritten: number;
  readonly catalogBytesWritten: number;
  /** Bytes of every page of the catalog this night committed. */
  readonly fullCatalogBytes: number;
  readonly fractionOfFull: number;
  readonly wallSeconds: number;
}

const main = async (): Promise<void> => {
  const { values } = parseArgs({ options: { assets: { type: 'string', default: '100000' }, lambda: { type: 'string' }, out: { type: 'string' }, label: { type: 'string', default: 'this tree' } } });
  const n = Number(values.assets);
  const root = path.resolve(values.lambda ?? path.join(import.meta.dirname, '../../lambda'));
  const { BackupEngine } = (await import(path.join(root, 'backup/engine.ts'))) as typeof import('../../lambda/backup/engine.ts');
  const { Catalog } = (await import(path.join(root, 'store/catalog.ts'))) as typeof import('../../lambda/store/catalog.ts');
  const source = new ChurnSource(n);
  const dest = new CountingDestination();
  const options: EngineOptions = { prefix: '', resourceTypes: ['image'], concurrency: 16, diff: 'list', dryRun: false, prune: false, retryDelayMs: 0, catalogPageEntries: 10_000 };
  const nights: Night[] = [];
  const run = async (night: string): Promise<void> => {
    const before = { requests: dest.requests, puts: dest.catalogPuts, bytes: dest.catalogBytes };
    const t0 = Date.now();
    const report = await new BackupEngine(source, dest, options).run();
    const wallSeconds = (Date.now() - t0) / 1000;
    const catalog = new Catalog(dest, '');
    const ptr = await catalog.pointer();
    let full = 0;
    for (let p = 0; p < (ptr?.pages ?? 0); p += 1) {
      const key = ptr?.format === 3 ? catalog.namedPageKey(ptr.hashes?.[p] ?? '') : catalog.pageKey((ptr?.layout?.[p] ?? ptr?.slot ?? 'a') as 'a' | 'b', p);
      full += dest.bytes(key)?.length ?? 0;
    }
    const written = dest.catalogBytes - before.bytes;
    const row: Night = {
      night,
      copied: report.copied,
      s3Requests: dest.requests - before.requests,
      catalogFilesWritten: dest.catalogPuts - before.puts,
      catalogBytesWritten: written,
      fullCatalogBytes: full,
      fractionOfFull: Math.round((written / full) * 1000) / 1000,
      wallSeconds,
    };
    nights.push(row);
    process.stderr.write(`${values.label}: ${JSON.stringify(row)}\n`);
  };
  await run('first backup');
  await run('no change');
  source.upload('new/uploaded-tonight');
  await run('one upload');
  await run('the night after the copy');
  source.removeAt(Math.floor(n / 2));
  await run('one deletion (backup kept)');
  source.retagAt(Math.floor(n / 3));
  await run('one tag edit');
  const figures = { benchmark: 'catalog churn', label: values.label, assets: n, listingPageSize: PAGE, catalogPageEntries: options.catalogPageEntries, lambda: path.relative(process.cwd(), root) || '.', nights };
  if (values.out) writeResults(values.out, figures);
  else process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
};

await main();
