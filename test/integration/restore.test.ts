/**
 * `restore`, end to end: the real CLI (child processes) backs up one fake Cloudinary account
 * into s3rver or a folder, then restores it into a second, empty fake account with other
 * credentials, through the real SDK and the fake's signature-checking Upload API.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { keyFor } from '../../lambda/core/keys.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import type { FakeAssetSpec } from '../fakes/cloudinary-fake.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { parseReport, runCli, s3For } from '../helpers.ts';
import { pagesFor } from '../fixtures.ts';

const BUCKET = 'backups';
const PREFIX = 'cld';
const BIG_BYTES = 25 * 1024 * 1024 + 123;
const BULK = 520;

/** Every resource type and backed-up delivery type, tricky public_ids, tags, context and metadata. */
const SPECS: FakeAssetSpec[] = [
  {
    publicId: 'folder/photo one',
    format: 'png',
    bytes: 3000,
    tags: ['summer', 'beach'],
    context: { alt: 'A photo', caption: 'pipes | and = signs', légende: '日本語 😀' },
    metadata: { sku: 'A|1=2', colors: ['red', 'green'] },
  },
  { publicId: 'folder/secret', type: 'private', bytes: 2500, tags: ['private'], context: { alt: 'hidden' } },
  { publicId: 'authed/pic', type: 'authenticated', format: 'webp', bytes: 1800, metadata: { rating: '5' } },
  { publicId: '日本語/café ü', format: 'gif', bytes: 900, context: { note: 'a=b|c=d' } },
  // Odd but permitted (spaces, commas, `=`, `@`, `(`; Cloudinary refuses `?&#\\%<>+`: docs "Permitted
  // naming conventions"; restore-placement.test.ts and faults-names.test.ts restore refused names).
  { publicId: 'a, b=100 @(x)', bytes: 700, tags: ['odd name'] },
  { publicId: 'double//slash', bytes: 600, tags: ['encoded key'] },
  { publicId: 'clips/intro', resourceType: 'video', format: 'mp4', bytes: 9000, tags: ['video'], context: { caption: 'Intro' } },
  { publicId: 'clips/private', resourceType: 'video', type: 'private', format: 'mov', bytes: 7000 },
  { publicId: 'docs/readme.txt', resourceType: 'raw', bytes: 1234, tags: ['docs'], context: { lang: 'en' } },
  { publicId: 'data/blob.bin', resourceType: 'raw', type: 'authenticated', bytes: 4321, metadata: { owner: 'ops|team' } },
  { publicId: 'no-extension', resourceType: 'raw', type: 'private', bytes: 333 },
];

const fill = (fake: CloudinaryFake, opts: { big: boolean; bulk: number }): void => {
  for (const s of SPECS) fake.addAsset(s);
  if (opts.big) fake.addAsset({ publicId: 'big/movie', resourceType: 'video', format: 'mp4', bytes: BIG_BYTES, tags: ['large'] });
  for (let i = 0; i < opts.bulk; i += 1) {
    fake.addAsset({ publicId: `bulk/img-${String(i).padStart(4, '0')}`, bytes: 200 + (i % 50), ...(i % 7 === 0 ? { tags: ['bulk'] } : {}) });
  }
  // Remote types are not backed up, so they are not restored either.
  fake.addAsset({ publicId: 'https://example.com/remote.jpg', type: 'fetch', bytes: 500 });
};

const BACKED_UP = new Set(['upload', 'private', 'authenticated']);

/** What must survive a restore, per asset, sorted by identity. */
const snapshot = (fake: CloudinaryFake, withMetadata = true) =>
  fake
    .listAssets()
    .filter((a) => BACKED_UP.has(a.type))
    .map((a) => ({
      id: `${a.resourceType}/${a.type}/${a.publicId}`,
      format: a.format,
      bytes: fake.servedSize(a),
      sha256: fake.expectedSha256(a),
      ...(withMetadata ? { tags: [...a.tags], context: { ...a.context }, metadata: { ...a.metadata } } : {}),
    }))
    .sort((x, y) => (x.id < y.id ? -1 : 1));

const urlWithSecret = (fake: CloudinaryFake, secret: string): string =>
  `cloudinary://${fake.apiKey}:${secret}@${fake.cloudName}?upload_prefix=${fake.origin}`;

let n = 0;
const emptyAccount = async (): Promise<CloudinaryFake> => {
  n += 1;
  const fake = new CloudinaryFake({ cloudName: `target-${n}`, apiKey: `22222222222222${n}`, apiSecret: `target-secret-${n}` });
  await fake.start();
  return fake;
};

describe('restore from s3rver into an empty account', () => {
  let src: CloudinaryFake;
  let dst: CloudinaryFake;
  let s3rver: S3rverHandle;
  let s3: S3Client;
  let s3env: Record<string, string>;
  let total: number;
  let totalBytes: number;
  const from = `s3://${BUCKET}/${PREFIX}`;
  const restoreInto = (fake: CloudinaryFake, args: string[], url = fake.cloudinaryUrl) =>
    runCli(['restore', '--from', from, '--json', ...args], { CLOUDINARY_URL: url, ...s3env });

  before(async () => {
    src = new CloudinaryFake({ cloudName: 'source-cloud', apiKey: '111111111111111', apiSecret: 'source-secret-abc' });
    await src.start();
    fill(src, { big: true, bulk: BULK });
    const backedUp = src.listAssets().filter((a) => BACKED_UP.has(a.type));
    total = backedUp.length;
    totalBytes = backedUp.reduce((s, a) => s + a.bytes, 0);
    dst = await emptyAccount();
    s3rver = await startS3rver([BUCKET]);
    s3 = s3For(s3rver.endpoint);
    s3env = s3rver.env;
    const r = await runCli(['backup', '--to', from, '--json'], { CLOUDINARY_URL: src.cloudinaryUrl, ...s3env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(parseReport(r).copied, total);
  });

  after(async () => {
    await src.stop();
    await dst.stop();
    await s3rver.stop();
  });

  test('a dry run plans every asset, checks existence with listings only, and uploads nothing', async () => {
    const r = await restoreInto(dst, ['--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    const report = parseReport(r);
    assert.equal(report.dryRun, true);
    assert.equal(report.listed, total);
    assert.equal(report.plannedUploads, total);
    assert.equal(report.plannedBytes, totalBytes);
    assert.equal(report.restored, 0);
    assert.equal(report.cloudinaryApiCalls, 9, 'one listing page per resource type and delivery type of an empty account');
    assert.equal(dst.stats.requests.upload, 0);
    assert.equal(dst.listAssets().length, 0);
  });

  test('credentials with the wrong secret: the listing is refused, and so is every signed upload (exit 2)', async () => {
    const wrong = urlWithSecret(dst, 'not-the-secret');
    const listed = await restoreInto(dst, [], wrong);
    assert.equal(listed.code, 2, listed.stderr);
    assert.match(listed.stderr, /refused the credentials.*CLOUDINARY_URL/s);

    dst.resetStats();
    // --overwrite needs no existence check, so the first request is a signed upload.
    const uploaded = await restoreInto(dst, ['--overwrite', '--concurrency', '4'], wrong);
    assert.equal(uploaded.code, 2, uploaded.stderr);
    assert.match(uploaded.stderr, /401: Invalid Signature/);
    assert.match(uploaded.stderr, /secret in CLOUDINARY_URL/);
    assert.doesNotMatch(uploaded.stderr, /not-the-secret/, 'the secret is never printed');
    const report = parseReport(uploaded);
    const failed = report.failed as number;
    assert.ok(failed >= 1 && failed <= 4, `failed ${failed}`);
    assert.match(report.failures[0]?.error ?? '', /Invalid Signature/);
    assert.ok(dst.stats.requests.upload >= 1 && dst.stats.requests.upload <= 4, 'the run stops after the refused uploads in flight');
    assert.equal(dst.stats.adminCalls, 0);
    assert.equal(dst.listAssets().length, 0, 'nothing was stored');
  });

  test('restore brings back every asset with its public_id, types, bytes, tags, context and metadata', async () => {
    dst.resetStats();
    const r = await restoreInto(dst, []);
    assert.equal(r.code, 0, r.stderr);
    const report = parseReport(r);
    assert.equal(report.listed, total);
    assert.equal(report.restored, total);
    assert.equal(report.skipped, 0);
    assert.equal(report.failed, 0);
    assert.equal(report.bytesRestored, totalBytes);
    assert.equal(report.notInCatalog, 0);
    assert.deepEqual(snapshot(dst), snapshot(src));
    assert.equal(dst.stats.uploads, total);
    // 25 MiB in 20 MB chunks: two requests for the big file, one for every other.
    assert.equal(dst.stats.requests.upload, total + 1, 'the big file went up in two chunks');
    assert.equal(dst.getAsset('big/movie', 'video', 'upload')?.bytes, BIG_BYTES);
  });

  test('a rerun uploads nothing and spends one Admin API call per listing page', async () => {
    dst.resetStats();
    const r = await restoreInto(dst, []);
    assert.equal(r.code, 0, r.stderr);
    const report = parseReport(r);
    assert.equal(report.restored, 0);
    assert.equal(report.skipped, total);
    assert.equal(dst.stats.requests.upload, 0);
    const images = dst.listAssets().filter((a) => a.resourceType === 'image').length;
    const pages = pagesFor(dst);
    assert.ok(images > 500, 'images span two listing pages');
    assert.equal(dst.stats.adminCalls, pages);
    assert.equal(report.cloudinaryApiCalls, pages);
  });

  test('--only restores just that prefix; --overwrite replaces without an existence check', async () => {
    dst.deleteAsset('folder/photo one', 'image', 'upload');
    dst.deleteAsset('clips/intro', 'video', 'upload');
    dst.resetStats();
    const only = await restoreInto(dst, ['--only', 'folder/']);
    assert.equal(only.code, 0, only.stderr);
    const r1 = parseReport(only);
    assert.equal(r1.listed, 2);
    assert.equal(r1.restored, 1);
    assert.equal(r1.skipped, 1);
    assert.equal(dst.getAsset('clips/intro', 'video', 'upload'), undefined, 'outside --only: not restored');

    dst.resetStats();
    const over = await restoreInto(dst, ['--only', 'clips/', '--overwrite']);
    assert.equal(over.code, 0, over.stderr);
    const r2 = parseReport(over);
    assert.equal(r2.restored, 2);
    assert.equal(r2.skipped, 0);
    assert.equal(dst.stats.adminCalls, 0);
    assert.deepEqual(snapshot(dst), snapshot(src));
  });

  test('without a catalog, objects are restored from their S3 metadata with --include-uncatalogued (identity and bytes, no tags)', async () => {
    const pointer = `${PREFIX}/_catalog/current.json`;
    const aside = `${PREFIX}/_catalog/current.json.aside`;
    await s3.send(new CopyObjectCommand({ Bucket: BUCKET, CopySource: `${BUCKET}/${pointer}`, Key: aside }));
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: pointer }));
    const third = await emptyAccount();
    try {
      // A plain restore uploads catalog entries only: without a catalog, a usage error that names the flag.
      const plain = await restoreInto(third, []);
      assert.equal(plain.code, 2, plain.stderr);
      assert.match(plain.stderr, /No catalog in .*add --include-uncatalogued/);
      assert.equal(third.listAssets().length, 0);
      const r = await restoreInto(third, ['--include-uncatalogued']);
      assert.equal(r.code, 0, r.stderr);
      const report = parseReport(r);
      assert.equal(report.restored, total);
      assert.equal(report.notInCatalog, total);
      assert.deepEqual(snapshot(third, false), snapshot(src, false));
    } finally {
      await third.stop();
      await s3.send(new CopyObjectCommand({ Bucket: BUCKET, CopySource: `${BUCKET}/${aside}`, Key: pointer }));
    }
  });

  test('an object missing from the backup is a named failure (exit 1); the rest is restored', async () => {
    const victim = src.getAsset('docs/readme.txt', 'raw', 'upload')!;
    const key = keyFor(PREFIX, victim);
    await s3.send(new CopyObjectCommand({ Bucket: BUCKET, CopySource: `${BUCKET}/${encodeURI(key)}`, Key: `${key}.aside` }));
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    const fourth = await emptyAccount();
    try {
      const r = await restoreInto(fourth, ['--only', 'docs/']);
      assert.equal(r.code, 1, r.stderr);
      const report = parseReport(r);
      assert.equal(report.failed, 1);
      assert.equal(report.failures[0]?.publicId, 'docs/readme.txt');
      assert.match(report.failures[0]?.error ?? '', /missing from the backup/);
    } finally {
      await fourth.stop();
      await s3.send(new CopyObjectCommand({ Bucket: BUCKET, CopySource: `${BUCKET}/${encodeURI(`${key}.aside`)}`, Key: key }));
    }
  });
  test('a backup object whose bytes differ from the recorded sha256 is reported as damaged (exit 1)', async () => {
    const victim = src.getAsset('a, b=100 @(x)', 'image', 'upload')!;
    const key = keyFor(PREFIX, victim);
    const aside = `${PREFIX}/aside/victim`;
    await s3.send(new CopyObjectCommand({ Bucket: BUCKET, CopySource: `${BUCKET}/${encodeURI(key)}`, Key: aside }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: randomBytes(victim.bytes) }));
    const fifth = await emptyAccount();
    try {
      const r = await restoreInto(fifth, ['--only', 'a, b']);
      assert.equal(r.code, 1, r.stderr);
      const report = parseReport(r);
      assert.equal(report.failed, 1);
      assert.equal(report.restored, 0);
      assert.match(report.failures[0]?.error ?? '', /differs from the sha256 recorded at backup time: not uploaded/);
      assert.equal(fifth.getAsset(victim.publicId, 'image', 'upload'), undefined, 'a damaged object is never uploaded');
      // --overwrite into the account that still has the good original: it stays as it was.
      const before = { version: victim.version, sha: src.expectedSha256(victim) };
      const again = await restoreInto(src, ['--only', 'a, b', '--overwrite']);
      assert.equal(again.code, 1, again.stderr);
      const now = src.getAsset(victim.publicId, 'image', 'upload')!;
      assert.deepEqual({ version: now.version, sha: src.expectedSha256(now) }, before, '--overwrite never replaces a good asset with damaged bytes');
    } finally {
      await fifth.stop();
      await s3.send(new CopyObjectCommand({ Bucket: BUCKET, CopySource: `${BUCKET}/${aside}`, Key: key }));
    }
  });
  test('a backup object whose size differs from the catalog is refused before any upload (exit 1); the rest is restored', async () => {
    // collect.ts's size rule: a length the catalog did not record is damage, named as such and
    // never sent, even where a sha256 would catch it later (and a catalog from before checksums has none).
    const victim = src.getAsset('clips/intro', 'video', 'upload')!;
    const key = keyFor(PREFIX, victim);
    const aside = `${PREFIX}/aside/short`;
    await s3.send(new CopyObjectCommand({ Bucket: BUCKET, CopySource: `${BUCKET}/${encodeURI(key)}`, Key: aside }));
    const good = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray());
    const short = good.subarray(0, good.length - 1000);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: short }));
    const sixth = await emptyAccount();
    try {
      const r = await restoreInto(sixth, ['--only', 'clips/']);
      assert.equal(r.code, 1, r.stderr);
      const report = parseReport(r);
      assert.equal(report.listed, 2);
      assert.equal(report.failed, 1);
      assert.equal(report.restored, 1);
      assert.equal(report.failures[0]?.publicId, 'clips/intro');
      assert.equal(
        report.failures[0]?.error,
        `its object ${key} is ${short.length} bytes, the catalog says ${good.length}: the backup copy is damaged (run verify --deep)`,
      );
      assert.equal(sixth.getAsset('clips/intro', 'video', 'upload'), undefined, 'the damaged copy is not uploaded');
      assert.equal(sixth.stats.requests.upload, 1, 'one upload request: the other asset; none for the damaged one');
      assert.equal(sixth.getAsset('clips/private', 'video', 'private')?.bytes, src.getAsset('clips/private', 'video', 'private')?.bytes);
    } finally {
      await sixth.stop();
      await s3.send(new CopyObjectCommand({ Bucket: BUCKET, CopySource: `${BUCKET}/${aside}`, Key: key }));
    }
  });
});

describe('restore from a folder', () => {
  let src: CloudinaryFake;
  let folder: string;
  let expected: ReturnType<typeof snapshot>;
  let expectedBare: ReturnType<typeof snapshot>;

  before(async () => {
    src = new CloudinaryFake({ cloudName: 'folder-source', apiKey: '333333333333333', apiSecret: 'folder-secret' });
    await src.start();
    fill(src, { big: false, bulk: 0 });
    expected = snapshot(src);
    expectedBare = snapshot(src, false);
    folder = await mkdtemp(path.join(tmpdir(), 'cb-restore-'));
    const r = await runCli(['backup', '--to', folder, '--json'], { CLOUDINARY_URL: src.cloudinaryUrl });
    assert.equal(r.code, 0, r.stderr);
    // Deleted from Cloudinary after the backup: kept in the backup (state "deleted"), and restored.
    src.deleteAsset('clips/private', 'video', 'private');
    const again = await runCli(['backup', '--to', folder, '--json'], { CLOUDINARY_URL: src.cloudinaryUrl });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(parseReport(again).missingFromSource, 1);
  });

  after(async () => {
    await src.stop();
    await rm(folder, { recursive: true, force: true });
  });

  test('with the catalog: everything comes back, metadata and deleted assets included', async () => {
    const dst = await emptyAccount();
    try {
      const r = await runCli(['restore', '--from', folder, '--json'], { CLOUDINARY_URL: dst.cloudinaryUrl });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(parseReport(r).restored, SPECS.length);
      assert.deepEqual(snapshot(dst), expected, 'every asset, including the one deleted from Cloudinary since');
    } finally {
      await dst.stop();
    }
  });

  test('without a catalog, with --include-uncatalogued: identities are read back from the keys (encoded ones included)', async () => {
    const pointer = path.join(folder, '_catalog', 'current.json');
    await rename(pointer, `${pointer}.aside`);
    const dst = await emptyAccount();
    try {
      const r = await runCli(['restore', '--from', folder, '--json', '--include-uncatalogued'], { CLOUDINARY_URL: dst.cloudinaryUrl });
      assert.equal(r.code, 0, r.stderr);
      const report = parseReport(r);
      assert.equal(report.restored, SPECS.length);
      assert.equal(report.notInCatalog, SPECS.length);
      assert.deepEqual(snapshot(dst, false), expectedBare);
    } finally {
      await dst.stop();
      await rename(`${pointer}.aside`, pointer);
    }
  });

  test('a folder with no backup in it is a usage error (exit 2)', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'cb-empty-'));
    const dst = await emptyAccount();
    try {
      const r = await runCli(['restore', '--from', empty], { CLOUDINARY_URL: dst.cloudinaryUrl });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /No backup found/);
    } finally {
      await dst.stop();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
