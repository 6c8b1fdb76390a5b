/**
 * Download faults (docs/failures.md, "Downloads"): downloads cut short, reset, longer than
 * announced, stalled, and 5xx on delivery. Each is tried once (the engine retries with a fresh
 * download and copies it) and on every try (reported; the old object stays; no upload left open).
 * After every scenario the rig checks bytes, open uploads, deletions and the report, and a
 * rerun completes the backup.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FakeAsset } from '../fakes/cloudinary-fake.ts';
import { FaultRig } from '../fault-rig.ts';

const MiB = 1024 * 1024;

describe('download faults (s3rver)', () => {
  let rig: FaultRig;
  /** An image backed up in the first run, then replaced by a multipart-sized new version. */
  let big: FakeAsset;

  before(async () => {
    rig = await FaultRig.start('s3');
    for (let i = 0; i < 6; i += 1) rig.fake.addAsset({ publicId: `dl/small ${i}`, bytes: 3000 + i, version: 1_700_000_000 });
    big = rig.fake.addAsset({ publicId: 'dl/big', bytes: 6 * MiB + 7, version: 1_700_000_000 });
    const first = await rig.backup();
    assert.equal(first.result.code, 0, first.result.stderr);
  });

  after(() => rig.stop());

  /** Replaces an asset with new bytes (a new version), so a failed copy must keep the old object. */
  const replace = (a: FakeAsset, bytes = a.bytes + 1): FakeAsset =>
    rig.fake.replaceAsset(a.publicId, a.resourceType, a.type, { bytes, version: Math.floor(Date.now() / 1000) + 1 });

  const failure = (report: { failures: { publicId: string; error: string }[] }, publicId: string): string =>
    report.failures.find((f) => f.publicId === publicId)?.error ?? assert.fail(`${publicId} is not in the report`);

  test('a download cut short once is retried with a fresh download and copied', async () => {
    const a = replace(rig.fake.getAsset('dl/small 0')!);
    rig.fake.cutDownload(a.publicId, 1000);
    const run = await rig.backup();
    assert.equal(run.result.code, 0, run.result.stderr);
    assert.equal(run.report?.copied, 1);
    assert.equal(await rig.sha(rig.keyOf(a)), rig.fake.expectedSha256(a));
  });

  test('a multipart download cut short on every try: reported, old object kept, upload aborted; rerun completes', async () => {
    const oldSha = await rig.sha(rig.keyOf(big));
    big = replace(big, 6 * MiB + 11);
    rig.fake.cutDownload(big.publicId, 5 * MiB + 100, { persistent: true });
    const run = await rig.backup();
    assert.equal(run.result.code, 1);
    assert.match(failure(run.report!, big.publicId), /ended after \d+ of \d+ bytes|aborted|terminated/);
    assert.equal(await rig.sha(rig.keyOf(big)), oldSha, 'the old object is intact');
    await rig.rerunComplete();
  });

  test('a connection reset mid-body on every try is reported; once is retried', async () => {
    const always = replace(rig.fake.getAsset('dl/small 1')!);
    const once = replace(rig.fake.getAsset('dl/small 2')!);
    rig.fake.resetDownload(always.publicId, 500, { persistent: true });
    rig.fake.resetDownload(once.publicId, 500);
    const run = await rig.backup();
    assert.equal(run.result.code, 1);
    assert.equal(run.report?.failed, 1);
    assert.match(failure(run.report!, always.publicId), /ECONNRESET|aborted|socket hang up|ended after/);
    assert.equal(await rig.sha(rig.keyOf(once)), rig.fake.expectedSha256(once));
    await rig.rerunComplete();
  });

  test('a body longer than announced is never stored', async () => {
    // With Content-Length the HTTP parser stops at the announced length; chunked, only the
    // listed size can tell, and the copy must be refused.
    const announced = replace(rig.fake.getAsset('dl/small 3')!);
    const chunked = replace(rig.fake.getAsset('dl/small 4')!);
    rig.fake.overlongDownload(announced.publicId, { persistent: true });
    rig.fake.overlongDownload(chunked.publicId, { persistent: true, chunked: true });
    const run = await rig.backup();
    assert.match(failure(run.report!, chunked.publicId), /more than the \d+ bytes announced/);
    assert.equal(run.report?.failed, 1);
    assert.equal(await rig.sha(rig.keyOf(announced)), rig.fake.expectedSha256(announced), 'exactly the announced bytes, no more');
    await rig.rerunComplete();
  });

  test('a stalled download is abandoned after --idle-timeout: once is retried, always is reported', async () => {
    const always = replace(rig.fake.getAsset('dl/small 5')!);
    const once = replace(rig.fake.getAsset('dl/small 0')!);
    rig.fake.stallDownload(always.publicId, { persistent: true, afterBytes: 100 });
    rig.fake.stallDownload(once.publicId);
    const run = await rig.backup(['--idle-timeout', '1']);
    assert.equal(run.result.code, 1);
    assert.equal(run.report?.failed, 1);
    assert.match(failure(run.report!, always.publicId), /no data for 1 s \(download stalled\)/);
    assert.equal(await rig.sha(rig.keyOf(once)), rig.fake.expectedSha256(once));
    await rig.rerunComplete();
  });

  test('500/502/503 on delivery are retried; persisting they are reported; 404 is not retried', async () => {
    const names = ['dl/small 1', 'dl/small 2', 'dl/small 3', 'dl/small 4', 'dl/small 5'];
    const [a500, a502, a503, always503, gone] = names.map((n) => replace(rig.fake.getAsset(n)!)) as FakeAsset[];
    rig.fake.failDownload(a500!.publicId, 500);
    rig.fake.failDownload(a502!.publicId, 502);
    rig.fake.failDownload(a503!.publicId, 503);
    rig.fake.failDownload(always503!.publicId, 503, { persistent: true });
    rig.fake.failDownload(gone!.publicId, 404, { persistent: true });
    rig.fake.resetStats();
    const run = await rig.backup();
    assert.equal(run.result.code, 1);
    assert.equal(run.report?.failed, 2);
    assert.match(failure(run.report!, always503!.publicId), /HTTP 503/);
    assert.match(failure(run.report!, gone!.publicId), /HTTP 404/);
    const tries = (a: FakeAsset) => rig.fake.requestLog.filter((r) => r.kind === 'delivery' && r.path.includes(encodeURIComponent(a.publicId.split('/')[1]!))).length;
    assert.equal(tries(always503!), 3, 'three tries of a 503');
    assert.equal(tries(gone!), 1, 'a 404 is not retried');
    for (const a of [a500!, a502!, a503!]) assert.equal(await rig.sha(rig.keyOf(a)), rig.fake.expectedSha256(a));
    await rig.rerunComplete();
  });
});

describe('download faults (local folder)', () => {
  let rig: FaultRig;

  before(async () => {
    rig = await FaultRig.start('folder');
    for (let i = 0; i < 3; i += 1) rig.fake.addAsset({ publicId: `dl/file ${i}`, bytes: 200_000 + i, version: 1_700_000_000 });
    const first = await rig.backup();
    assert.equal(first.result.code, 0, first.result.stderr);
  });

  after(() => rig.stop());

  test('cut, reset and stalled downloads leave the old files and no temporary file; rerun completes', async () => {
    const [cut, reset, stall] = [0, 1, 2].map((i) => {
      const a = rig.fake.getAsset(`dl/file ${i}`)!;
      return rig.fake.replaceAsset(a.publicId, a.resourceType, a.type, { bytes: a.bytes + 5, version: Math.floor(Date.now() / 1000) + 1 });
    }) as FakeAsset[];
    rig.fake.cutDownload(cut!.publicId, 100_000, { persistent: true });
    rig.fake.resetDownload(reset!.publicId, 100_000, { persistent: true });
    rig.fake.stallDownload(stall!.publicId, { persistent: true, afterBytes: 100_000 });
    const run = await rig.backup(['--idle-timeout', '1']);
    assert.equal(run.result.code, 1);
    assert.equal(run.report?.failed, 3);
    assert.deepEqual((await rig.keys()).filter((k) => k.startsWith('.cloudinary-backup-tmp/')), [], 'no temporary file left');
    await rig.rerunComplete();
  });
});
