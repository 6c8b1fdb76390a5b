/**
 * A bad night at scale: 2,000 assets, 10% of all downloads cut short at a random offset
 * (seeded per asset and try, so the outcome does not depend on the order of concurrent
 * requests). Every asset ends the run copied or named in the report; a second run completes.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FaultRig } from '../fault-rig.ts';

let rig: FaultRig;

before(async () => {
  rig = await FaultRig.start('folder');
  for (let i = 0; i < 2000; i += 1) {
    rig.fake.addAsset({
      publicId: `scale/${i % 10}/asset ${i}`,
      resourceType: i % 20 === 0 ? 'raw' : 'image',
      format: i % 20 === 0 ? '' : 'jpg',
      bytes: 100 + ((i * 7919) % 1900),
    });
  }
});

after(() => rig.stop());

test('10% of downloads failing over 2,000 assets: everything copied or reported; a second run completes', async () => {
  rig.fake.downloadFailureRate(0.1, 20_260_101, { byAsset: true });
  const run = await rig.backup(['--concurrency', '32']);
  const report = run.report!;
  assert.equal(report.listed, 2000);
  assert.equal(report.copied + report.failed, 2000, 'every asset copied or reported');
  assert.ok(rig.fake.stats.downloads > 2150, `about 10% of the downloads were retried (${rig.fake.stats.downloads})`);
  for (const f of report.failures) assert.match(f.error, /(ended|broke off) after \d+ of \d+ bytes/);
  assert.equal(run.result.code, report.failed > 0 ? 1 : 0);
  const second = await rig.rerunComplete();
  assert.equal(second.report?.copied, report.failed, 'the second run copies exactly what the first could not');
});
