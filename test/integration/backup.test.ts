import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { Catalog } from '../../lambda/store/catalog.ts';
import { keyFor } from '../../lambda/core/keys.ts';
import { parseTarget } from '../../lambda/entry/compose.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import type { FakeAsset } from '../fakes/cloudinary-fake.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { pagesFor, populate } from '../fixtures.ts';
import { parseReport, runCli, s3For, s3Sha, sha256OfStream } from '../helpers.ts';

const BUCKET = 'backups';
const PREFIX = 'cld';

/** A Unix time (s) later than every object written so far: Cloudinary versions are upload times. */
const nextSecond = async (): Promise<number> => {
  await new Promise((r) => setTimeout(r, 1100));
  return Math.floor(Date.now() / 1000);
};

const localSha = async (root: string, key: string): Promise<string | undefined> => {
  const file = path.join(root, key);
  if (!(await stat(file).catch(() => undefined))) return undefined;
  return sha256OfStream(createReadStream(file));
};

/** The bytes-and-keys check of every backed-up asset. */
const checkAll = async (fake: CloudinaryFake, assets: FakeAsset[], read: (key: string) => Promise<string | undefined>, prefix: string) => {
  const bad: string[] = [];
  for (const a of assets) {
    const key = keyFor(prefix, a);
    assert.ok(key.startsWith(`${prefix ? `${prefix}/` : ''}${a.resourceType}/${a.type}/`), key);
    const got = await read(key);
    if (got !== fake.expectedSha256(a)) bad.push(`${key}: ${got ?? 'missing'}`);
  }
  assert.deepEqual(bad, [], `objects with wrong bytes or missing:\n${bad.slice(0, 10).join('\n')}`);
};

for (const kind of ['s3', 'folder'] as const) {
  describe(`backup into ${kind === 's3' ? 's3rver' : 'a local folder'}`, () => {
    let fake: CloudinaryFake;
    let s3rver: S3rverHandle;
    let s3: S3Client;
    let folder: string;
    let env: Record<string, string>;
    let to: string;
    let prefix: string;
    let read: (key: string) => Promise<string | undefined>;
    let assets: FakeAsset[];

    before(async () => {
      // A paid plan's 2,000 calls an hour: the ~480 private and authenticated originals are signed
      // downloads, each an Admin API call; at a Free plan's 500 the run would wait for
      // the hourly reset (guard.test.ts, originals.test.ts cover that).
      fake = new CloudinaryFake({ cloudName: 'demo', apiKey: 'key123', apiSecret: 'sekret-value-xyz', rateLimit: 2000 });
      await fake.start();
      assets = populate(fake).filter((a) => ['upload', 'private', 'authenticated'].includes(a.type));
      s3rver = await startS3rver([BUCKET]);
      s3 = s3For(s3rver.endpoint);
      folder = await mkdtemp(path.join(tmpdir(), 'cb-folder-'));
      // 5 MiB multipart threshold: the 12 MiB asset of the cut-download test goes multipart.
      env = { CLOUDINARY_URL: fake.cloudinaryUrl, CLOUDINARY_BACKUP_MULTIPART_THRESHOLD: '5MiB', ...s3rver.env };
      to = kind === 's3' ? `s3://${BUCKET}/${PREFIX}` : folder;
      prefix = kind === 's3' ? PREFIX : '';
      read = kind === 's3' ? (key) => s3Sha(s3, BUCKET, key) : (key) => localSha(folder, key);
    });

    after(async () => {
      await fake.stop();
      await s3rver.stop();
      await rm(folder, { recursive: true, force: true });
    });

    test('first run copies every original, byte for byte, to its key', async () => {
      const r = await runCli(['backup', '--to', to, '--json'], env);
      assert.equal(r.code, 0, r.stderr);
      const report = parseReport(r);
      // upload, private and authenticated are listed explicitly: the fetch and twitter records
      // are never listed (no Admin API call spent on them), so none is skipped.
      assert.equal(report.listed, assets.length);
      assert.equal(report.copied, assets.length);
      assert.equal(report.skipped, 0, 'remote types are not listed at all');
      assert.equal(report.failed, 0);
      assert.equal(report.bytesCopied, assets.reduce((s, a) => s + a.bytes, 0));
      // Private and authenticated originals come through signed delivery URLs, which cost no
      // Admin API call (docs/downloads.md): the listings and the metadata-field definitions only.
      assert.ok(assets.some((a) => a.type !== 'upload'), 'the fixtures hold private or authenticated assets');
      assert.equal(fake.stats.requests.download, 0, 'no download API request');
      assert.equal(report.cloudinaryApiCalls, pagesFor(fake) + 1, 'listing pages and the metadata-field definitions');
      await checkAll(fake, assets, read, prefix);
      if (kind === 's3') assert.deepEqual(await s3rver.openUploads(BUCKET), []);
    });

    test('second run copies nothing and lists with the minimum Admin API calls', async () => {
      fake.resetStats();
      const r = await runCli(['backup', '--to', to, '--json'], env);
      assert.equal(r.code, 0, r.stderr);
      const report = parseReport(r);
      assert.equal(report.copied, 0);
      assert.equal(report.unchanged, assets.length);
      assert.equal(report.cloudinaryApiCalls, pagesFor(fake) + 1, 'listing pages and the metadata-field definitions');
      assert.equal(fake.stats.adminCalls, pagesFor(fake) + 1, 'one Admin API call per listing page and one for the metadata-field definitions, nothing else');
      assert.equal(fake.stats.downloads, 0);
    });

    test('tag and context edits reach the catalog on the next run, without a download', async () => {
      const edited = assets[3] as FakeAsset;
      fake.updateMetadata(edited.publicId, edited.resourceType, edited.type, { tags: ['edited-tag'], context: { alt: 'new alt' } });
      fake.resetStats();
      const r = await runCli(['backup', '--to', to, '--json'], env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(parseReport(r).copied, 0);
      assert.equal(fake.stats.downloads, 0);
      const target = parseTarget(to, '--to', () => s3);
      const entries = [];
      for await (const e of new Catalog(target.destination, target.prefix).entries()) if (e.publicId === edited.publicId && e.type === edited.type && e.resourceType === edited.resourceType) entries.push(e);
      assert.equal(entries.length, 1);
      assert.deepEqual(entries[0]?.tags, ['edited-tag']);
      assert.deepEqual(entries[0]?.context, { alt: 'new alt' });
      assert.equal(entries[0]?.sha256, fake.expectedSha256(edited), 'the checksum recorded at copy time is carried over');
    });

    test('third run copies exactly the added, resized and same-size-replaced assets and keeps the deleted one', async () => {
      const later = await nextSecond();
      const added = fake.addAsset({ publicId: 'new/arrival', bytes: 4321 });
      const resized = assets[10] as FakeAsset;
      fake.replaceAsset(resized.publicId, resized.resourceType, resized.type, { bytes: resized.bytes + 17, version: later });
      const sameSize = assets[1105] as FakeAsset; // a video
      fake.replaceAsset(sameSize.publicId, sameSize.resourceType, sameSize.type, { version: later });
      const deleted = assets[20] as FakeAsset;
      const deletedSha = fake.expectedSha256(deleted);
      fake.deleteAsset(deleted.publicId, deleted.resourceType, deleted.type);

      const r = await runCli(['backup', '--to', to, '--json'], env);
      assert.equal(r.code, 0, r.stderr);
      const report = parseReport(r);
      assert.equal(report.copied, 3);
      assert.equal(report.missingFromSource, 1);
      assert.equal(report.pruned, 0);
      const current = [added, fake.getAsset(resized.publicId, resized.resourceType, resized.type)!, fake.getAsset(sameSize.publicId, sameSize.resourceType, sameSize.type)!];
      await checkAll(fake, current, read, prefix);
      assert.equal(await read(keyFor(prefix, deleted)), deletedSha, 'the deleted asset keeps its backup');
    });

    test('a download cut short leaves the old object intact, is reported, and a rerun fixes it', async () => {
      const victim = fake.listAssets().find((a) => a.type === 'upload' && a.resourceType === 'image')!;
      const oldSha = fake.expectedSha256(victim);
      // Big enough for a multipart upload, so an aborted upload is exercised too.
      const replaced = fake.replaceAsset(victim.publicId, 'image', 'upload', { bytes: 12 * 1024 * 1024 + 5, version: await nextSecond() });
      fake.cutDownload(victim.publicId, 7 * 1024 * 1024, { persistent: true });
      const r1 = await runCli(['backup', '--to', to, '--json'], env);
      assert.equal(r1.code, 1, 'exit 1 when an asset failed');
      const rep1 = parseReport(r1);
      assert.equal(rep1.failed, 1);
      assert.equal(rep1.failures[0]?.publicId, victim.publicId);
      assert.match(rep1.failures[0]?.error ?? '', /ended after|aborted|terminated|ECONNRESET|socket hang up/i);
      assert.equal(await read(keyFor(prefix, victim)), oldSha, 'the old object is intact');
      if (kind === 's3') assert.deepEqual(await s3rver.openUploads(BUCKET), [], 'no multipart upload left open');

      fake.clearFaults();
      const r2 = await runCli(['backup', '--to', to, '--json'], env);
      assert.equal(r2.code, 0, r2.stderr);
      const rep2 = parseReport(r2);
      assert.equal(rep2.copied, 1);
      assert.equal(await read(keyFor(prefix, victim)), fake.expectedSha256(replaced));
    });
  });
}
