/**
 * RestoreEngine in-process, through the real SDK against the Cloudinary fake, for what the CLI
 * tests cannot provoke: a backup read that fails half-way (single and chunked uploads) must
 * leave nothing stored and be retried with a fresh read, and a refused upload is not retried.
 * node:test runs each file in its own process, so the SDK is loaded here for this fake only.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Catalog } from '../../lambda/store/catalog.ts';
import type { CatalogEntry } from '../../lambda/store/catalog.ts';
import { parseCloudinaryUrl } from '../../lambda/adapters/cloudinary/config.ts';
import { CloudinaryUploader, MIN_CHUNK_SIZE } from '../../lambda/adapters/cloudinary/uploader.ts';
import type { Asset } from '../../lambda/core/asset.ts';
import { keyFor } from '../../lambda/core/keys.ts';
import { objectMetadata } from '../../lambda/core/metadata.ts';
import { LocalDestination } from '../../lambda/adapters/local/folder.ts';
import type { Destination } from '../../lambda/ports/storage.ts';
import type { Uploader } from '../../lambda/ports/upload.ts';
import { RestoreEngine } from '../../lambda/restore/restore.ts';
import { openCloudinary } from '../../lambda/entry/compose.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import { sha256OfStream } from '../helpers.ts';

const fake = new CloudinaryFake({ cloudName: 'engine-cloud', apiKey: '555555555555555', apiSecret: 'engine-secret' });
let folder: string;
let local: LocalDestination;
let uploader: CloudinaryUploader;
let lister: Awaited<ReturnType<typeof openCloudinary>>['source'];

const SMALL = Buffer.alloc(300_000, 7);
const BIG = Buffer.alloc(MIN_CHUNK_SIZE + 700_000, 9);

const entry = (publicId: string, bytes: number, resourceType = 'raw', type = 'upload'): CatalogEntry => ({
  key: keyFor('', { publicId, resourceType, type, format: '' }),
  publicId,
  assetId: publicId,
  resourceType,
  type,
  format: '',
  version: 1,
  bytes,
  createdAt: '',
  tags: ['t'],
  context: {},
  metadata: {},
  state: 'current',
});

/** The local folder, except that reads of one key fail after `cutAt` bytes for the first `times` reads. */
const cutting = (key: string, cutAt: number, times: number): Destination & { reads: number } => {
  const d = Object.create(local) as Destination & { reads: number };
  d.reads = 0;
  d.get = async (k: string) => {
    const body = await local.get(k);
    if (k !== key) return body;
    d.reads += 1;
    if (d.reads > times) return body;
    const all = await new Promise<Buffer>((resolve, reject) => {
      const parts: Buffer[] = [];
      body.on('data', (c: Buffer) => parts.push(c));
      body.on('end', () => resolve(Buffer.concat(parts)));
      body.on('error', reject);
    });
    return Readable.from(
      (async function* () {
        for (let at = 0; at < cutAt; at += 65536) yield all.subarray(at, Math.min(cutAt, at + 65536));
        await new Promise((r) => setTimeout(r, 20));
        throw new Error('backup read failed half-way');
      })(),
    );
  };
  return d;
};

const engine = (destination: Destination) =>
  new RestoreEngine(lister, uploader, destination, { prefix: '', overwrite: false, dryRun: false, concurrency: 2, retryDelayMs: 10 });

/** A backup (in a folder of its own) holding one asset, with its catalog entry. */
const oneAssetBackup = async (e: CatalogEntry, body: Buffer | Readable): Promise<LocalDestination> => {
  const dir = await mkdtemp(path.join(folder, 'one-'));
  const d = new LocalDestination(dir);
  await d.put({ key: e.key, body, length: e.bytes });
  const catalog = new Catalog(d, '');
  await catalog.writePage('a', 0, [e]);
  await catalog.commit({ format: 1, slot: 'a', runId: 'r', completedAt: new Date().toISOString(), pages: 1, entries: 1 });
  return d;
};

describe('RestoreEngine against the fake', () => {
  before(async () => {
    await fake.start();
    const cloud = await openCloudinary(fake.cloudinaryUrl);
    lister = cloud.source;
    uploader = new CloudinaryUploader(cloud.sdk, parseCloudinaryUrl(fake.cloudinaryUrl), { chunkSize: MIN_CHUNK_SIZE });
    folder = await mkdtemp(path.join(tmpdir(), 'cb-restore-engine-'));
    local = new LocalDestination(folder);
    const entries = [entry('small.bin', SMALL.length), entry('big.bin', BIG.length), entry('bad-type.bin', 10, 'raw', 'bogus')];
    await local.put({ key: entries[0]!.key, body: SMALL, length: SMALL.length });
    await local.put({ key: entries[1]!.key, body: BIG, length: BIG.length });
    await local.put({ key: entries[2]!.key, body: Buffer.alloc(10), length: 10 });
    const catalog = new Catalog(local, '');
    await catalog.writePage('a', 0, entries);
    await catalog.commit({ format: 1, slot: 'a', runId: 'r', completedAt: new Date().toISOString(), pages: 1, entries: entries.length });
  });

  after(async () => {
    await fake.stop();
    await rm(folder, { recursive: true, force: true });
  });

  beforeEach(() => {
    for (const a of fake.listAssets()) fake.deleteAsset(a.publicId, a.resourceType, a.type);
    fake.resetStats();
  });

  test('a single upload whose read fails half-way stores nothing; the retry with a fresh read succeeds', async () => {
    const d = cutting(keyFor('', { publicId: 'small.bin', resourceType: 'raw', type: 'upload', format: '' }), 100_000, 1);
    const report = await engine(d).run();
    assert.equal(d.reads, 2);
    const small = fake.getAsset('small.bin', 'raw', 'upload');
    assert.ok(small, 'restored on the second try');
    assert.equal(await sha256OfStream(Readable.from([fake.contentOf(small)])), await sha256OfStream(Readable.from([SMALL])));
    assert.deepEqual(small.tags, ['t']);
    assert.equal(report.failures.find((f) => f.publicId === 'small.bin'), undefined);
  });

  test('a chunked upload whose read fails after the first chunk never completes; every try is reported', async () => {
    const d = cutting(keyFor('', { publicId: 'big.bin', resourceType: 'raw', type: 'upload', format: '' }), MIN_CHUNK_SIZE + 300_000, 99);
    const report = await engine(d).run();
    assert.equal(d.reads, 3, 'three tries, each with a fresh read');
    assert.equal(fake.getAsset('big.bin', 'raw', 'upload'), undefined, 'no asset from a partial chunked upload');
    const failure = report.failures.find((f) => f.publicId === 'big.bin');
    assert.match(failure?.error ?? '', /half-way/);
    assert.equal(fake.getAsset('small.bin', 'raw', 'upload')?.bytes, SMALL.length, 'the other assets are restored');
  });

  test('an upload Cloudinary refuses (400) is reported once, not retried', async () => {
    const report = await engine(local).run();
    const failure = report.failures.find((f) => f.publicId === 'bad-type.bin');
    assert.match(failure?.error ?? '', /HTTP 400.*Invalid type/);
    assert.equal(report.failed, 1);
    assert.equal(report.restored, 2);
    // small + big (two chunks) + one refused request: no retry of the refused one.
    assert.equal(fake.stats.requests.upload, 1 + 2 + 1);
  });

  test('an asset Cloudinary stores under another public_id is reported with the name it got, never counted as restored', async () => {
    // Stands for the docs' "other special characters will be replaced with underscores"
    // ("Permitted naming conventions"), which the fake does not model: the answer names another public_id.
    const renaming: Uploader = {
      description: uploader.description,
      upload: async (r) => ({ ...(await uploader.upload(r)), publicId: r.publicId.replace(/\./g, '_') }),
    };
    const d = await oneAssetBackup(entry('dotted.name.bin', 50), Buffer.alloc(50, 1));
    const report = await new RestoreEngine(lister, renaming, d, { prefix: '', overwrite: false, dryRun: false, concurrency: 1, retryDelayMs: 10 }).run();
    assert.equal(report.restored, 0);
    assert.match(report.failures[0]?.error ?? '', /Cloudinary stored it as "dotted_name_bin", not under its own public_id/);
    assert.equal(fake.stats.requests.upload, 1, 'not retried');
  });

  test('a 150 MB video into a free account is refused with the plan limit named; the chunks are at least 5 MB', async () => {
    // Free plan: videos up to 100 MB (the fake's media_limits, docs "Upload limits"); the fake
    // also refuses chunks under 5 MB but the last (unit/cloudinary-fake.test.ts).
    const size = 150 * 1024 * 1024;
    const mib = Buffer.alloc(1024 * 1024, 3);
    const d = await oneAssetBackup(entry('clips/long', size, 'video'), Readable.from((function* () {
      for (let i = 0; i < 150; i += 1) yield mib;
    })()));
    const report = await new RestoreEngine(lister, uploader, d, { prefix: '', overwrite: false, dryRun: false, concurrency: 1, retryDelayMs: 10 }).run();
    assert.equal(report.restored, 0);
    assert.match(
      report.failures[0]?.error ?? '',
      /HTTP 400\): File size too large\. Got 157286400\. Maximum is 104857600\. — the target account's plan does not accept a file this large/,
    );
    assert.equal(fake.getAsset('clips/long', 'video', 'upload'), undefined);
    assert.equal(fake.stats.requests.upload, Math.ceil(size / MIN_CHUNK_SIZE), 'sent once in 5 MiB chunks, not retried');
  });

  test('an object shorter than its catalog entry, with no sha256 recorded, is never uploaded: the size rule is its only guard', async () => {
    // A catalog written before checksums has no sha256 (entry() sets none), so nothing later in
    // the upload would notice the missing bytes: collect.ts's size rule must refuse it.
    const e = entry('truncated.bin', 50);
    const d = await oneAssetBackup(e, Buffer.alloc(50, 4));
    await d.put({ key: e.key, body: Buffer.alloc(30, 4), length: 30 });
    const report = await new RestoreEngine(lister, uploader, d, { prefix: '', overwrite: false, dryRun: false, concurrency: 1, retryDelayMs: 10 }).run();
    assert.equal(report.failed, 1);
    assert.equal(report.failures[0]?.error, `its object ${e.key} is 30 bytes, the catalog says 50: the backup copy is damaged (run verify --deep)`);
    assert.equal(fake.getAsset('truncated.bin', 'raw', 'upload'), undefined, 'the 30 damaged bytes are not uploaded');
    assert.equal(fake.stats.requests.upload, 0);
  });

  test('a stale entry (newest version never copied) restores the older object whose size differs', async () => {
    // A stale entry records the listing's newest version while the object holds the one copied before.
    const e: CatalogEntry = { ...entry('older.bin', 50), state: 'stale' };
    const d = await oneAssetBackup(e, Buffer.alloc(50, 6));
    await d.put({ key: e.key, body: Buffer.alloc(30, 6), length: 30 });
    const report = await new RestoreEngine(lister, uploader, d, { prefix: '', overwrite: false, dryRun: false, concurrency: 1, retryDelayMs: 10 }).run();
    assert.deepEqual({ restored: report.restored, olderVersions: report.olderVersions, failed: report.failed }, { restored: 1, olderVersions: 1, failed: 0 });
    assert.equal(fake.getAsset('older.bin', 'raw', 'upload')?.bytes, 30);
  });

  test('without --overwrite, an asset the existence check missed is kept: the upload says overwrite=false', async () => {
    // The listing can miss an asset (added after the check, or listing lag): the upload itself must
    // then keep it. Upload API reference, "overwrite" (default true): with false, an existing asset
    // is not replaced and the answer carries "existing": true (the fake's upload.ts models that).
    fake.addAsset({ publicId: 'kept.bin', resourceType: 'raw', bytes: 60 });
    const before = fake.getAsset('kept.bin', 'raw', 'upload')!;
    const was = { version: before.version, sha: fake.expectedSha256(before) };
    const d = await oneAssetBackup(entry('kept.bin', 45), Buffer.alloc(45, 5));
    const blind = Object.create(lister) as typeof lister;
    blind.listPage = () => Promise.resolve({ assets: [] });
    const report = await new RestoreEngine(blind, uploader, d, { prefix: '', overwrite: false, dryRun: false, concurrency: 1, retryDelayMs: 10 }).run();
    assert.deepEqual({ restored: report.restored, skipped: report.skipped, failed: report.failed }, { restored: 0, skipped: 1, failed: 0 });
    const now = fake.getAsset('kept.bin', 'raw', 'upload')!;
    assert.deepEqual({ version: now.version, sha: fake.expectedSha256(now) }, was, 'the account\'s asset is not replaced');
  });

  test('a moderation decision that cannot be set is reported: what the asset is now and what to do', async () => {
    const d = await oneAssetBackup({ ...entry('judged.bin', 40), moderationStatus: 'approved' }, Buffer.alloc(40, 2));
    const refusing = Object.create(lister) as typeof lister;
    refusing.updateModeration = () => Promise.reject(new Error('HTTP 500: injected'));
    const report = await new RestoreEngine(refusing, uploader, d, { prefix: '', overwrite: false, dryRun: false, concurrency: 1, retryDelayMs: 10 }).run();
    assert.equal(report.restored, 0);
    assert.match(
      report.failures[0]?.error ?? '',
      /uploaded, but its moderation status "approved" could not be set \(HTTP 500: injected\): it is pending in the account; approve it in the Media Library's moderation queue/,
    );
    assert.equal(fake.getAsset('judged.bin', 'raw', 'upload')?.moderationStatus, 'pending', 'the upload put it in the manual queue');
  });

  test('an object the catalog does not name, whose key cannot tell its public_id, is reported and never uploaded', async () => {
    // A key under _hashed/ holds a hash of a long public_id (core/keys.ts); a folder keeps no object
    // metadata, so only the catalog could name it. Uploaded anyway, it would land under a name
    // Cloudinary makes up (Upload API reference: public_id "if not specified, a random string").
    const d = await oneAssetBackup(entry('named.bin', 20), Buffer.alloc(20, 1));
    const orphan = 'raw/upload/_hashed/0123456789abcdef0123456789abcdef.bin';
    await d.put({ key: orphan, body: Buffer.alloc(25, 3), length: 25 });
    const options = { prefix: '', overwrite: false, dryRun: false, concurrency: 1, retryDelayMs: 10, includeUncatalogued: true };
    const report = await new RestoreEngine(lister, uploader, d, options).run();
    assert.deepEqual({ restored: report.restored, failed: report.failed }, { restored: 1, failed: 1 });
    assert.equal(report.failures[0]?.publicId, orphan);
    assert.match(report.failures[0]?.error ?? '', /^not in the catalog and its key is a hash of the public_id/);
    assert.deepEqual(fake.listAssets().map((a) => a.publicId), ['named.bin'], 'nothing uploaded under another name');
    assert.equal(fake.stats.requests.upload, 1);
  });

  test('an older object of an asset the catalog names under another key is not restored: the catalog\'s copy is', async () => {
    // The asset's format changed (pic.png became pic.jpg): the backup keeps the old object, whose key
    // tells the same identity (public_id, resource type, type). Only the catalog's copy goes up.
    const e: CatalogEntry = { ...entry('pic', 40, 'image'), key: 'image/upload/pic.jpg', format: 'jpg' };
    const d = await oneAssetBackup(e, Buffer.alloc(40, 7));
    await d.put({ key: 'image/upload/pic.png', body: Buffer.alloc(35, 8), length: 35 });
    const report = await new RestoreEngine(lister, uploader, d, { prefix: '', overwrite: true, dryRun: false, concurrency: 2, retryDelayMs: 10 }).run();
    assert.deepEqual({ restored: report.restored, skipped: report.skipped, failed: report.failed }, { restored: 1, skipped: 0, failed: 0 });
    assert.equal(fake.stats.requests.upload, 1, 'one upload: the old object is not sent');
    const pic = fake.getAsset('pic', 'image', 'upload');
    assert.ok(pic);
    assert.deepEqual(fake.contentOf(pic), Buffer.alloc(40, 7));
  });

  test('an asset whose format changed has a deleted entry for its old key: only the current entry is restored', async () => {
    // finish-run.ts writes this run's entries first and carries the old key forward after them as
    // "deleted" (the object is kept): both name one identity, and the first, current one must win.
    const current: CatalogEntry = { ...entry('art', 40, 'image'), key: 'image/upload/art.jpg', format: 'jpg' };
    const old: CatalogEntry = { ...entry('art', 35, 'image'), key: 'image/upload/art.png', format: 'png', state: 'deleted' };
    const d = await oneAssetBackup(current, Buffer.alloc(40, 7));
    await d.put({ key: old.key, body: Buffer.alloc(35, 8), length: 35 });
    const catalog = new Catalog(d, '');
    await catalog.writePage('b', 0, [current, old]);
    await catalog.commit({ format: 1, slot: 'b', runId: 'r2', completedAt: new Date().toISOString(), pages: 1, entries: 2 });
    const report = await new RestoreEngine(lister, uploader, d, { prefix: '', overwrite: true, dryRun: false, concurrency: 2, retryDelayMs: 10 }).run();
    assert.deepEqual({ restored: report.restored, skipped: report.skipped, failed: report.failed }, { restored: 1, skipped: 0, failed: 0 });
    assert.equal(fake.stats.requests.upload, 1, 'the old format is not sent');
    const art = fake.getAsset('art', 'image', 'upload');
    assert.ok(art);
    assert.deepEqual(fake.contentOf(art), Buffer.alloc(40, 7));
  });

  test('under --only, an uncatalogued object named only by its S3 metadata is left alone when outside the prefix', async () => {
    // A _hashed key tells nothing; on S3 its cld-* user metadata names the asset (core/metadata.ts
    // writes it, S3 HeadObject returns it: the stub below answers what the S3 adapter's head does).
    const d = await oneAssetBackup(entry('keep/one.bin', 20), Buffer.alloc(20, 1));
    const orphan = 'raw/upload/_hashed/fedcba9876543210fedcba9876543210.bin';
    await d.put({ key: orphan, body: Buffer.alloc(25, 3), length: 25 });
    const outside: Asset = { assetId: 'x', publicId: 'other/thing.bin', resourceType: 'raw', type: 'upload', format: '', version: 1, bytes: 25, createdAt: '', secureUrl: '', tags: [], context: {}, metadata: {} };
    const s3Like = { headMetadata: (k: string) => Promise.resolve(k === orphan ? objectMetadata(outside) : undefined) };
    const options = { prefix: '', only: 'keep/', overwrite: true, dryRun: false, concurrency: 1, retryDelayMs: 10, includeUncatalogued: true };
    const report = await new RestoreEngine(lister, uploader, d, options, {}, s3Like).run();
    assert.deepEqual({ restored: report.restored, failed: report.failed }, { restored: 1, failed: 0 });
    assert.deepEqual(fake.listAssets().map((a) => a.publicId), ['keep/one.bin'], 'nothing outside --only is uploaded');
  });
});
