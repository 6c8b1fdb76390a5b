/**
 * The fault rig's checks can fail: a foreign object at a key no current asset has, a missing
 * report, and an incomplete listing that leaves more assets unaccounted for than it left
 * unlisted are each caught (test/fault-rig.ts, FaultRig.check).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { BUCKET, FaultRig } from '../fault-rig.ts';
import type { Report } from '../fault-rig.ts';

describe('fault rig checks', () => {
  let rig: FaultRig;
  let report: Report;
  const ok = { code: 0, stdout: '', stderr: '' };

  before(async () => {
    rig = await FaultRig.start('s3');
    for (let i = 0; i < 4; i += 1) rig.fake.addAsset({ publicId: `rig/${i}`, bytes: 2000 + i });
    const run = await rig.backup();
    assert.equal(run.result.code, 0, run.result.stderr);
    report = run.report!;
  });

  after(() => rig.stop());

  test('the backup as the run left it passes', async () => {
    await rig.check(await rig.present(), report, ok);
  });

  test('an object at a key no current asset has, holding bytes never served there, is caught', async () => {
    const stray = rig.root('image/upload/rig/elsewhere.jpg');
    await rig.s3!.send(new PutObjectCommand({ Bucket: BUCKET, Key: stray, Body: 'not from Cloudinary' }));
    try {
      await assert.rejects(rig.check(await rig.present(), report, ok), /never served/);
    } finally {
      await rig.s3!.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: stray }));
    }
    await rig.check(await rig.present(), report, ok);
  });

  test('a run that printed no report fails the check unless no report was expected', async () => {
    await assert.rejects(rig.check(await rig.present(), undefined, ok), /printed no report/);
    await rig.check(await rig.present(), undefined, ok, { noReport: true });
  });

  test('with an incomplete listing, more unaccounted assets than unlisted ones are caught', async () => {
    const missing = rig.fake.addAsset({ publicId: 'rig/not backed up', bytes: 1234 });
    try {
      // Every asset listed, yet one is neither backed up nor named.
      await assert.rejects(rig.check(await rig.present(), { ...report, listingComplete: false, listed: rig.assets().length }, ok), /not listed/);
      // The run did not list it: allowed.
      await rig.check(await rig.present(), { ...report, listingComplete: false, listed: rig.assets().length - 1 }, ok);
    } finally {
      rig.fake.deleteAsset(missing.publicId);
    }
  });
});
