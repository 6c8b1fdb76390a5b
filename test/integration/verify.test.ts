/**
 * `verify`, end to end with the real CLI: a clean backup verifies; an object overwritten with
 * same-size bytes and a deleted object are both named by `--deep` (plain verify sees only the
 * deleted one, since sizes still match); `--source` finds what Cloudinary has that the backup
 * does not. Run against s3rver and against a folder.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { keyFor } from '../../lambda/core/keys.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import type { FakeAsset } from '../fakes/cloudinary-fake.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { parseReport, runCli, s3For } from '../helpers.ts';
import { pagesFor } from '../fixtures.ts';

const BUCKET = 'backups';
const PREFIX = 'vfy';

interface ProblemJson {
  kind: string;
  key?: string;
  publicId?: string;
  detail: string;
}

const problemsOf = (report: Record<string, unknown>): Array<[string, string | undefined]> =>
  (report.problems as ProblemJson[]).map((p) => [p.kind, p.key ?? p.publicId]);

for (const kind of ['s3', 'folder'] as const) {
  describe(`verify a backup in ${kind === 's3' ? 's3rver' : 'a local folder'}`, () => {
    let fake: CloudinaryFake;
    let s3rver: S3rverHandle;
    let s3: S3Client;
    let folder: string;
    let env: Record<string, string>;
    let against: string;
    let prefix: string;
    let assets: FakeAsset[];
    const write = async (key: string, body: Buffer): Promise<void> => {
      if (kind === 's3') await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
      else {
        await mkdir(path.dirname(path.join(folder, key)), { recursive: true });
        await writeFile(path.join(folder, key), body);
      }
    };
    const remove = async (key: string): Promise<void> => {
      if (kind === 's3') await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
      else await unlink(path.join(folder, key));
    };
    const verify = (...args: string[]) => runCli(['verify', '--against', against, ...args], env);

    before(async () => {
      fake = new CloudinaryFake({ cloudName: 'verify-cloud', apiKey: '444444444444444', apiSecret: 'verify-secret' });
      await fake.start();
      assets = [
        fake.addAsset({ publicId: 'folder/one', bytes: 5000, tags: ['t'] }),
        fake.addAsset({ publicId: 'folder/two', type: 'private', bytes: 6000 }),
        fake.addAsset({ publicId: 'café/three', type: 'authenticated', format: 'png', bytes: 7000 }),
        fake.addAsset({ publicId: 'clip', resourceType: 'video', bytes: 2 * 1024 * 1024 + 1 }),
        fake.addAsset({ publicId: 'notes/readme.txt', resourceType: 'raw', bytes: 800 }),
        fake.addAsset({ publicId: 'double//slash', bytes: 900 }),
      ];
      s3rver = await startS3rver([BUCKET]);
      s3 = s3For(s3rver.endpoint);
      folder = await mkdtemp(path.join(tmpdir(), 'cb-verify-'));
      env = { CLOUDINARY_URL: fake.cloudinaryUrl, ...s3rver.env };
      against = kind === 's3' ? `s3://${BUCKET}/${PREFIX}` : folder;
      prefix = kind === 's3' ? PREFIX : '';
      const r = await runCli(['backup', '--to', against, '--json'], env);
      assert.equal(r.code, 0, r.stderr);
    });

    after(async () => {
      await fake.stop();
      await s3rver.stop();
      await rm(folder, { recursive: true, force: true });
    });

    test('a clean backup verifies (exit 0), and so does its deep check', async () => {
      const plain = await verify('--json');
      assert.equal(plain.code, 0, plain.stdout + plain.stderr);
      const r1 = parseReport(plain);
      assert.equal(r1.ok, true);
      assert.equal(r1.checked, assets.length);
      assert.equal(r1.objects, assets.length);
      assert.deepEqual(problemsOf(r1), []);

      const deep = await verify('--deep', '--json');
      assert.equal(deep.code, 0, deep.stdout + deep.stderr);
      const r2 = parseReport(deep);
      assert.equal(r2.hashed, assets.length);
      assert.equal(r2.unhashed, 0);
      assert.equal(r2.bytesRead, assets.reduce((s, a) => s + a.bytes, 0));

      const human = await verify('--deep');
      assert.equal(human.code, 0);
      assert.match(human.stdout, /^OK$/m);
    });

    test('--source names what Cloudinary has that the backup lacks or holds in another version', async () => {
      const inSync = await verify('--source', '--json');
      assert.equal(inSync.code, 0, inSync.stdout + inSync.stderr);
      assert.equal(parseReport(inSync).cloudinaryApiCalls, pagesFor(fake), 'one Admin API call per listing page (resource type x delivery type)');

      const added = fake.addAsset({ publicId: 'later/added', bytes: 1000 });
      const changed = assets[0] as FakeAsset;
      fake.replaceAsset(changed.publicId, changed.resourceType, changed.type, { bytes: changed.bytes + 10, version: changed.version + 5 });
      const r = await verify('--source', '--json');
      assert.equal(r.code, 1);
      const report = parseReport(r);
      assert.deepEqual(problemsOf(report), [
        ['notBackedUp', added.publicId],
        ['outdated', keyFor(prefix, changed)],
      ]);

      const resync = await runCli(['backup', '--to', against, '--json'], env);
      assert.equal(resync.code, 0, resync.stderr);
      assets = fake.listAssets();
      const after = await verify('--source', '--deep', '--json');
      assert.equal(after.code, 0, after.stdout + after.stderr);
    });

    test('a same-size corruption and a deletion: --deep names both, plain verify the deletion (exit 1)', async () => {
      const corrupted = assets[1] as FakeAsset;
      const deleted = assets[3] as FakeAsset;
      const corruptKey = keyFor(prefix, corrupted);
      const deletedKey = keyFor(prefix, deleted);
      await write(corruptKey, randomBytes(corrupted.bytes));
      await remove(deletedKey);

      const plain = await verify('--json');
      assert.equal(plain.code, 1);
      assert.deepEqual(problemsOf(parseReport(plain)), [['missing', deletedKey]]);

      const deep = await verify('--deep', '--json');
      assert.equal(deep.code, 1);
      const report = parseReport(deep);
      assert.deepEqual(problemsOf(report), [
        ['missing', deletedKey],
        ['corrupt', corruptKey],
      ]);
      assert.match((report.problems as ProblemJson[])[1]?.detail ?? '', /sha256/);
      assert.equal(report.missing, 1);
      assert.equal(report.corrupt, 1);

      const human = await verify('--deep');
      assert.equal(human.code, 1);
      assert.ok(human.stdout.includes(`MISSING ${deletedKey}`), human.stdout);
      assert.ok(human.stdout.includes(`CORRUPT ${corruptKey}`), human.stdout);
      assert.match(human.stdout, /PROBLEMS FOUND/);

      assert.match(human.stdout, /damaged objects are recorded in .*_catalog\/damaged\.json: the next backup copies them again/);

      // A new backup run repairs both: the deleted key is copied again, and so is the corrupt one
      // (same size, same version: only the record --deep wrote says it is damaged).
      const again = await runCli(['backup', '--to', against, '--json'], env);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(parseReport(again).copied, 2);
      const afterBackup = await verify('--deep', '--json');
      assert.deepEqual(problemsOf(parseReport(afterBackup)), []);
    });

    test('an object no catalog entry names is reported as extra', async () => {
      const stray = `${prefix ? `${prefix}/` : ''}image/upload/stray/file.jpg`;
      await write(stray, Buffer.from('not from cloudinary'));
      const r = await verify('--json');
      assert.equal(r.code, 1);
      assert.ok(problemsOf(parseReport(r)).some(([k, key]) => k === 'extra' && key === stray));
    });

    test('a location without a catalog is a usage error (exit 2)', async () => {
      const empty = await mkdtemp(path.join(tmpdir(), 'cb-verify-empty-'));
      try {
        const r = await runCli(['verify', '--against', kind === 's3' ? `s3://${BUCKET}/nothing-here` : empty], env);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /No catalog/);
      } finally {
        await rm(empty, { recursive: true, force: true });
      }
    });
  });
}
