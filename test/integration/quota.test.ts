import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { keyFor } from '../../lambda/core/keys.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import type { FakeAsset } from '../fakes/cloudinary-fake.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { parseReport, runCli, s3For, s3Sha } from '../helpers.ts';

const BUCKET = 'quota';

describe('quota guard: byte budgets and credits', () => {
  let fake: CloudinaryFake;
  let s3rver: S3rverHandle;
  let s3: S3Client;
  let env: Record<string, string>;
  let assets: FakeAsset[];
  const total = () => assets.reduce((s, a) => s + a.bytes, 0);

  before(async () => {
    fake = new CloudinaryFake({ cloudName: 'quota', apiKey: 'qk', apiSecret: 'quota-secret-1' });
    await fake.start();
    assets = [];
    for (let i = 0; i < 120; i += 1) {
      assets.push(fake.addAsset({ publicId: `q/${i}`, bytes: 10_000 + i * 100, version: 1_700_000_000 + i, type: i % 3 === 0 ? 'private' : 'upload' }));
    }
    s3rver = await startS3rver([BUCKET]);
    s3 = s3For(s3rver.endpoint);
    env = { CLOUDINARY_URL: fake.cloudinaryUrl, ...s3rver.env };
  });

  after(async () => {
    await fake.stop();
    await s3rver.stop();
  });

  test('an explicit budget stops each run cleanly (newest first); later runs complete the backup', async () => {
    const budget = 500_000; // 500kB: about 40 of the 120 assets per run
    let runs = 0;
    let copied = 0;
    let firstRunKeys: string[] = [];
    for (;;) {
      fake.resetStats();
      const r = await runCli(['backup', '--to', `s3://${BUCKET}/explicit`, '--max-bytes', '500kB', '--json'], env);
      assert.equal(r.code, 0, r.stderr);
      const rep = parseReport(r) as Record<string, number | boolean>;
      runs += 1;
      assert.ok(fake.stats.downloadBytes <= budget, `run ${runs} downloaded ${fake.stats.downloadBytes} > ${budget}`);
      assert.equal(rep.budgetBytes, budget);
      copied += rep.copied as number;
      if (runs === 1) {
        assert.equal(rep.budgetExhausted, true);
        assert.equal((rep.remainingToCopy as number) + (rep.copied as number), assets.length);
        assert.equal((rep.remainingBytes as number) + (rep.bytesCopied as number), total());
        firstRunKeys = assets.filter((a) => a.version >= 1_700_000_000 + 120 - (rep.copied as number)).map((a) => keyFor('explicit', a));
      }
      if (!rep.budgetExhausted) break;
      assert.ok(runs < 10, 'the backup completes in a few runs');
    }
    assert.equal(copied, assets.length);
    assert.ok(runs >= 3, `a 1.9 MB account under a 500 kB budget takes several runs (took ${runs})`);
    // The first run protected the newest uploads.
    for (const key of firstRunKeys) assert.ok(await s3Sha(s3, BUCKET, key), `${key} copied in the first run`);
    for (const a of assets) assert.equal(await s3Sha(s3, BUCKET, keyFor('explicit', a)), fake.expectedSha256(a));
  });

  test('--max-bytes auto keeps credits used under the ceiling; the next cycle completes the backup', async () => {
    // 1-credit plan already at 0.8999: a 90% ceiling leaves 100,000 bytes.
    fake.resetUsage();
    fake.setUsage({ credits: { usage: 0.8999, limit: 1 } });
    const r1 = await runCli(['backup', '--to', `s3://${BUCKET}/auto`, '--max-bytes', 'auto', '--json'], env);
    assert.equal(r1.code, 0, r1.stderr);
    const rep1 = parseReport(r1) as Record<string, number | boolean | null>;
    assert.equal(rep1.budgetBytes, 100_000);
    assert.equal(rep1.budgetExhausted, true);
    assert.ok((rep1.copied as number) > 0);
    const used = (fake.usage() as { credits: { usage: number } }).credits.usage;
    assert.ok(used <= 0.9, `credits used ${used} passed the ceiling`);
    assert.equal(rep1.creditsBefore, 0.8999);
    assert.ok(Math.abs((rep1.creditsAfterEstimate as number) - used) < 1e-5, 'the estimate matches what the plan then reports');

    const r2 = await runCli(['backup', '--to', `s3://${BUCKET}/auto`, '--max-bytes', 'auto', '--json'], env);
    const rep2 = parseReport(r2) as Record<string, number | boolean>;
    assert.equal(rep2.copied, 0, 'at the ceiling a run copies nothing');
    assert.ok((fake.usage() as { credits: { usage: number } }).credits.usage <= 0.9);

    // A new monthly cycle: usage back to zero; no limit reported -> no budget.
    fake.resetUsage();
    fake.setUsage({ credits: { usage: 0, limit: 25 } });
    const r3 = await runCli(['backup', '--to', `s3://${BUCKET}/auto`, '--max-bytes', 'auto', '--json'], env);
    const rep3 = parseReport(r3) as Record<string, number | boolean>;
    assert.equal(rep3.budgetExhausted, false);
    assert.equal((rep1.copied as number) + (rep3.copied as number), assets.length);
  });

  test('the dry run plans exactly what the real run then downloads, before spending anything', async () => {
    fake.resetStats();
    const dry = await runCli(['backup', '--to', `s3://${BUCKET}/dry`, '--max-bytes', '300kB', '--dry-run', '--json'], env);
    assert.equal(dry.code, 0, dry.stderr);
    const plan = parseReport(dry) as unknown as { plannedCopies: number; plannedBytes: number; plannedS3Requests: number };
    assert.equal(fake.stats.downloads, 0, 'a dry run downloads nothing');
    assert.ok(plan.plannedCopies > 0);
    assert.equal(plan.plannedS3Requests, plan.plannedCopies, 'small objects: one PUT each');
    const listed = await runCli(['backup', '--to', `s3://${BUCKET}/dry`, '--max-bytes', '300kB', '--dry-run'], env);
    assert.match(listed.stdout, /would copy\s+\d+ .*credits of bandwidth, \d+ S3 write requests/);
    assert.equal(listed.stdout.split('\n').filter((l) => l.startsWith('copy ')).length, plan.plannedCopies, 'the plan lists each copy');

    fake.resetStats();
    const real = await runCli(['backup', '--to', `s3://${BUCKET}/dry`, '--max-bytes', '300kB', '--json'], env);
    const rep = parseReport(real) as Record<string, number>;
    assert.equal(rep.copied, plan.plannedCopies);
    assert.equal(rep.bytesCopied, plan.plannedBytes);
    assert.equal(fake.stats.downloadBytes, plan.plannedBytes, 'downloaded exactly the planned bytes');
  });

  test('the Admin API reserve is never spent: the run waits for the reset (with a countdown) and goes on', async () => {
    const windowMs = 10_000;
    const small = new CloudinaryFake({ cloudName: 'reserve', apiKey: 'rk', apiSecret: 'reserve-secret', rateLimit: 6, rateWindowMs: windowMs });
    await small.start();
    try {
      for (let i = 0; i < 2100; i += 1) small.addAsset({ publicId: `r/${i}`, bytes: 10 });
      // Start right after a window opens, so the first four calls fall in one window.
      await new Promise((r) => setTimeout(r, windowMs - (Date.now() % windowMs) + 50));
      const r = await runCli(['backup', '--to', `s3://${BUCKET}/reserve`, '--dry-run', '--resource-types', 'image', '--api-reserve', '2', '--json'], {
        ...env,
        CLOUDINARY_URL: small.cloudinaryUrl,
      });
      assert.equal(r.code, 0, r.stderr);
      const rep = parseReport(r) as Record<string, number>;
      assert.equal(rep.listed, 2100);
      assert.equal(rep.cloudinaryApiCalls, 5, 'five listing pages, no call refused and repeated');
      assert.equal(small.stats.listingCalls, 5);
      assert.match(r.stderr, /Admin API reserve reached \(2 of 6 calls left this hour\): waiting until/);
    } finally {
      await small.stop();
    }
  });
});
