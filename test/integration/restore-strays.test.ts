/**
 * A restore uploads what the account had: catalog entries. Objects the catalog does not name are
 * left out unless `--include-uncatalogued` asks for them, and then only those cloudinary-backup
 * wrote (its cld-* metadata on S3, a key its key rule makes in a folder). Dot-files and operating
 * system files are never uploaded.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { parseReport, runCli, s3For } from '../helpers.ts';

const BUCKET = 'strays';
/** Left by Finder, Explorer and macOS on other volumes (github/gitignore Global/macOS.gitignore, Windows.gitignore). */
const SYSTEM = ['image/upload/.DS_Store', 'image/upload/Thumbs.db', 'image/upload/shop/desktop.ini', 'image/upload/._kept.jpg', 'raw/upload/.Trashes/501/old.bin'];

let n = 0;
const emptyAccount = async (): Promise<CloudinaryFake> => {
  n += 1;
  const fake = new CloudinaryFake({ cloudName: `stray-target-${n}`, apiKey: `33333333333333${n}`, apiSecret: `stray-target-secret-${n}` });
  await fake.start();
  return fake;
};
const names = (fake: CloudinaryFake): string[] => fake.listAssets().map((a) => `${a.resourceType}/${a.type}/${a.publicId}`).sort();

describe('restore uploads only what the account had', () => {
  let src: CloudinaryFake;
  let folder: string;
  let s3rver: S3rverHandle;

  before(async () => {
    src = new CloudinaryFake({ cloudName: 'stray-source', apiKey: '444444444444444', apiSecret: 'stray-source-secret' });
    await src.start();
    src.addAsset({ publicId: 'kept', bytes: 1200 });
    src.addAsset({ publicId: 'shop/shoe', bytes: 900 });
    src.addAsset({ publicId: 'notes', resourceType: 'raw', bytes: 300 });
    folder = await mkdtemp(path.join(tmpdir(), 'cld-strays-'));
    const r = await runCli(['backup', '--to', folder, '--json'], { CLOUDINARY_URL: src.cloudinaryUrl });
    assert.equal(r.code, 0, r.stderr);
    for (const key of [...SYSTEM, 'image/upload/stray.jpg', 'image/upload/copy\\of.jpg']) {
      await mkdir(path.dirname(path.join(folder, key)), { recursive: true });
      await writeFile(path.join(folder, key), Buffer.alloc(64, 7));
    }
    s3rver = await startS3rver([BUCKET]);
    const s = await runCli(['backup', '--to', `s3://${BUCKET}/p`, '--json'], { CLOUDINARY_URL: src.cloudinaryUrl, ...s3rver.env });
    assert.equal(s.code, 0, s.stderr);
    const s3 = s3For(s3rver.endpoint);
    for (const key of [...SYSTEM, 'image/upload/stray.jpg']) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `p/${key}`, Body: Buffer.alloc(64, 7) }));
  });

  after(async () => {
    await src.stop();
    await s3rver.stop();
    await rm(folder, { recursive: true, force: true });
  });

  const CATALOGUED = ['image/upload/kept', 'image/upload/shop/shoe', 'raw/upload/notes'];

  test('a folder backup: a plain restore uploads catalog entries only; --include-uncatalogued adds a key the key rule makes', async () => {
    const dst = await emptyAccount();
    try {
      const plain = await runCli(['restore', '--from', folder, '--json'], { CLOUDINARY_URL: dst.cloudinaryUrl });
      assert.equal(plain.code, 0, plain.stderr);
      const r = parseReport(plain);
      assert.deepEqual([r.restored, r.failed, r.notInCatalog, r.uncataloguedLeftOut, r.systemFilesIgnored], [3, 0, 0, 2, SYSTEM.length]);
      assert.deepEqual(names(dst), CATALOGUED, 'no stray and no system file uploaded');

      const more = await runCli(['restore', '--from', folder, '--json', '--include-uncatalogued'], { CLOUDINARY_URL: dst.cloudinaryUrl });
      const m = parseReport(more);
      // copy\of.jpg is not a key the key rule writes (it encodes a backslash): named, not uploaded.
      assert.equal(more.code, 1, more.stderr);
      assert.deepEqual([m.restored, m.skipped, m.notInCatalog, m.failed, m.systemFilesIgnored], [1, 3, 1, 1, SYSTEM.length]);
      assert.match(m.failures[0]?.error ?? '', /^not in the catalog and its key is not the one cloudinary-backup writes/);
      assert.deepEqual(names(dst), [...CATALOGUED, 'image/upload/stray'].sort());
    } finally {
      await dst.stop();
    }
  });

  test('an S3 backup: --include-uncatalogued adds only objects with the tool\'s cld-* metadata; system files never', async () => {
    const dst = await emptyAccount();
    try {
      const env = { CLOUDINARY_URL: dst.cloudinaryUrl, ...s3rver.env };
      const plain = await runCli(['restore', '--from', `s3://${BUCKET}/p`, '--json'], env);
      assert.equal(plain.code, 0, plain.stderr);
      assert.deepEqual([parseReport(plain).restored, parseReport(plain).uncataloguedLeftOut], [3, 1]);
      const more = await runCli(['restore', '--from', `s3://${BUCKET}/p`, '--json', '--include-uncatalogued'], env);
      const m = parseReport(more);
      assert.equal(more.code, 1);
      assert.deepEqual([m.restored, m.failed, m.systemFilesIgnored], [0, 1, SYSTEM.length]);
      assert.match(m.failures[0]?.error ?? '', /no cloudinary-backup metadata \(cld-\*\): another tool wrote it/);
      assert.deepEqual(names(dst), CATALOGUED);
    } finally {
      await dst.stop();
    }
  });
});
