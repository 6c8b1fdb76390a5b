import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Catalog, entryFor } from '../../lambda/store/catalog.ts';
import type { CatalogEntry } from '../../lambda/store/catalog.ts';
import type { Asset } from '../../lambda/core/asset.ts';
import { keyFor } from '../../lambda/core/keys.ts';
import { objectMetadata } from '../../lambda/core/metadata.ts';
import { S3Destination } from '../../lambda/adapters/s3/destination.ts';
import type { CloudinaryFake, FakeAsset } from '../fakes/cloudinary-fake.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { s3For } from '../helpers.ts';

/** What the Admin API lists for a fake asset, as the engine sees it. */
const asListed = (a: FakeAsset): Asset => ({
  assetId: a.assetId,
  publicId: a.publicId,
  resourceType: a.resourceType,
  type: a.type,
  format: a.format,
  version: a.version,
  bytes: a.bytes,
  createdAt: a.createdAt,
  secureUrl: '',
  tags: a.tags,
  context: a.context,
  metadata: a.metadata,
});

/** Runs `fn` over `items` with at most `limit` in flight. */
const eachLimited = async <T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> => {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
};

/**
 * Makes an s3rver bucket hold what a completed first backup of the fake's account leaves:
 * every object (written straight into s3rver's store — `<key>._S3rver_object`, `.md5`,
 * `_metadata.json`, the files its PutObject writes — at thousands per second instead of the
 * ~150 a second a real first backup of tiny files reaches through s3rver) and the catalog of
 * that run (written through the real Catalog over the S3 API, with every asset's sha256).
 * Resolves with the seconds it took.
 */
export const seedBackup = async (fake: CloudinaryFake, s3: S3rverHandle, bucket: string, prefix: string): Promise<number> => {
  const started = Date.now();
  const assets = fake.listAssets();
  const root = path.join(s3.directory, bucket);
  const dirs = new Set<string>();
  const entries: CatalogEntry[] = [];
  const files: Array<{ dir: string; base: string; asset: FakeAsset; listed: Asset }> = [];
  for (const a of assets) {
    const listed = asListed(a);
    const key = keyFor(prefix, listed);
    const parts = key.split('/');
    const base = parts.pop() as string;
    const dir = path.join(root, ...parts);
    dirs.add(dir);
    files.push({ dir, base, asset: a, listed });
    entries.push(entryFor(listed, key, 'current', fake.expectedSha256(a)));
  }
  for (const dir of dirs) mkdirSync(dir, { recursive: true });
  // Synchronous writes: three tiny files per object go faster than through the thread pool.
  for (const { dir, base, asset, listed } of files) {
    const content = fake.contentOf(asset);
    const meta: Record<string, string> = { 'content-type': 'application/octet-stream' };
    for (const [k, v] of Object.entries(objectMetadata(listed))) meta[`x-amz-meta-${k}`] = v;
    const file = path.join(dir, `${base}._S3rver_object`);
    writeFileSync(file, content);
    writeFileSync(`${file}.md5`, createHash('md5').update(content).digest('hex'));
    writeFileSync(path.join(dir, `${base}._S3rver_metadata.json`), JSON.stringify(meta, null, 2));
  }
  // The catalog a real run writes: one page per listing page (500 assets of one resource type).
  const client = s3For(s3.endpoint);
  const catalog = new Catalog(new S3Destination(client, bucket, { probeKey: 'unused' }), prefix);
  const pages: CatalogEntry[][] = [];
  for (const rt of ['image', 'video', 'raw']) {
    const ofType = entries.filter((e) => e.resourceType === rt);
    for (let i = 0; i < ofType.length; i += 500) pages.push(ofType.slice(i, i + 500));
  }
  await eachLimited(
    pages.map((p, i) => ({ p, i })),
    8,
    ({ p, i }) => catalog.writePage('a', i, p),
  );
  await catalog.commit({ format: 1, slot: 'a', runId: 'bench-seed', completedAt: new Date().toISOString(), pages: pages.length, entries: entries.length });
  client.destroy();
  return (Date.now() - started) / 1000;
};
