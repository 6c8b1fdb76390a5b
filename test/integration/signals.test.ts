/**
 * docs/commands.md, exit code 130: "stopped by Ctrl-C (or SIGTERM) ... a second Ctrl-C quits at once". SIGTERM must do
 * what the first Ctrl-C does (abort the copies in flight and their multipart uploads, print the
 * report, exit 130), and a second Ctrl-C must end the process even while the clean stop hangs.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { keyFor } from '../../lambda/core/keys.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import type { FakeAsset } from '../fakes/cloudinary-fake.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { until } from '../fault-rig.ts';
import { parseReport, runCli, s3For, s3Sha } from '../helpers.ts';

const BUCKET = 'signals';
const MiB = 1024 * 1024;

describe('signals', () => {
  let fake: CloudinaryFake;
  let s3rver: S3rverHandle;
  let env: Record<string, string>;
  let big: FakeAsset;

  before(async () => {
    fake = new CloudinaryFake({ cloudName: 'sig', apiKey: 'sk', apiSecret: 'signals-secret' });
    await fake.start();
    for (let i = 0; i < 5; i += 1) fake.addAsset({ publicId: `small/${i}`, bytes: 3000 });
    big = fake.addAsset({ publicId: 'big/video', resourceType: 'video', bytes: 12 * MiB });
    // The big download stalls after 6 MiB: its first part is uploaded, the upload is open.
    fake.stallDownload(big.publicId, { afterBytes: 6 * MiB, persistent: true });
    s3rver = await startS3rver([BUCKET]);
    env = { CLOUDINARY_URL: fake.cloudinaryUrl, CLOUDINARY_BACKUP_MULTIPART_THRESHOLD: '5MiB', ...s3rver.env };
  });

  after(async () => {
    await fake.stop();
    await s3rver.stop();
  });

  /** Sends `signal` once the big upload is open. */
  const whenUploadOpen = (child: ChildProcess, then: () => void | Promise<void>): void => {
    void until(async () => (await s3rver.openUploads(BUCKET)).length > 0, 30_000, 'an open multipart upload').then(then, () => child.kill('SIGKILL'));
  };

  test('SIGTERM stops as Ctrl-C does: uploads aborted, report printed, exit 130', async () => {
    const r = await runCli(['backup', '--to', `s3://${BUCKET}/term`, '--json'], env, 60_000, (child) => {
      whenUploadOpen(child, () => {
        child.kill('SIGTERM');
      });
    });
    assert.equal(r.code, 130, r.stderr);
    const rep = parseReport(r);
    assert.equal(rep.cancelled, true);
    assert.match(r.stderr, /Stopping: aborting the copies in flight/);
    assert.deepEqual(await s3rver.openUploads(BUCKET), [], 'the open upload was aborted');
    assert.equal(await s3Sha(s3For(s3rver.endpoint), BUCKET, keyFor('term', big)), undefined, 'nothing half-written at the key');
  });

  test('a second Ctrl-C quits at once while the clean stop is stuck (S3 not answering)', async () => {
    const pid = s3rver.pid()!;
    let secondAt = 0;
    let stillRunningAfterFirst = false;
    const r = await runCli(['backup', '--to', `s3://${BUCKET}/twice`, '--json'], env, 60_000, (child) => {
      whenUploadOpen(child, async () => {
        // S3 frozen: connections are accepted, nothing is answered, so the clean stop (abort the
        // upload, write the report) cannot finish.
        process.kill(pid, 'SIGSTOP');
        child.kill('SIGINT');
        await new Promise((res) => setTimeout(res, 1500));
        stillRunningAfterFirst = child.exitCode === null && child.signalCode === null;
        secondAt = Date.now();
        child.kill('SIGINT');
      });
    });
    const quitMs = Date.now() - secondAt;
    process.kill(pid, 'SIGCONT');
    assert.ok(stillRunningAfterFirst, 'the first Ctrl-C waits for the clean stop');
    assert.equal(r.code, 130, r.stderr);
    assert.ok(quitMs < 1000, `the second Ctrl-C took ${quitMs} ms`);
    assert.match(r.stderr, /press Ctrl-C again to quit at once/);
  });
});
