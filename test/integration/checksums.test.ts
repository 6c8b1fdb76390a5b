import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import type { FakeAsset } from '../fakes/cloudinary-fake.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { parseReport, runCli, s3For } from '../helpers.ts';

const BUCKET = 'checksums';
const ASSETS = 300;
const DONE = 121;
const SLOTS = 4;

const waitFor = async (cond: () => Promise<boolean>, what: string): Promise<void> => {
  const end = Date.now() + 60_000;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** The asset keys stored under `prefix` (the catalog, reports and the lease are not assets). */
const keysUnder = async (s3: S3Client, under: string): Promise<string[]> => {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: under }));
  return (out.Contents ?? []).map((o) => o.Key as string);
};
const assetKeys = (s3: S3Client, prefix: string): Promise<string[]> => keysUnder(s3, `${prefix}/image/`);
const recordFiles = (s3: S3Client, prefix: string): Promise<string[]> => keysUnder(s3, `${prefix}/_catalog/copies/`);

/** The report's figures add up: every listed asset is counted once. */
const assertAddsUp = (rep: Record<string, unknown>): void => {
  const n = (k: string): number => rep[k] as number;
  assert.equal(n('copied') + n('unchanged') + n('skipped') + n('failed') + n('pending'), n('listed'), JSON.stringify(rep));
};

describe('a run stopped part way leaves its finished copies recorded', () => {
  let fake: CloudinaryFake;
  let s3rver: S3rverHandle;
  let s3: S3Client;
  let env: Record<string, string>;
  const assets: FakeAsset[] = [];

  before(async () => {
    fake = new CloudinaryFake({ cloudName: 'sums', apiKey: 'sk', apiSecret: 'checksum-secret' });
    await fake.start();
    // Versions in listing order, so the copies (newest first) end in a known order.
    const base = Math.floor(Date.now() / 1000) - 100_000;
    for (let i = 0; i < ASSETS; i += 1) assets.push(fake.addAsset({ publicId: `set/${String(i).padStart(3, '0')}`, bytes: 2000 + i, version: base + i }));
    s3rver = await startS3rver([BUCKET]);
    s3 = s3For(s3rver.endpoint);
    env = { CLOUDINARY_URL: fake.cloudinaryUrl, ...s3rver.env };
  });

  after(async () => {
    await fake.stop();
    await s3rver.stop();
  });

  /** Stalls the copies after the first DONE (newest first) and stops the run with `signal` once DONE are stored. */
  const stopAfterDone = async (prefix: string, signal: NodeJS.Signals) => {
    for (let k = 0; k < SLOTS; k += 1) fake.stallDownload((assets[ASSETS - DONE - 1 - k] as FakeAsset).publicId, { persistent: true });
    const r = await runCli(['backup', '--to', `s3://${BUCKET}/${prefix}`, '--json', '--concurrency', String(SLOTS)], env, 120_000, (child) => {
      void waitFor(async () => (await assetKeys(s3, prefix)).length >= DONE, `${DONE} objects`)
        // The record of finished copies is flushed within seconds: give it that time before a hard kill.
        .then(() => new Promise((r) => setTimeout(r, signal === 'SIGKILL' ? 3000 : 100)))
        .then(() => child.kill(signal));
    });
    fake.clearFaults();
    assert.equal((await assetKeys(s3, prefix)).length, DONE);
    return r;
  };

  test('Ctrl-C: the report adds up and names no stored copy as failed; the next run records every checksum', async () => {
    const r = await stopAfterDone('int', 'SIGINT');
    assert.equal(r.code, 130, r.stderr);
    const rep = parseReport(r);
    assert.equal(rep.cancelled, true);
    assertAddsUp(rep);
    assert.equal(rep.failed, 0, 'the copies Ctrl-C aborted are not failures');
    assert.equal(rep.copied, DONE);

    const full = await runCli(['backup', '--to', `s3://${BUCKET}/int`, '--json'], env);
    assert.equal(full.code, 0, full.stderr + full.stdout);
    const next = parseReport(full);
    assertAddsUp(next);
    assert.equal(next.copied, ASSETS - DONE, 'the stored copies are not downloaded again');
    assert.equal(next.hashed, 0, 'their checksums were recorded while the first run ran: nothing to hash');

    const v = await runCli(['verify', '--against', `s3://${BUCKET}/int`, '--deep', '--json'], env);
    const ver = parseReport(v);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.equal(ver.hashed, ASSETS, 'verify --deep re-reads every object');
    assert.equal(ver.unhashed, 0);
    assert.equal(ver.ok, true);
  });

  test('a hard kill: the finished copies were recorded within seconds; the next run adopts them with their checksums', async () => {
    const r = await stopAfterDone('kill', 'SIGKILL');
    assert.equal(r.code, -1, 'killed');
    assert.ok((await recordFiles(s3, 'kill')).length > 0, 'the killed run left its copy record');

    const full = await runCli(['backup', '--to', `s3://${BUCKET}/kill`, '--json'], env);
    assert.equal(full.code, 0, full.stderr + full.stdout);
    const next = parseReport(full);
    assertAddsUp(next);
    assert.deepEqual([next.copied, next.unchanged, next.hashed, next.unhashed], [ASSETS - DONE, DONE, 0, 0]);
    assert.deepEqual(await recordFiles(s3, 'kill'), [], 'the committed catalog holds what the records said: they are gone');

    const v = await runCli(['verify', '--against', `s3://${BUCKET}/kill`, '--deep', '--json'], env);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.equal(parseReport(v).hashed, ASSETS);
  });

  test('objects stored with no record at all are hashed from the backup, within --hash-max; verify fails while any is unhashed', async () => {
    await stopAfterDone('bare', 'SIGKILL');
    // As a backup made by an older version or another tool: the objects, nothing about them.
    for (const key of await recordFiles(s3, 'bare')) await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));

    const capped = await runCli(['backup', '--to', `s3://${BUCKET}/bare`, '--json', '--hash-max', '0'], env);
    assert.equal(capped.code, 0, capped.stderr + capped.stdout);
    const c = parseReport(capped);
    assertAddsUp(c);
    assert.deepEqual([c.copied, c.unchanged, c.hashed, c.unhashed], [ASSETS - DONE, DONE, 0, DONE]);

    const v1 = await runCli(['verify', '--against', `s3://${BUCKET}/bare`, '--deep', '--json'], env);
    const r1 = parseReport(v1);
    assert.equal(v1.code, 1, 'objects never hashed are not verified');
    assert.deepEqual([r1.ok, r1.unhashed, r1.hashed], [false, DONE, ASSETS - DONE]);
    assert.match(String(r1.remedy), /run a backup to this destination \(prefix bare\)/);
    const human = await runCli(['verify', '--against', `s3://${BUCKET}/bare`, '--deep'], env);
    assert.equal(human.code, 1);
    assert.match(human.stdout, /121 object\(s\) have no recorded checksum/);

    fake.resetStats();
    const night = await runCli(['backup', '--to', `s3://${BUCKET}/bare`, '--json'], env);
    assert.equal(night.code, 0, night.stderr + night.stdout);
    const n = parseReport(night);
    assertAddsUp(n);
    const bytes = assets.slice(ASSETS - DONE).reduce((sum, a) => sum + a.bytes, 0);
    assert.deepEqual([n.copied, n.unchanged, n.hashed, n.hashedBytes, n.unhashed], [0, ASSETS, DONE, bytes, 0]);
    assert.equal(fake.stats.downloads, 0, 'no Cloudinary download: read back from the backup');

    const v2 = await runCli(['verify', '--against', `s3://${BUCKET}/bare`, '--deep', '--json'], env);
    assert.equal(v2.code, 0, v2.stdout + v2.stderr);
    assert.deepEqual([parseReport(v2).hashed, parseReport(v2).unhashed], [ASSETS, 0]);
  });
});
