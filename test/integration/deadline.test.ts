/**
 * The execution deadline (lambda/entry/deadline.ts) under LocalDurableTestRunner, time-skipped,
 * against the Cloudinary fake and s3rver. One work clock (test/durable-clock.ts) runs down with
 * the bytes served and the Admin API calls answered: it is each invocation's remaining time and
 * the execution's clock, so a library that needs an hour of work meets a one-hour execution
 * timeout for real. The run stops taking copies ahead of it, records what finished, writes its
 * report (stoppedAtDeadline), releases the lease and ends well before Lambda would cut it off; the
 * next night copies only the rest and commits the catalog.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import { keyFor } from '../../lambda/core/keys.ts';
import { createBackupRun } from '../../lambda/entry/handler.ts';
import type { HandlerDeps, RunSummary } from '../../lambda/entry/handler.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { populate } from '../fixtures.ts';
import { runCli, s3For, s3Sha } from '../helpers.ts';
import { setupSkipTime, WorkClock } from '../durable-clock.ts';

const BUCKET = 'deadline';
const PREFIX = 'night';
/** The durable execution timeout the stack passes (maxRunHours, here one hour). */
const TIMEOUT_S = 3600;

const text = async (s3: S3Client, key: string): Promise<string> =>
  (await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body?.transformToString()) ?? '';

describe('the durable execution deadline', () => {
  let s3rver: S3rverHandle;
  let s3: S3Client;
  let fake: CloudinaryFake;

  before(async () => {
    s3rver = await startS3rver([BUCKET]);
    s3 = s3For(s3rver.endpoint);
    fake = new CloudinaryFake({ cloudName: 'deadline', apiKey: 'k1', apiSecret: 's3cr3t-deadline', signatureMaxAgeSeconds: Infinity });
    await fake.start();
    populate(fake, { images: 700, videos: 30, raw: 20 });
  });
  beforeEach(() => setupSkipTime(LocalDurableTestRunner));
  afterEach(() => LocalDurableTestRunner.teardownTestEnvironment());
  after(async () => {
    await fake.stop();
    await s3rver.stop();
  });

  /** One night: a fresh execution whose clock (1.5 ms a byte, 2 s an Admin API call) starts at 0. */
  const night = async () => {
    const start = { bytes: fake.stats.downloadBytes, calls: fake.stats.adminCalls };
    const spent = WorkClock.fromCounters(() => fake.stats.downloadBytes - start.bytes, () => fake.stats.adminCalls - start.calls, 1.5, 2000);
    const clock = new WorkClock(spent);
    const T0 = Date.parse('2026-12-01T03:00:00Z');
    const deps: HandlerDeps = {
      env: { BUCKET_NAME: BUCKET, PREFIX, SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cld', CONCURRENCY: '8', POWERTOOLS_METRICS_DISABLED: 'true', EXECUTION_TIMEOUT_SECONDS: String(TIMEOUT_S) },
      readSecret: async () => fake.cloudinaryUrl,
      s3Client: () => s3For(s3rver.endpoint),
      now: () => T0 + spent(),
    };
    const runner = new LocalDurableTestRunner({ handlerFunction: clock.wrap(withDurableExecution(createBackupRun(deps))) });
    const execution = await runner.run({ payload: {} });
    assert.equal(execution.getStatus(), 'SUCCEEDED', execution.getStatus() === 'FAILED' ? JSON.stringify(execution.getError()) : '');
    return { result: execution.getResult() as RunSummary, spentMs: spent(), invocations: clock.invocations };
  };

  test('a night that needs more than its execution time stops ahead of the deadline, records what finished and frees the lease; the next night does the rest', async (t) => {
    const backedUp = fake.listAssets().filter((a) => ['upload', 'private', 'authenticated'].includes(a.type));
    const first = await night();
    t.diagnostic(`first night: ${first.result.copied} of ${backedUp.length} copied in ${first.invocations} invocations, ${Math.round(first.spentMs / 1000)} s of work`);
    assert.equal(first.result.stoppedAtDeadline, true, 'the report says the deadline stopped it');
    assert.equal(first.result.listingComplete, false);
    assert.ok(first.result.copied > 0 && first.result.copied < backedUp.length, `${first.result.copied} of ${backedUp.length}`);
    // Ended (report written, lease released) before Lambda's timeout, by more than the copies' margin.
    assert.ok(first.spentMs < TIMEOUT_S * 1000 - 15 * 60_000, `the execution ended at ${Math.round(first.spentMs / 1000)} s of its ${TIMEOUT_S} s`);
    assert.ok(first.invocations >= 2, 'it yielded and resumed before the deadline');
    // What finished is stored whole; nothing cut off at the deadline is stored, nor left open.
    const stored = [];
    for (const a of backedUp) {
      const sha = await s3Sha(s3, BUCKET, keyFor(PREFIX, a));
      if (sha !== undefined) stored.push(a);
      if (sha !== undefined) assert.equal(sha, fake.expectedSha256(a), a.publicId);
    }
    assert.equal(stored.length, first.result.copied, 'every object in the bucket is a copy the report counts');
    assert.deepEqual(await s3rver.openUploads(BUCKET), []);
    const report = JSON.parse(await text(s3, `${PREFIX}/_reports/${first.result.runId}.json`)) as RunSummary;
    assert.equal(report.stoppedAtDeadline, true);
    assert.equal(report.copied, first.result.copied);
    const lease = JSON.parse(await text(s3, `${PREFIX}/_catalog/lease.json`)) as { expiresAt: string };
    assert.ok(Date.parse(lease.expiresAt) <= Date.now(), 'the lease was released: the next night is not skipped');
    // `status` says so too.
    const status = await runCli(['status', '--from', `s3://${BUCKET}/${PREFIX}`, '--json'], s3rver.env);
    assert.equal(status.code, 0, status.stderr);
    const runs = (JSON.parse(status.stdout) as { runs: { runId: string; stoppedAtDeadline: boolean }[] }).runs;
    assert.deepEqual(runs.map((r) => [r.runId, r.stoppedAtDeadline]), [[first.result.runId, true]]);
    const shown = await runCli(['status', '--from', `s3://${BUCKET}/${PREFIX}`], s3rver.env);
    assert.match(shown.stdout, /\(incomplete: deadline\)/);

    // The next night: not skipped, copies only what the first left, and commits the catalog.
    const downloadsBefore = fake.stats.downloads;
    const second = await night();
    assert.equal(second.result.stoppedAtDeadline, false);
    assert.equal(second.result.listingComplete, true);
    assert.equal(second.result.copied, backedUp.length - first.result.copied, 'the rest, and only the rest');
    assert.equal(fake.stats.downloads - downloadsBefore, second.result.copied, 'nothing the first night stored is downloaded again');
    const pointer = JSON.parse(await text(s3, `${PREFIX}/_catalog/current.json`)) as { entries: number; runId: string };
    assert.deepEqual([pointer.entries, pointer.runId], [backedUp.length, second.result.runId]);
    const reports = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${PREFIX}/_reports/` }));
    assert.equal((reports.Contents ?? []).filter((o) => /_reports\/[^/]+\.json$/.test(o.Key ?? '')).length, 2);
  });
});
