/**
 * Overlapping runs never interleave, across processes: two CLI runs on one folder, two CLI runs on one bucket
 * (s3rver), a CLI run and the durable handler on one bucket. Exactly one run writes; the other
 * stops before it reads the catalog (CLI: exit 75, EXIT.busy; handler: `{ skipped: true }`), and
 * the catalog keeps every entry. The winner is held inside the run by one stalled download
 * (retried after --idle-timeout), so the runs surely overlap whoever wins.
 * The s3rver cases need s3rver to refuse conditional writes with 412 as S3 does; until
 * test/fakes/s3rver-child.cjs does, they skip and say so.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import { LocalDestination } from '../../lambda/adapters/local/folder.ts';
import { S3Destination } from '../../lambda/adapters/s3/destination.ts';
import { EXIT } from '../../lambda/entry/cli/exit.ts';
import { Lease } from '../../lambda/store/lease.ts';
import { createBackupRun } from '../../lambda/entry/handler.ts';
import type { RunSkipped, RunSummary } from '../../lambda/entry/handler.ts';
import type { Destination } from '../../lambda/ports/storage.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import type { FakeAsset } from '../fakes/cloudinary-fake.ts';
import { setupSkipTime } from '../durable-clock.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { populate } from '../fixtures.ts';
import { runCli, s3For } from '../helpers.ts';
import type { CliResult } from '../helpers.ts';
import { catalogOf } from '../support/stub-world.ts';

const BUCKET = 'races';
const backedUp = (assets: FakeAsset[]): FakeAsset[] => assets.filter((a) => ['upload', 'private', 'authenticated'].includes(a.type));

/** Every backed-up asset has one catalog entry with its sha256 (catalogOf throws on duplicates). */
const assertCatalogWhole = async (fake: CloudinaryFake, dest: Destination, prefix: string, assets: FakeAsset[]): Promise<void> => {
  const cat = await catalogOf(dest, prefix);
  assert.equal(cat.size, assets.length, 'one entry per asset');
  const bySha = new Set([...cat.values()].map((e) => `${e.publicId}|${e.sha256}`));
  for (const a of assets) assert.ok(bySha.has(`${a.publicId}|${fake.expectedSha256(a)}`), `${a.publicId} recorded with its sha256`);
};

/** Exactly one run wrote (exit 0), the other stopped at once with EXIT.busy and one line. */
const assertOneRan = (runs: CliResult[]): void => {
  const codes = runs.map((r) => r.code).sort((a, b) => a - b);
  assert.deepEqual(codes, [EXIT.ok, EXIT.busy], runs.map((r) => r.stderr).join('\n---\n'));
  const loser = runs.find((r) => r.code === EXIT.busy) as CliResult;
  assert.match(loser.stderr, /another backup run is writing/);
  assert.doesNotMatch(loser.stderr, /\n\s+at /, 'no stack trace');
};

describe('overlapping runs across processes', () => {
  let fake: CloudinaryFake;
  let s3rver: S3rverHandle;
  let assets: FakeAsset[];
  let conditional: string | undefined;

  before(async () => {
    fake = new CloudinaryFake({ cloudName: 'races', apiKey: 'k1', apiSecret: 'races-secret' });
    await fake.start();
    assets = backedUp(populate(fake, { images: 40, videos: 5, raw: 5 }));
    s3rver = await startS3rver([BUCKET]);
    const s3 = s3For(s3rver.endpoint);
    const put = () => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'probe/conditional', Body: 'x', IfNoneMatch: '*' }));
    await put().catch(() => undefined);
    conditional = await put().then(
      () => 's3rver here does not refuse If-None-Match: * with 412 (test/fakes/s3rver-child.cjs lacks conditional writes); S3 does',
      () => undefined,
    );
  });
  after(async () => {
    await fake.stop();
    await s3rver.stop();
  });

  const env = (): Record<string, string> => ({ CLOUDINARY_URL: fake.cloudinaryUrl, ...s3rver.env });
  /** The destination and prefix behind a --to, to watch its lease. */
  const leaseOf = (to: string): Lease =>
    to.startsWith('s3://')
      ? new Lease(new S3Destination(s3For(s3rver.endpoint), BUCKET, { probeKey: 'x' }), to.slice(`s3://${BUCKET}/`.length), to)
      : new Lease(new LocalDestination(to), '', to);

  /**
   * Two CLI backups on one place, overlapping for sure: one asset is replaced (so every night
   * downloads it) and its first download stalls for --idle-timeout, which holds the first run
   * inside its lease; the second starts once that lease is seen held.
   */
  const twoRuns = async (to: string): Promise<CliResult[]> => {
    const held = assets[7] as FakeAsset;
    fake.replaceAsset(held.publicId, held.resourceType, held.type, { bytes: held.bytes + 1 });
    fake.stallDownload(held.publicId);
    const args = ['backup', '--to', to, '--idle-timeout', '3', '--json'];
    const first = runCli(args, env());
    const lease = leaseOf(to);
    const deadline = Date.now() + 60_000;
    while (!(await lease.holder().catch(() => undefined))) {
      if (Date.now() > deadline) assert.fail('the first run never took the lease');
      await new Promise((r) => setTimeout(r, 50));
    }
    return Promise.all([first, runCli(args, env())]);
  };

  test('two CLI runs on one folder: one runs, one exits 75; the catalog keeps every entry', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'races-'));
    try {
      assertOneRan(await twoRuns(folder));
      await assertCatalogWhole(fake, new LocalDestination(folder), '', assets);
      // The second night, again two at once: still one writer, still every entry.
      assertOneRan(await twoRuns(folder));
      await assertCatalogWhole(fake, new LocalDestination(folder), '', assets);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  test('two CLI runs on one bucket: one runs, one exits 75; the catalog keeps every entry', async (t: TestContext) => {
    if (conditional) return t.skip(conditional);
    assertOneRan(await twoRuns(`s3://${BUCKET}/cli2`));
    const dest = new S3Destination(s3For(s3rver.endpoint), BUCKET, { probeKey: 'cli2/_catalog/write-check' });
    await assertCatalogWhole(fake, dest, 'cli2', assets);
    assertOneRan(await twoRuns(`s3://${BUCKET}/cli2`));
    await assertCatalogWhole(fake, dest, 'cli2', assets);
  });

  describe('a CLI run and the durable handler', () => {
    beforeEach(() => setupSkipTime(LocalDurableTestRunner));
    afterEach(() => LocalDurableTestRunner.teardownTestEnvironment());

    test('the handler started while the CLI holds the lease returns { skipped: true } and writes nothing; the CLI commits every entry', async (t: TestContext) => {
      if (conditional) return t.skip(conditional);
      const prefix = 'mixed';
      const s3 = s3For(s3rver.endpoint);
      fake.stallDownload(assets[3]?.publicId as string);
      const cli = runCli(['backup', '--to', `s3://${BUCKET}/${prefix}`, '--idle-timeout', '4', '--json'], env());
      // Wait until the CLI holds the lease (it writes it before reading the catalog).
      const leaseHeld = async (): Promise<boolean> => {
        try {
          const body = await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${prefix}/_catalog/lease.json` }))).Body?.transformToString();
          return Date.parse((JSON.parse(body ?? '{}') as { expiresAt?: string }).expiresAt ?? '') > Date.now();
        } catch {
          return false;
        }
      };
      for (let i = 0; i < 100 && !(await leaseHeld()); i += 1) await new Promise((r) => setTimeout(r, 100));
      assert.ok(await leaseHeld(), 'the CLI took the lease');
      const handler = createBackupRun({
        env: { BUCKET_NAME: BUCKET, PREFIX: prefix, SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cld', CONCURRENCY: '4', POWERTOOLS_METRICS_DISABLED: 'true' },
        readSecret: async () => fake.cloudinaryUrl,
        s3Client: () => s3For(s3rver.endpoint),
      });
      const downloadsBefore = fake.stats.downloads;
      const execution = await new LocalDurableTestRunner({ handlerFunction: withDurableExecution(handler) }).run({ payload: {} });
      assert.equal(execution.getStatus(), 'SUCCEEDED', execution.getStatus() === 'FAILED' ? JSON.stringify(execution.getError()) : '');
      const result = execution.getResult() as RunSummary | RunSkipped;
      assert.ok('heldBy' in result && result.skipped === true, JSON.stringify(result));
      assert.match(result.heldBy.holder, /pid \d+/, 'names the CLI process');
      const r = await cli;
      assert.equal(r.code, EXIT.ok, r.stderr);
      assert.ok(fake.stats.downloads - downloadsBefore <= assets.length + 1, 'the handler downloaded nothing');
      const dest = new S3Destination(s3, BUCKET, { probeKey: `${prefix}/_catalog/write-check` });
      await assertCatalogWhole(fake, dest, prefix, assets);

      // Once the CLI is done, the handler runs (and finds nothing to copy). A fresh environment:
      // skipTime's clock started before the CLI released the lease.
      await LocalDurableTestRunner.teardownTestEnvironment();
      await setupSkipTime(LocalDurableTestRunner);
      const again = await new LocalDurableTestRunner({ handlerFunction: withDurableExecution(handler) }).run({ payload: {} });
      const summary = again.getResult() as RunSummary | RunSkipped;
      assert.ok(!('heldBy' in summary), JSON.stringify(summary));
      assert.equal(summary.copied, 0);
      await assertCatalogWhole(fake, dest, prefix, assets);
    });
  });
});
