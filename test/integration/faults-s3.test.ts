/**
 * Destination faults (docs/failures.md, "S3 and interruptions"): S3 errors on UploadPart and on
 * CompleteMultipartUpload (injected by s3rver-child.cjs), the S3 server stopped and restarted in
 * the middle of a run, and the backup process killed with SIGKILL and run again.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TMP_DIR } from '../../lambda/adapters/local/folder.ts';
import type { FakeAsset } from '../fakes/cloudinary-fake.ts';
import { FaultRig, until } from '../fault-rig.ts';
import type { Report } from '../fault-rig.ts';
import { BIN, CLI_ENV, parseReport, prepareCli } from '../helpers.ts';

const MiB = 1024 * 1024;

/** A newer version of an asset (new bytes), so a failed copy must keep the old object. */
const replace = (rig: FaultRig, a: FakeAsset, bytes = a.bytes + 1): FakeAsset =>
  rig.fake.replaceAsset(a.publicId, a.resourceType, a.type, { bytes, version: Math.floor(Date.now() / 1000) + 1 });

const failure = (report: { failures: { publicId: string; error: string }[] } | undefined, publicId: string): string =>
  report?.failures.find((f) => f.publicId === publicId)?.error ?? assert.fail(`${publicId} is not in the report`);

describe('S3 errors', () => {
  let rig: FaultRig;

  before(async () => {
    rig = await FaultRig.start('s3');
    for (const name of ['part always', 'part once', 'complete always', 'complete once']) {
      rig.fake.addAsset({ publicId: `s3/${name}`, bytes: 5 * MiB + 1000, version: 1_700_000_000 });
    }
    rig.fake.addAsset({ publicId: 's3/small', bytes: 1234, version: 1_700_000_000 });
    const first = await rig.backup();
    assert.equal(first.result.code, 0, first.result.stderr);
  });

  after(() => rig.stop());

  test('UploadPart and CompleteMultipartUpload errors: retried, or reported with the old object kept and the upload aborted', async () => {
    const assets = ['part always', 'part once', 'complete always', 'complete once'].map((n) => replace(rig, rig.fake.getAsset(`s3/${n}`)!));
    const old = await Promise.all(assets.map((a) => rig.sha(rig.keyOf(a))));
    await rig.s3rver!.injectFaults([
      { op: 'UploadPart', key: 'part always' },
      { op: 'UploadPart', key: 'part once', times: 1 },
      { op: 'CompleteMultipartUpload', key: 'complete always' },
      { op: 'CompleteMultipartUpload', key: 'complete once', times: 1, status: 503, code: 'SlowDown' },
    ]);
    const run = await rig.backup();
    assert.equal(run.result.code, 1);
    assert.equal(run.report?.failed, 2);
    assert.match(failure(run.report, 's3/part always'), /s3:\/\/faults\/cld\/image\/upload\/s3\/part always\.jpg.*Injected UploadPart failure/);
    assert.match(failure(run.report, 's3/complete always'), /Injected CompleteMultipartUpload failure/);
    assert.equal(await rig.sha(rig.keyOf(assets[0]!)), old[0], 'old object kept (UploadPart)');
    assert.equal(await rig.sha(rig.keyOf(assets[2]!)), old[2], 'old object kept (CompleteMultipartUpload)');
    for (const i of [1, 3]) assert.equal(await rig.sha(rig.keyOf(assets[i]!)), rig.fake.expectedSha256(assets[i]!));
    await rig.rerunComplete();
  });
});

describe('interruptions', () => {
  for (const kind of ['s3', 'folder'] as const) {
    test(`the process SIGKILLed mid-run (${kind}) leaves no partial object, and a rerun completes`, async () => {
      const rig = await FaultRig.start(kind);
      try {
        for (let i = 0; i < 12; i += 1) rig.fake.addAsset({ publicId: `kill/${i}`, bytes: 40_000 + i });
        // Half-way through a multipart upload when the signal comes: 6 MiB sent, then nothing.
        const big = rig.fake.addAsset({ publicId: 'kill/big', bytes: 12 * MiB });
        rig.fake.stallDownload(big.publicId, { afterBytes: 6 * MiB });
        rig.remember();
        await prepareCli();
        const child = spawn(process.execPath, [BIN, 'backup', '--to', rig.to, '--json', '--idle-timeout', '60'], {
          env: { PATH: process.env.PATH, ...CLI_ENV, ...rig.env() },
          stdio: 'ignore',
        });
        const exited = new Promise((r) => child.once('exit', r));
        await until(() => rig.fake.stats.downloadBytes >= 6 * MiB + 12 * 40_000, 30_000, 'the run to reach the stalled download');
        if (kind === 's3') await until(async () => (await rig.s3rver!.openUploads('faults')).length > 0, 10_000, 'a multipart upload to open');
        await new Promise((r) => setTimeout(r, 300));
        child.kill('SIGKILL');
        await exited;
        // A killed process cannot abort its upload: the bucket's lifecycle rule does, after 2 days
        // (infra/backup-bucket.ts). The rig notes it, so later runs are checked for their own only.
        await rig.check(new Map(), undefined, { code: -1, stdout: '', stderr: '' }, { endedNormally: false });
        assert.equal(await rig.sha(rig.keyOf(big)), undefined, 'no partial object at the stalled key');
        let leftovers: string[] = [];
        if (kind === 'folder') {
          // The killed run's temporary files, aged as if the crash was last night: the rerun removes them.
          leftovers = (await rig.keys()).filter((k) => k.startsWith(`${TMP_DIR}/`));
          assert.ok(leftovers.length > 0, 'the killed run left temporary files');
          const old = new Date(Date.now() - 2 * 3600_000);
          for (const k of leftovers) await utimes(path.join(rig.folder, k), old, old);
        }
        await rig.rerunComplete();
        if (kind === 'folder') assert.deepEqual((await rig.keys()).filter((k) => k.startsWith(`${TMP_DIR}/`)), [], 'leftovers removed');
      } finally {
        await rig.stop();
      }
    });
  }

  test('the S3 server killed and restarted mid-run: the upload in flight is aborted at the end of the run, exit 1, a rerun completes', async () => {
    const rig = await FaultRig.start('s3');
    try {
      for (let i = 0; i < 40; i += 1) rig.fake.addAsset({ publicId: `restart/${i}`, bytes: 30_000 + i });
      // 12 MiB goes multipart (5 MiB parts, rig.env); its first download stalls after 6 MiB,
      // so part 1 is stored and the upload is open when S3 goes away.
      const big = rig.fake.addAsset({ publicId: 'restart/big', bytes: 12 * MiB });
      rig.fake.stallDownload(big.publicId, { afterBytes: 6 * MiB });
      rig.remember();
      const before = await rig.present();
      let settled = false;
      const run = rig.cli(['backup', '--to', rig.to, '--json', '--concurrency', '2', '--idle-timeout', '2']).finally(() => (settled = true));
      const uploads = path.join(rig.s3rver!.directory, 'faults', '._S3rver_uploads');
      let inFlight = '';
      await until(
        async () => {
          for (const id of await readdir(uploads).catch(() => [])) {
            if (await stat(path.join(uploads, id, '1')).catch(() => undefined)) inFlight = id;
          }
          return inFlight !== '';
        },
        30_000,
        'part 1 of the big upload to be stored',
      );
      // SIGKILL: requests in flight are dropped, as when S3 is unreachable for a while. It stays
      // away longer than the stalled download's idle timeout (2 s) plus the engine's three tries
      // (0.5 s + 1 s apart), so the big asset fails for good and lib-storage's own abort of the
      // open upload cannot reach S3.
      await rig.s3rver!.kill('SIGKILL');
      assert.equal(settled, false, 'the run was still going when S3 went away');
      await new Promise((r) => setTimeout(r, 8000));
      assert.equal(settled, false, 'the run was still going when S3 came back');
      await rig.s3rver!.restart();
      const result = await run;
      assert.equal(result.code, 1, `exit 1 (assets failed while S3 was away): ${result.stderr}`);
      const report = parseReport(result) as unknown as Report;
      assert.ok(report.failures.some((f) => f.publicId === big.publicId), `${big.publicId} is reported: ${JSON.stringify(report.failures)}`);
      // The end of the run aborted the upload left open when S3 went away (S3Destination.settle):
      // the restarted server (fresh request counts) received the abort, and the upload is gone.
      const counts = await rig.s3rver!.requestCounts();
      assert.ok((counts.AbortMultipartUpload ?? 0) >= 1, `no AbortMultipartUpload after the restart: ${JSON.stringify(counts)}`);
      assert.deepEqual(await rig.s3rver!.openUploads('faults'), [], `upload ${inFlight} left open`);
      await rig.check(before, report, result);
      await rig.rerunComplete();
    } finally {
      await rig.stop();
    }
  });
});
