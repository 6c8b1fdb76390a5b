import { createHash } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Catalog, entryFor } from '../../lambda/store/catalog.ts';
import type { CatalogEntry } from '../../lambda/store/catalog.ts';
import type { Asset } from '../../lambda/core/asset.ts';
import { keyFor } from '../../lambda/core/keys.ts';
import { objectMetadata } from '../../lambda/core/metadata.ts';
import { S3Destination } from '../../lambda/adapters/s3/destination.ts';
import type { CloudinaryFake, FakeAsset } from '../fakes/cloudinary-fake.ts';
import type { MemoryS3Handle, SeedObject } from '../fakes/memory-s3.ts';
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

/** Every asset of the fake, as listed, with its backup key and catalog entry. */
const backedUp = (fake: CloudinaryFake, prefix: string): Array<{ asset: FakeAsset; listed: Asset; key: string; entry: CatalogEntry }> =>
  fake.listAssets().map((asset) => {
    const listed = asListed(asset);
    const key = keyFor(prefix, listed);
    return { asset, listed, key, entry: entryFor(listed, key, 'current', fake.expectedSha256(asset)) };
  });

/**
 * Makes a bucket hold what a completed first backup of the fake's account leaves: every object
 * (written straight into the server's store — s3rver's files, or the in-memory server's seed path —
 * at thousands per second instead of the ~150 a second a real first backup of tiny files reaches
 * through s3rver) and the catalog of that run (written through the real Catalog over the S3 API,
 * with every asset's sha256). Resolves with the seconds it took.
 */
export const seedBackup = async (fake: CloudinaryFake, s3: S3rverHandle | MemoryS3Handle, bucket: string, prefix: string): Promise<number> => {
  const started = Date.now();
  const items = backedUp(fake, prefix);
  if ('directory' in s3) seedS3rverObjects(fake, s3, bucket, items);
  else await seedMemoryObjects(fake, s3, bucket, items);
  await writeCatalog(s3.endpoint, bucket, prefix, items.map((i) => i.entry));
  return (Date.now() - started) / 1000;
};

/** s3rver's files of each object: `<key>._S3rver_object`, `.md5`, `_metadata.json`, as its PutObject writes them. */
const seedS3rverObjects = (fake: CloudinaryFake, s3: S3rverHandle, bucket: string, items: ReturnType<typeof backedUp>): void => {
  const root = path.join(s3.directory, bucket);
  const dirs = new Set<string>();
  const files: Array<{ dir: string; base: string; asset: FakeAsset; listed: Asset }> = [];
  for (const { asset, listed, key } of items) {
    const parts = key.split('/');
    const base = parts.pop() as string;
    const dir = path.join(root, ...parts);
    dirs.add(dir);
    files.push({ dir, base, asset, listed });
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
};

/**
 * The in-memory server's objects: the generator seed of each asset's bytes (the server makes the
 * same bytes on a read and their MD5 for the ETag), its user metadata as a PutObject by the engine
 * sets it. One object is read back over the S3 API and compared with the fake's bytes.
 */
const seedMemoryObjects = async (fake: CloudinaryFake, s3: MemoryS3Handle, bucket: string, items: ReturnType<typeof backedUp>): Promise<void> => {
  const objects = function* (): Generator<SeedObject> {
    for (const { asset, listed, key } of items) {
      const seeded = fake.contentSeed(asset);
      const metadata = objectMetadata(listed);
      yield seeded
        ? { key, seed: seeded.seed, size: seeded.size, metadata, contentType: 'application/octet-stream' }
        : { key, base64: fake.contentOf(asset).toString('base64'), metadata, contentType: 'application/octet-stream' };
    }
  };
  const seeded = await s3.seed(bucket, objects());
  if (seeded !== items.length) throw new Error(`memory-s3 took ${seeded} of ${items.length} objects`);
  const first = items[0];
  if (first) {
    const client = s3For(s3.endpoint);
    const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: first.key }));
    const got = Buffer.from((await r.Body?.transformToByteArray()) ?? new Uint8Array());
    client.destroy();
    if (!got.equals(fake.contentOf(first.asset))) throw new Error(`memory-s3 serves other bytes than the fake for ${first.key}`);
  }
};

/** The catalog a real run writes: one page per listing page (500 assets of one resource type). */
const writeCatalog = async (endpoint: string, bucket: string, prefix: string, entries: readonly CatalogEntry[]): Promise<void> => {
  const client = s3For(endpoint);
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
};
