/**
 * The durable handler stopped part way (a page step that fails for good, so the execution ends
 * without committing its catalog), then the next night's execution: the copies the first one
 * finished are adopted with the checksums it recorded, and `verify --deep` re-reads every object.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import { createBackupRun } from '../../lambda/entry/handler.ts';
import type { HandlerDeps, RunSummary } from '../../lambda/entry/handler.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { parseReport, runCli, s3For } from '../helpers.ts';
import { setupSkipTime, WorkClock } from '../durable-clock.ts';

const BUCKET = 'durable-sums';
const PREFIX = 'night';

describe('the durable handler records each finished copy', () => {
  let s3rver: S3rverHandle;
  let s3: S3Client;
  let fake: CloudinaryFake;

  before(async () => {
    s3rver = await startS3rver([BUCKET]);
    s3 = s3For(s3rver.endpoint);
    fake = new CloudinaryFake({ cloudName: 'dsums', apiKey: 'k1', apiSecret: 'durable-sums-secret', pageSize: 50, signatureMaxAgeSeconds: Infinity });
    await fake.start();
    const base = Math.floor(Date.now() / 1000) - 100_000;
    for (let i = 0; i < 120; i += 1) fake.addAsset({ publicId: `night/${i}`, bytes: 1500 + i, version: base + i });
  });
  beforeEach(() => setupSkipTime(LocalDurableTestRunner));
  afterEach(() => LocalDurableTestRunner.teardownTestEnvironment());
  after(async () => {
    await fake.stop();
    await s3rver.stop();
  });

  const deps: () => HandlerDeps = () => ({
    env: { BUCKET_NAME: BUCKET, PREFIX, SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cld', CONCURRENCY: '4', POWERTOOLS_METRICS_DISABLED: 'true' },
    readSecret: async () => fake.cloudinaryUrl,
    s3Client: () => s3For(s3rver.endpoint),
  });
  const run = async () => {
    const clock = new WorkClock(WorkClock.fromCounters(() => fake.stats.downloadBytes, () => fake.stats.adminCalls, 1, 2000));
    const runner = new LocalDurableTestRunner({ handlerFunction: clock.wrap(withDurableExecution(createBackupRun(deps()))) });
    return runner.run({ payload: {} });
  };
  const stored = async (): Promise<number> =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${PREFIX}/image/` }))).Contents ?? []).length;

  test('an execution that fails after its first listing page, then the next night: every object keeps its checksum', async () => {
    // The first listing page is answered, every later one refused: the execution fails for good.
    fake.failNextListing(500, { after: 1, times: 1000 });
    const first = await run();
    assert.equal(first.getStatus(), 'FAILED');
    assert.equal(await stored(), 50, 'the first page was copied');
    fake.clearFaults();

    const second = await run();
    assert.equal(second.getStatus(), 'SUCCEEDED', second.getStatus() === 'FAILED' ? JSON.stringify(second.getError()) : '');
    const v = await runCli(['verify', '--against', `s3://${BUCKET}/${PREFIX}`, '--deep', '--json'], s3rver.env);
    const rep = parseReport(v);
    assert.deepEqual([rep.hashed, rep.unhashed, rep.ok], [120, 0, true], 'verify --deep re-reads every object');
    assert.equal(v.code, 0, v.stdout + v.stderr);

    const r = second.getResult() as RunSummary;
    assert.equal(r.copied, 70, 'the copies the failed execution finished are not downloaded again');
    assert.equal(r.unchanged, 50);
    assert.equal(r.hashed, 0, 'their checksums were recorded by the failed execution');
    assert.equal(r.copied + r.unchanged + r.skipped + r.failed + r.pending, r.listed);
  });
});
