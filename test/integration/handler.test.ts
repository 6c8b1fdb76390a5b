import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import { keyFor } from '../../lambda/core/keys.ts';
import type { RunReport } from '../../lambda/backup/engine.ts';
import { createBackupRun } from '../../lambda/entry/handler.ts';
import type { HandlerDeps } from '../../lambda/entry/handler.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { pagesFor, populate } from '../fixtures.ts';
import { s3For, s3Sha } from '../helpers.ts';

const BUCKET = 'nightly';

describe('durable handler against the Cloudinary fake and s3rver', () => {
  let s3rver: S3rverHandle;
  let s3: S3Client;
  let shift = 0;
  let fake: CloudinaryFake;

  before(async () => {
    s3rver = await startS3rver([BUCKET]);
    s3 = s3For(s3rver.endpoint);
    fake = new CloudinaryFake({ cloudName: 'night', apiKey: 'k1', apiSecret: 's3cr3t-night', now: () => Date.now() + shift, signatureMaxAgeSeconds: Infinity, rateLimit: 4 });
    await fake.start();
    populate(fake, { images: 700, videos: 30, raw: 20 });
    // This file tests durable waits and splits of the listing. Signed downloads (private,
    // authenticated) are charged as Admin API calls (issue 12), so with a 4-call hour they would
    // wait for later runs; test/infra/bundle-run.ts and originals.test.ts cover them.
    for (const a of fake.listAssets()) if (a.type === 'private' || a.type === 'authenticated') fake.deleteAsset(a.publicId, a.resourceType, a.type);
  });

  // A fresh local durable environment per test: a third execution in one environment never
  // settled here (the process drained its event loop and the test vanished from the report).
  beforeEach(() => LocalDurableTestRunner.setupTestEnvironment({ skipTime: true }));
  afterEach(() => LocalDurableTestRunner.teardownTestEnvironment());

  after(async () => {
    await fake.stop();
    await s3rver.stop();
  });

  const deps = (prefix: string, extra: Partial<HandlerDeps> = {}): HandlerDeps => ({
    env: { BUCKET_NAME: BUCKET, PREFIX: prefix, SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cld', CONCURRENCY: '8' },
    readSecret: async () => fake.cloudinaryUrl,
    s3Client: () => s3For(s3rver.endpoint),
    ...extra,
  });

  const backedUp = () => fake.listAssets().filter((a) => ['upload', 'private', 'authenticated'].includes(a.type));

  test('an empty secret fails with a message that says what to put there, without retrying', async () => {
    const handler = withDurableExecution(createBackupRun(deps('empty', { readSecret: async () => 'Xy9generatedRandomValue' })));
    const runner = new LocalDurableTestRunner({ handlerFunction: handler });
    const execution = await runner.run({ payload: {} });
    assert.equal(execution.getStatus(), 'FAILED');
    const error = JSON.stringify(execution.getError());
    assert.match(error, /put-secret-value --secret-id arn:aws:secretsmanager/);
    assert.match(error, /cloudinary:\/\/API_KEY:API_SECRET@CLOUD_NAME/);
    assert.doesNotMatch(error, /Xy9generatedRandomValue/, 'the secret value is never echoed');
  });

  test('a run that reaches the Admin API reserve waits (time-skipped) and finishes with every asset copied', async () => {
    let waits = 0;
    const handler = withDurableExecution(
      createBackupRun(
        deps('reserve', {
          onWait: (until) => {
            waits += 1;
            shift = until.getTime() - Date.now() + 1000; // the hour passes
          },
        }),
      ),
    );
    const runner = new LocalDurableTestRunner({ handlerFunction: handler });
    const execution = await runner.run({ payload: {} });
    assert.equal(execution.getStatus(), 'SUCCEEDED', execution.getStatus() === 'FAILED' ? JSON.stringify(execution.getError()) : '');
    const report = execution.getResult() as RunReport;
    assert.ok(waits >= 1, 'the reserve of 10% of a 4-call hourly limit forces at least one wait');
    assert.equal(report.copied, backedUp().length);
    assert.equal(report.failed, 0);
    assert.equal(report.cloudinaryApiCalls, pagesFor(fake));
    for (const a of backedUp().slice(0, 60)) assert.equal(await s3Sha(s3, BUCKET, keyFor('reserve', a)), fake.expectedSha256(a));
    const reports = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'reserve/_reports/' }));
    assert.equal(reports.KeyCount, 1, 'the run wrote its JSON report under _reports/');
  });

  test('a run split across invocations copies each asset exactly once', async () => {
    fake.resetRateLimit();
    fake.resetStats();
    const handler = withDurableExecution(createBackupRun(deps('split', { yieldBelowMs: Number.POSITIVE_INFINITY })));
    const runner = new LocalDurableTestRunner({ handlerFunction: handler });
    const execution = await runner.run({ payload: {} });
    assert.equal(execution.getStatus(), 'SUCCEEDED', execution.getStatus() === 'FAILED' ? JSON.stringify(execution.getError()) : '');
    assert.ok(execution.getInvocations().length >= 2, `ran in ${execution.getInvocations().length} invocation(s)`);
    const report = execution.getResult() as RunReport;
    assert.equal(report.copied, backedUp().length);
    assert.equal(fake.stats.downloads, backedUp().length, 'no asset downloaded twice');
    for (const a of backedUp().slice(-60)) assert.equal(await s3Sha(s3, BUCKET, keyFor('split', a)), fake.expectedSha256(a));
  });

});
