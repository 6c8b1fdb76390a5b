import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { paginateListObjectsV2 } from '@aws-sdk/client-s3';
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

  /** Backed-up asset keys under a prefix (the catalog and reports left out). */
  const assetKeys = async (prefix: string): Promise<string[]> => {
    const keys: string[] = [];
    for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: BUCKET, Prefix: prefix })) {
      for (const o of page.Contents ?? []) if (o.Key && !o.Key.startsWith(`${prefix}_`)) keys.push(o.Key);
    }
    return keys;
  };

  after(async () => {
    await fake.stop();
    await s3rver.stop();
  });

  test('an explicit budget stops each run cleanly (newest first); later runs complete the backup', async () => {
    // An account of its own, one listing (120 uploads, one page): the fake lists newest-created
    // first (Cloudinary's default order), and versions are a permutation of the creation order
    // (an asset re-uploaded later keeps its created_at and gets a new version). So "newest
    // version first" is an order the engine has to make itself.
    const own = new CloudinaryFake({ cloudName: 'budget', apiKey: 'bk', apiSecret: 'budget-secret-1' });
    await own.start();
    try {
      const mine: FakeAsset[] = [];
      for (let i = 0; i < 120; i += 1) {
        mine.push(
          own.addAsset({
            publicId: `b/${i}`,
            bytes: 10_000 + i * 100,
            version: 1_700_000_000 + ((i * 47) % 120),
            createdAt: new Date((1_600_000_000 + i) * 1000).toISOString().replace('.000Z', 'Z'),
          }),
        );
      }
      const budget = 500_000; // 500kB: about 40 of the 120 assets per run
      // What "newest first under a byte budget" means: walk the assets from the newest version
      // down and copy each one that still fits.
      let planned = 0;
      const expectedFirstRun = [...mine]
        .sort((a, b) => b.version - a.version)
        .filter((a) => (planned + a.bytes <= budget ? ((planned += a.bytes), true) : false))
        .map((a) => keyFor('explicit', a))
        .sort();
      const listingOrderFirst = [...mine].reverse().slice(0, expectedFirstRun.length).map((a) => keyFor('explicit', a)).sort();
      assert.notDeepEqual(listingOrderFirst, expectedFirstRun, 'the listing order must differ from version order, or the test proves nothing');
      const ownEnv = { ...env, CLOUDINARY_URL: own.cloudinaryUrl };
      let runs = 0;
      let copied = 0;
      for (;;) {
        own.resetStats();
        const r = await runCli(['backup', '--to', `s3://${BUCKET}/explicit`, '--max-bytes', '500kB', '--json'], ownEnv);
        assert.equal(r.code, 0, r.stderr);
        const rep = parseReport(r) as Record<string, number | boolean>;
        runs += 1;
        assert.ok(own.stats.downloadBytes <= budget, `run ${runs} downloaded ${own.stats.downloadBytes} > ${budget}`);
        assert.equal(rep.budgetBytes, budget);
        copied += rep.copied as number;
        if (runs === 1) {
          assert.equal(rep.budgetExhausted, true);
          assert.equal((rep.remainingToCopy as number) + (rep.copied as number), mine.length);
          assert.equal((rep.remainingBytes as number) + (rep.bytesCopied as number), mine.reduce((s, a) => s + a.bytes, 0));
          // Checked now, before later runs fill in the rest.
          assert.deepEqual((await assetKeys('explicit/')).sort(), expectedFirstRun, 'the first run copied the newest versions that fit');
        }
        if (!rep.budgetExhausted) break;
        assert.ok(runs < 10, 'the backup completes in a few runs');
      }
      assert.equal(copied, mine.length);
      assert.ok(runs >= 3, `a 1.9 MB account under a 500 kB budget takes several runs (took ${runs})`);
      for (const a of mine) assert.equal(await s3Sha(s3, BUCKET, keyFor('explicit', a)), own.expectedSha256(a));
    } finally {
      await own.stop();
    }
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
      // image/upload: 5 pages of 500; image/private and image/authenticated: 1 (empty) each.
      assert.equal(rep.cloudinaryApiCalls, 7, 'seven listing pages (a dry run saves no metadata-field definitions), no call refused and repeated');
      assert.equal(small.stats.listingCalls, 7);
      assert.match(r.stderr, /Admin API reserve reached \(2 of 6 calls left this hour\): waiting until/);
    } finally {
      await small.stop();
    }
  });
});
