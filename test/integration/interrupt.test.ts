import assert from 'node:assert/strict';
import { utimes } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { keyFor } from '../../lambda/core/keys.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import type { FakeAsset } from '../fakes/cloudinary-fake.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { parseReport, runCli, s3For, s3Sha } from '../helpers.ts';

const BUCKET = 'interrupt';
const MiB = 1024 * 1024;

const waitFor = async (cond: () => Promise<boolean>, what: string): Promise<void> => {
  const end = Date.now() + 30_000;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('interrupted runs leave no open multipart upload', () => {
  let fake: CloudinaryFake;
  let s3rver: S3rverHandle;
  let s3: S3Client;
  let env: Record<string, string>;
  let big: FakeAsset;

  before(async () => {
    fake = new CloudinaryFake({ cloudName: 'intr', apiKey: 'ik', apiSecret: 'interrupt-secret' });
    await fake.start();
    for (let i = 0; i < 5; i += 1) fake.addAsset({ publicId: `small/${i}`, bytes: 3000 });
    big = fake.addAsset({ publicId: 'big/video', resourceType: 'video', bytes: 12 * MiB });
    s3rver = await startS3rver([BUCKET]);
    s3 = s3For(s3rver.endpoint);
    env = { CLOUDINARY_URL: fake.cloudinaryUrl, CLOUDINARY_BACKUP_MULTIPART_THRESHOLD: '5MiB', ...s3rver.env };
  });

  after(async () => {
    await fake.stop();
    await s3rver.stop();
  });

  test('Ctrl-C aborts the copies in flight and their multipart uploads, prints the report, exits 130', async () => {
    // The big download stalls after 6 MiB: its first part is uploaded, the upload is open.
    fake.stallDownload(big.publicId, { afterBytes: 6 * MiB, persistent: true });
    const r = await runCli(['backup', '--to', `s3://${BUCKET}/c`, '--json'], env, 60_000, (child) => {
      void waitFor(async () => (await s3rver.openUploads(BUCKET)).length > 0, 'an open multipart upload').then(() => child.kill('SIGINT'));
    });
    assert.equal(r.code, 130, r.stderr);
    const rep = parseReport(r);
    assert.equal(rep.cancelled, true);
    assert.equal(rep.listingComplete, false);
    assert.deepEqual(await s3rver.openUploads(BUCKET), [], 'the open upload was aborted');
    assert.equal(await s3Sha(s3, BUCKET, keyFor('c', big)), undefined, 'nothing half-written at the key');
    assert.match(r.stderr, /Stopping: aborting the copies in flight/);
    fake.clearFaults();
    const again = await runCli(['backup', '--to', `s3://${BUCKET}/c`, '--json'], env);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.equal(await s3Sha(s3, BUCKET, keyFor('c', big)), fake.expectedSha256(big));
  });

  test('the upload a SIGKILLed run left open is aborted by the next run once it is an hour old', async () => {
    fake.stallDownload(big.publicId, { afterBytes: 6 * MiB, persistent: true });
    const r = await runCli(['backup', '--to', `s3://${BUCKET}/k`, '--json'], env, 60_000, (child) => {
      void waitFor(async () => (await s3rver.openUploads(BUCKET)).length > 0, 'an open multipart upload').then(() => child.kill('SIGKILL'));
    });
    assert.equal(r.code, -1, 'killed');
    const left = await s3rver.openUploads(BUCKET);
    assert.equal(left.length, 1, 'a killed process cannot abort its upload');
    fake.clearFaults();

    // A fresh leftover (a run that may still be alive) is not touched.
    const young = await runCli(['backup', '--to', `s3://${BUCKET}/k`, '--json', '--resource-types', 'raw'], env);
    assert.equal(parseReport(young).staleUploadsAborted, 0);
    assert.deepEqual(await s3rver.openUploads(BUCKET), left);

    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    for (const id of left) await utimes(path.join(s3rver.directory, BUCKET, '._S3rver_uploads', id), twoHoursAgo, twoHoursAgo);
    const next = await runCli(['backup', '--to', `s3://${BUCKET}/k`, '--json'], env);
    assert.equal(next.code, 0, next.stderr);
    assert.equal(parseReport(next).staleUploadsAborted, 1);
    assert.deepEqual(await s3rver.openUploads(BUCKET), []);
    assert.equal(await s3Sha(s3, BUCKET, keyFor('k', big)), fake.expectedSha256(big));
  });
});
