/**
 * `ls`, `get` and `status --json`, run as the real CLI against a backup made by the real CLI
 * in s3rver: ls lists the catalog with the filters; get copies checked files out under
 * readable names, never overwrites (nor a case twin), refuses a damaged copy and leaves no
 * partial file; status shows the runs, totals and lease as the reports and catalog hold them.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { keyFor } from '../../lambda/core/keys.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import type { FakeAsset } from '../fakes/cloudinary-fake.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { parseReport, runCli, s3For } from '../helpers.ts';

const BUCKET = 'backups';
const PREFIX = 'lsg';
const FROM = `s3://${BUCKET}/${PREFIX}`;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('ls, get and status on a backup in s3rver', () => {
  let fake: CloudinaryFake;
  let s3rver: S3rverHandle;
  let s3: S3Client;
  let env: Record<string, string>;
  let work: string;
  let shoe: FakeAsset;
  let odd: FakeAsset;
  const reports: Array<Record<string, unknown>> = [];

  before(async () => {
    fake = new CloudinaryFake({ cloudName: 'lsg-cloud', apiKey: '555555555555555', apiSecret: 'lsg-secret' });
    await fake.start();
    shoe = fake.addAsset({ publicId: 'products/shoe', bytes: 4000, tags: ['summer'] });
    fake.addAsset({ publicId: 'products/hat', format: 'png', bytes: 3000, tags: ['winter'] });
    fake.addAsset({ publicId: 'products/shoe', resourceType: 'raw', format: '', bytes: 500 });
    fake.addAsset({ publicId: 'blog/cover', type: 'private', bytes: 2500 });
    odd = fake.addAsset({ publicId: 'weird//na:me', bytes: 700 });
    s3rver = await startS3rver([BUCKET]);
    s3 = s3For(s3rver.endpoint);
    env = { CLOUDINARY_URL: fake.cloudinaryUrl, ...s3rver.env };
    work = await mkdtemp(path.join(tmpdir(), 'cb-lsg-'));
    const first = await runCli(['backup', '--to', FROM, '--json'], env);
    assert.equal(first.code, 0, first.stderr);
    reports.push(parseReport(first));
    fake.addAsset({ publicId: 'products/sock', bytes: 1200, tags: ['summer'] });
    const second = await runCli(['backup', '--to', FROM, '--json'], env);
    assert.equal(second.code, 0, second.stderr);
    reports.push(parseReport(second));
  });

  after(async () => {
    await fake.stop();
    await s3rver.stop();
    await rm(work, { recursive: true, force: true });
  });

  test('ls lists every asset of the catalog, with when each was stored', async () => {
    const r = await runCli(['ls', '--from', FROM, '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Array<{ publicId: string; resourceType: string; bytes: number; backedUpAt: string | null; folder: string }>;
    const want = fake.listAssets().map((a) => `${a.resourceType}:${a.publicId}:${a.bytes}`).sort();
    assert.deepEqual(rows.map((x) => `${x.resourceType}:${x.publicId}:${x.bytes}`).sort(), want);
    for (const x of rows) assert.ok(x.backedUpAt && !Number.isNaN(Date.parse(x.backedUpAt)), `${x.publicId} has no stored time`);
    assert.equal(rows.find((x) => x.publicId === 'products/hat')?.folder, 'products');
    const text = await runCli(['ls', '--from', FROM], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^PUBLIC_ID\s+KIND\s+FOLDER/);
    assert.match(text.stdout, /6 assets/);
  });

  test('ls filters by path prefix, tag and folder', async () => {
    const ids = async (...args: string[]): Promise<string[]> => {
      const r = await runCli(['ls', '--from', FROM, '--json', ...args], env);
      assert.equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as Array<{ publicId: string; resourceType: string }>).map((x) => `${x.resourceType}:${x.publicId}`).sort();
    };
    assert.deepEqual(await ids('products/s'), ['image:products/shoe', 'image:products/sock', 'raw:products/shoe']);
    assert.deepEqual(await ids('--tag', 'summer'), ['image:products/shoe', 'image:products/sock']);
    assert.deepEqual(await ids('--folder', 'blog'), ['image:blog/cover']);
    assert.deepEqual(await ids('--folder', 'prod'), []);
  });

  test('get copies one asset, checked, and never overwrites it', async () => {
    const file = path.join(work, 'one', 'shoe.jpg');
    const r = await runCli(['get', '--from', FROM, 'products/shoe', '--resource-type', 'image', '--to', file], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /sha256 checked/);
    assert.equal(sha(await readFile(file)), fake.expectedSha256(shoe));
    await writeFile(file, 'mine');
    const again = await runCli(['get', '--from', FROM, 'products/shoe', '--resource-type', 'image', '--to', file], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists; nothing is overwritten/);
    assert.equal((await readFile(file)).toString(), 'mine');
  });

  test('get refuses a name that differs only in case from an existing file', async () => {
    const dir = path.join(work, 'twin');
    await rm(dir, { recursive: true, force: true });
    await runCli(['get', '--from', FROM, 'products/hat', '--to', path.join(dir, 'x')], env);
    await writeFile(path.join(dir, 'HAT.PNG'), 'theirs');
    const r = await runCli(['get', '--from', FROM, 'products/hat', '--to', path.join(dir, 'hat.png')], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /differs only in case/);
    assert.deepEqual((await readdir(dir)).sort(), ['HAT.PNG', 'x']);
  });

  test('get of a public_id held twice asks which, or fills a folder with both', async () => {
    const amb = await runCli(['get', '--from', FROM, 'products/shoe', '--to', path.join(work, 'amb.jpg')], env);
    assert.equal(amb.code, 2);
    assert.match(amb.stderr, /2 times \(image\/upload, raw\/upload\): add --resource-type/);
    const dir = path.join(work, 'both');
    const r = await runCli(['get', '--from', FROM, '--prefix', 'products/shoe', '--to', `${dir}/`], env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await readdir(path.join(dir, 'products'))).sort(), ['shoe (image upload).jpg', 'shoe (raw upload)']);
  });

  test('get names files after the public_id, even for encoded keys', async () => {
    const key = keyFor(PREFIX, odd);
    assert.match(key, /_encoded/);
    const dir = path.join(work, 'odd');
    const r = await runCli(['get', '--from', FROM, 'weird//na:me', '--to', dir + path.sep], env);
    assert.equal(r.code, 0, r.stderr);
    const file = path.join(dir, 'weird', '_', 'na_me.jpg');
    assert.equal(sha(await readFile(file)), fake.expectedSha256(odd));
  });

  test('get refuses a copy whose bytes differ from the catalog and leaves no file', async () => {
    const key = keyFor(PREFIX, { publicId: 'blog/cover', resourceType: 'image', type: 'private', format: 'jpg' });
    const orig = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const good = Buffer.from(await orig.Body!.transformToByteArray());
    const bad = Buffer.from(good);
    bad[10] = (bad[10]! + 1) % 256;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bad }));
    try {
      const dir = path.join(work, 'bad');
      const r = await runCli(['get', '--from', FROM, 'blog/cover', '--to', dir + path.sep], env);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /sha256 differs from the catalog's/);
      assert.deepEqual(await readdir(path.join(dir, 'blog')), []);
    } finally {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: good }));
    }
  });

  test('ls and get name a missing catalog in one line with the fix', async () => {
    const r = await runCli(['ls', '--from', `s3://${BUCKET}/nothing-here`], env);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /no backup catalog at s3:\/\/backups\/nothing-here .*run "cloudinary-backup backup --to/);
    const g = await runCli(['get', '--from', FROM, 'no/such', '--to', work], env);
    assert.equal(g.code, 2);
    assert.match(g.stderr, /nothing in .* matches public_id "no\/such"; run "cloudinary-backup ls/);
  });

  test('get given a file name instead of a public_id suggests the public_id', async () => {
    const g = await runCli(['get', '--from', FROM, 'Shoe.jpg', '--to', work], env);
    assert.equal(g.code, 2);
    assert.equal(g.stderr.trim().split('\n').length, 1);
    assert.match(g.stderr, /nothing in .* matches public_id "Shoe.jpg"; PUBLIC_ID is the public_id, not a file name: did you mean "products\/shoe"\?/);
  });

  test('status --json shows the runs, totals and lease the bucket holds', async () => {
    // A durable run's progress object sits beside the reports and must not be taken for one.
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/_reports/progress/manual-x.json`, Body: JSON.stringify({ format: 1, executionName: 'manual-x' }) }));
    const r = await runCli(['status', '--from', FROM, '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as {
      runs: Array<{ runId: string; copied: number; bytesCopied: number; failed: number }>;
      nights: Array<{ copied: number; bytesCopied: number }>;
      totals: Array<{ resourceType: string; assets: number; bytes: number }>;
      totalAssets: number;
      lease: { held: boolean };
      catalog: { runId: string };
      restorePoints: Array<{ runId: string; completedAt: string }>;
    };
    // Every completed run is a restore point, newest first (docs/history.md).
    assert.deepEqual(s.restorePoints.map((p) => p.runId), [reports[1]!.runId, reports[0]!.runId]);
    assert.ok(s.restorePoints.every((p) => !Number.isNaN(Date.parse(p.completedAt))));
    assert.deepEqual(
      s.runs.map((x) => [x.runId, x.copied, x.bytesCopied, x.failed]),
      reports.map((x) => [x.runId, x.copied, x.bytesCopied, x.failed]),
    );
    assert.equal(s.catalog.runId, reports[1]!.runId);
    const assets = fake.listAssets();
    const byType = (t: string) => assets.filter((a) => a.resourceType === t);
    for (const t of s.totals) {
      assert.equal(t.assets, byType(t.resourceType).length, t.resourceType);
      assert.equal(t.bytes, byType(t.resourceType).reduce((n, a) => n + a.bytes, 0), t.resourceType);
    }
    assert.equal(s.totalAssets, assets.length);
    assert.equal(s.nights.reduce((n, x) => n + x.copied, 0), (reports[0]!.copied as number) + (reports[1]!.copied as number));
    assert.equal(s.lease.held, false);
  });

  test('status says whether a run holds the lease now', async () => {
    const key = `${PREFIX}/_catalog/lease.json`;
    const lease = (expiresAt: Date) =>
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: JSON.stringify({ holder: 'lambda:abc', runId: 'run-7', takenAt: new Date().toISOString(), expiresAt: expiresAt.toISOString() }) }));
    await lease(new Date(Date.now() + 3600_000));
    const held = await runCli(['status', '--from', FROM], env);
    assert.equal(held.code, 0, held.stderr);
    assert.match(held.stdout, /a run holds the lease now: run-7 by lambda:abc/);
    await lease(new Date(Date.now() - 1000));
    const free = await runCli(['status', '--from', FROM, '--json'], env);
    assert.equal((JSON.parse(free.stdout) as { lease: { held: boolean } }).lease.held, false);
  });
});

describe('ls and get on a backup in a local folder', () => {
  let fake: CloudinaryFake;
  let folder: string;
  let out: string;
  let photo: FakeAsset;

  before(async () => {
    fake = new CloudinaryFake({ cloudName: 'lsg-folder', apiKey: '565656565656565', apiSecret: 'lsg-folder-secret' });
    await fake.start();
    photo = fake.addAsset({ publicId: 'albums/2025/beach', bytes: 6000, tags: ['holiday'] });
    fake.addAsset({ publicId: 'albums/2025/notes', resourceType: 'raw', format: 'txt', bytes: 300 });
    folder = await mkdtemp(path.join(tmpdir(), 'cb-lsg-folder-'));
    out = await mkdtemp(path.join(tmpdir(), 'cb-lsg-out-'));
    const r = await runCli(['backup', '--to', folder, '--json'], { CLOUDINARY_URL: fake.cloudinaryUrl });
    assert.equal(r.code, 0, r.stderr);
  });

  after(async () => {
    await fake.stop();
    await rm(folder, { recursive: true, force: true });
    await rm(out, { recursive: true, force: true });
  });

  test('ls reads the folder\'s catalog and get copies a folder\'s assets out, checked', async () => {
    const ls = await runCli(['ls', '--from', folder, '--json', '--tag', 'holiday'], {});
    assert.equal(ls.code, 0, ls.stderr);
    const rows = JSON.parse(ls.stdout) as Array<{ publicId: string; backedUpAt: string | null }>;
    assert.deepEqual(rows.map((x) => x.publicId), ['albums/2025/beach']);
    assert.ok(rows[0]?.backedUpAt);
    const get = await runCli(['get', '--from', folder, '--folder', 'albums/2025', '--to', out], {});
    assert.equal(get.code, 0, get.stderr);
    assert.deepEqual((await readdir(path.join(out, 'albums', '2025'))).sort(), ['beach.jpg', 'notes.txt']);
    assert.equal(sha(await readFile(path.join(out, 'albums', '2025', 'beach.jpg'))), fake.expectedSha256(photo));
  });
});
