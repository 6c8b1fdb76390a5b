/**
 * `GET /usage` is a daily snapshot. Two `--max-bytes auto` runs on one day into one
 * destination must together stay under the credit ceiling: the second subtracts what the first
 * downloaded (read from its report under `_reports/`). Plans without `credits` budget from
 * `bandwidth`. The `/usage` call's rate-limit headers feed the Admin API reserve.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openCloudinary } from '../../lambda/entry/compose.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import { parseReport, runCli } from '../helpers.ts';

const today = (): string => new Date().toISOString().slice(0, 10);

describe('--max-bytes auto with a lagging usage snapshot', () => {
  let fake: CloudinaryFake;
  let folder: string;
  let env: Record<string, string>;
  const run = async (extra: string[] = []) => {
    const r = await runCli(['backup', '--to', folder, '--max-bytes', 'auto', '--json', ...extra], env);
    assert.equal(r.code, 0, r.stderr);
    return parseReport(r) as unknown as { copied: number; bytesDownloaded: number; budgetBytes: number | null };
  };

  before(async () => {
    fake = new CloudinaryFake({ cloudName: 'lag-cloud', apiKey: 'lk', apiSecret: 'lag-secret-9' });
    await fake.start();
    for (let i = 0; i < 10; i += 1) fake.addAsset({ publicId: `p/${i}`, bytes: 5000, version: 1_700_000_000 + i });
    folder = await mkdtemp(path.join(tmpdir(), 'cb-lag-'));
    env = { CLOUDINARY_URL: fake.cloudinaryUrl };
  });

  after(async () => {
    await fake.stop();
    await rm(folder, { recursive: true, force: true });
  });

  test('a second run on the snapshot day subtracts what the first downloaded; the next snapshot takes over', async () => {
    // 90% of 25 credits is 22.5: 30,000 bytes left, as the snapshot says all day.
    fake.setUsage({ credits: { usage: 22.49997, limit: 25 }, last_updated: today() });
    fake.lagUsage();
    const first = await run();
    assert.equal(first.budgetBytes, 30_000);
    assert.equal(first.copied, 6);
    assert.equal(first.bytesDownloaded, 30_000);

    const second = await run();
    assert.equal(second.budgetBytes, 0, 'the snapshot still shows 30,000 bytes left, but the first run spent them');
    assert.equal(second.copied, 0);
    // What the account really used stays at the ceiling.
    fake.takeUsageSnapshot();
    assert.ok((fake.usage() as { credits: { usage: number } }).credits.usage <= 22.5 + 1e-9);

    // Tomorrow's snapshot counts today's runs itself: they are not subtracted again.
    const tomorrow = new Date(Date.now() + 24 * 3600_000).toISOString().slice(0, 10);
    fake.setUsage({ credits: { usage: 22.49997 - 40_000 / 1e9 }, last_updated: tomorrow });
    const third = await run();
    assert.equal(third.budgetBytes, 40_000);
    assert.equal(third.copied, 4);
  });
});

describe("the /usage call's rate-limit headers", () => {
  test('reach the guard (the Admin API reserve), through the real SDK', async () => {
    const fake = new CloudinaryFake({ cloudName: 'rl-cloud', apiKey: 'rk', apiSecret: 'rl-secret-3' });
    await fake.start();
    try {
      fake.setRateLimitRemaining(60);
      const cloud = await openCloudinary(fake.cloudinaryUrl);
      await cloud.source.usage();
      assert.equal(cloud.source.rateLimit?.remaining, 59);
      assert.equal(cloud.source.rateLimit?.limit, 500);
    } finally {
      await fake.stop();
    }
  });
});

describe('--max-bytes auto on a plan without credits', () => {
  let fake: CloudinaryFake;
  let folder: string;

  before(async () => {
    fake = new CloudinaryFake({ cloudName: 'old-plan', apiKey: 'ok', apiSecret: 'old-secret-7', legacyQuotaPlan: true });
    await fake.start();
    for (let i = 0; i < 4; i += 1) fake.addAsset({ publicId: `q/${i}`, bytes: 1000 });
    folder = await mkdtemp(path.join(tmpdir(), 'cb-old-'));
  });

  after(async () => {
    await fake.stop();
    await rm(folder, { recursive: true, force: true });
  });

  test('budgets from bandwidth: 90% of the bandwidth limit minus what was used', async () => {
    fake.setUsage({ bandwidth: { usage: 9_000_000 - 2500, limit: 10_000_000 } });
    const r = await runCli(['backup', '--to', folder, '--max-bytes', 'auto', '--json'], { CLOUDINARY_URL: fake.cloudinaryUrl });
    assert.equal(r.code, 0, r.stderr);
    const report = parseReport(r);
    assert.equal(report['budgetBytes'], 2500);
    assert.equal(report['copied'], 2);
  });
});
