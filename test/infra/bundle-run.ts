import assert from 'node:assert/strict';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import type { DurableLambdaHandler } from '@aws/durable-execution-sdk-js';
import { historyKey, keyFor } from '../../lambda/core/keys.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import { startRecordingProxy } from '../fakes/recording-proxy.ts';
import type { RecordedCall } from '../fakes/recording-proxy.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import { startSecretsManagerFake } from '../fakes/secrets-manager.ts';
import { setupSkipTime, WorkClock } from '../durable-clock.ts';
import { s3For, s3Sha } from '../helpers.ts';

/** The secret the bundled run reads (its ARN, as the stack's output gives it). */
export const BUNDLE_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:cloudinary-url-AbCdEf';
/** The bucket and prefix of the bundled run. */
export const BUNDLE_BUCKET = 'bundle';
/**
 * The bucket's region, not the function's (AWS_REGION us-east-1, as s3rver.env sets): the bundle
 * finds it (HeadBucket's 301 and x-amz-bucket-region) and signs every other request for it.
 */
export const BUNDLE_BUCKET_REGION = 'eu-west-1';
export const BUNDLE_PREFIX = 'cloudinary';

/** What the bundled runs did, for the permission and metric checks. */
export interface BundleRun {
  /** Every AWS call the bundle made (S3 through a recording proxy, Secrets Manager from its fake). */
  readonly calls: RecordedCall[];
  /** The CloudWatch EMF documents the bundle printed (a finished night and a skipped one). */
  readonly emf: EmfDocument[];
}

/** One Embedded Metric Format document, as Powertools prints it on stdout. */
export interface EmfDocument {
  readonly _aws: { readonly CloudWatchMetrics: { readonly Namespace: string; readonly Dimensions: string[][]; readonly Metrics: { Name: string }[] }[] };
  readonly [dimensionOrMetric: string]: unknown;
}

/** Runs `fn` and returns the EMF documents written to stdout meanwhile (other output passes through). */
const captureEmf = async <T>(fn: () => Promise<T>): Promise<{ value: T; emf: EmfDocument[] }> => {
  const emf: EmfDocument[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    for (const line of String(chunk).split('\n')) if (line.startsWith('{"_aws"')) emf.push(JSON.parse(line) as EmfDocument);
    return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  try {
    return { value: await fn(), emf };
  } finally {
    process.stdout.write = write;
  }
};

/**
 * Runs the handler exported by the esbuild bundle as Lambda would: its own AWS SDK clients
 * (configured only by environment variables, as in Lambda) read the secret from a Secrets
 * Manager endpoint and write to s3rver; Cloudinary is the fake. The Lambda context's remaining
 * time runs down with the bytes served (WorkClock), so the run yields and resumes for real
 * (at least three times). Asserts a complete backup, then a second night that copies exactly
 * what changed.
 */
export const runBundledHandler = async (handler: DurableLambdaHandler): Promise<BundleRun> => {
  const fake = new CloudinaryFake({ cloudName: 'bundle', apiKey: 'bk', apiSecret: 'bundle-secret-42' });
  await fake.start();
  for (let i = 0; i < 30; i += 1) fake.addAsset({ publicId: `b/${i}`, bytes: 2000 + i, type: i % 2 ? 'private' : 'upload' });
  for (let i = 0; i < 12; i += 1) fake.addAsset({ publicId: `clips/${i}`, resourceType: 'video', bytes: 1024 * 1024 + i });
  // A Free plan's blocked PDF (refused on the CDN) and a token access-controlled upload come from
  // the signed download API, an access_mode authenticated upload and the private assets from
  // signed delivery URLs, byte for byte, in the bundled handler too.
  fake.addAsset({ publicId: 'docs/terms.pdf', resourceType: 'raw', format: '', bytes: 4321 });
  fake.addAsset({ publicId: 'members/card', accessMode: 'authenticated', bytes: 3210 });
  fake.addAsset({ publicId: 'members/token', accessControl: [{ access_type: 'token' }], bytes: 3211 });
  // A bucket as real accounts have them: in another region than the function, with a policy that
  // refuses writes without the encryption header (the stack's -c sse=AES256 sets SSE).
  const s3rver = await startS3rver([BUNDLE_BUCKET], { rules: { [BUNDLE_BUCKET]: { region: BUNDLE_BUCKET_REGION, requireSse: 'AES256' } } });
  const proxy = await startRecordingProxy(s3rver.endpoint);
  const sm = await startSecretsManagerFake({ [BUNDLE_SECRET_ARN]: fake.cloudinaryUrl });
  const saved = { ...process.env };
  Object.assign(process.env, s3rver.env, {
    AWS_ENDPOINT_URL_S3: proxy.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint,
    BUCKET_NAME: BUNDLE_BUCKET,
    PREFIX: BUNDLE_PREFIX,
    SECRET_ARN: BUNDLE_SECRET_ARN,
    CONCURRENCY: '4',
    MAX_BYTES_PER_RUN: 'auto',
    PRUNE: 'false',
    RESOURCE_TYPES: 'image,video,raw',
    SSE: 'AES256',
    POWERTOOLS_METRICS_DISABLED: 'false',
  });
  const night = async (msPerByte: number) => {
    const clock = new WorkClock(WorkClock.fromCounters(() => fake.stats.downloadBytes, () => fake.stats.adminCalls, msPerByte, 2000));
    await setupSkipTime(LocalDurableTestRunner);
    try {
      const execution = await new LocalDurableTestRunner({ handlerFunction: clock.wrap(handler) }).run({ payload: { trigger: 'schedule' } });
      assert.equal(execution.getStatus(), 'SUCCEEDED', execution.getStatus() === 'FAILED' ? JSON.stringify(execution.getError()) : '');
      return { report: execution.getResult() as { copied: number; failed: number; runId: string; creditsBefore: number | null; skipped?: boolean }, invocations: clock.invocations };
    } finally {
      await LocalDurableTestRunner.teardownTestEnvironment();
    }
  };
  try {
    // 0.25 ms a byte: 12.6 MB take ~3,150 s of invocation time, four invocations or more.
    const { value: first, emf } = await captureEmf(() => night(0.25));
    assert.ok(first.invocations >= 4, `the run yielded and resumed at least three times (${first.invocations} invocations)`);
    assert.equal(first.report.copied, 45);
    assert.equal(first.report.failed, 0);
    assert.equal(fake.stats.downloads, 45, 'each asset downloaded once');
    assert.notEqual(first.report.creditsBefore, null, 'maxBytesPerRun=auto asked GET /usage');
    assert.ok(sm.calls >= 1, 'the secret came from Secrets Manager');
    const s3 = s3For(s3rver.endpoint, BUNDLE_BUCKET_REGION);
    for (const a of fake.listAssets()) assert.equal(await s3Sha(s3, BUNDLE_BUCKET, keyFor(BUNDLE_PREFIX, a)), fake.expectedSha256(a));
    assert.deepEqual(await s3rver.openUploads(BUNDLE_BUCKET), []);
    const pointer = JSON.parse(
      (await (await s3.send(new GetObjectCommand({ Bucket: BUNDLE_BUCKET, Key: `${BUNDLE_PREFIX}/_catalog/current.json` }))).Body?.transformToString()) ?? '{}',
    ) as { entries: number; runId: string };
    assert.equal(pointer.entries, 45, 'the catalog is committed');
    assert.equal(pointer.runId, first.report.runId);
    await s3.send(new GetObjectCommand({ Bucket: BUNDLE_BUCKET, Key: `${BUNDLE_PREFIX}/_reports/${first.report.runId}.json` }));

    // The originals the second night replaces are retired into history first (docs/history.md).
    const replaced = [fake.getAsset('b/3', 'image', 'private'), fake.getAsset('clips/7', 'video', 'upload')].map((a) => {
      assert.ok(a);
      return { key: keyFor(BUNDLE_PREFIX, a), version: a.version, sha: fake.expectedSha256(a) };
    });
    fake.replaceAsset('b/3', 'image', 'private', { bytes: 4321 });
    fake.replaceAsset('clips/7', 'video', 'upload', { bytes: 1000 });
    fake.resetStats();
    const second = await night(0.25);
    assert.equal(second.report.copied, 2, `the second night copies exactly what changed: ${JSON.stringify(second.report).slice(0, 400)}`);
    assert.equal(fake.stats.downloads, 2);
    for (const r of replaced) assert.equal(await s3Sha(s3, BUNDLE_BUCKET, historyKey(BUNDLE_PREFIX, r.key, r.version)), r.sha, `${r.key}: the replaced original, in history`);
    const points = JSON.parse(
      (await (await s3.send(new GetObjectCommand({ Bucket: BUNDLE_BUCKET, Key: `${BUNDLE_PREFIX}/_catalog/current.json` }))).Body?.transformToString()) ?? '{}',
    ) as { points: Array<{ runId: string }> };
    assert.deepEqual(points.points.map((p) => p.runId), [second.report.runId, first.report.runId], 'both nights are restore points');

    // A night that finds another run's lease: it does nothing, succeeds, and counts RunSkipped.
    const until = new Date(Date.now() + 3600_000).toISOString();
    await s3.send(
      new PutObjectCommand({
        Bucket: BUNDLE_BUCKET,
        Key: `${BUNDLE_PREFIX}/_catalog/lease.json`,
        Body: JSON.stringify({ holder: 'cloudinary-backup (pid 4242 on laptop)', runId: 'other-run', takenAt: new Date().toISOString(), expiresAt: until }),
        ServerSideEncryption: 'AES256',
      }),
    );
    fake.resetStats();
    const { value: third, emf: skippedEmf } = await captureEmf(() => night(0.25));
    assert.equal(third.report.skipped, true);
    assert.equal(fake.stats.downloads, 0);
    emf.push(...skippedEmf);
    // Every write of the three nights carried the header the bucket policy requires, and the
    // bucket refused none; every request but the HeadBucket that finds the region (one per
    // invocation: each builds its client) was signed for the bucket's region.
    const writes = proxy.requests.filter((q) => ['PutObject', 'CopyObject', 'CreateMultipartUpload'].includes(q.operation));
    assert.ok(writes.length > 45, `${writes.length} writes`);
    assert.deepEqual(writes.filter((w) => w.sse !== 'AES256').map((w) => `${w.operation} ${w.url}`), [], 'no write without the encryption header');
    assert.equal((await s3rver.policyRefusals()).sse, 0);
    const elsewhere = proxy.requests.filter((q) => q.signingRegion !== BUNDLE_BUCKET_REGION);
    assert.ok(elsewhere.length > 0 && elsewhere.every((q) => q.method === 'HEAD' && q.operation === 'HEAD bucket'), elsewhere.map((q) => `${q.operation} ${q.url}`).join(', '));
    return { emf, calls: [...proxy.calls, ...Array.from({ length: sm.calls }, () => ({ action: 'secretsmanager:GetSecretValue', resource: BUNDLE_SECRET_ARN }))] };
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    await Promise.all([fake.stop(), proxy.stop(), s3rver.stop(), sm.stop()]);
  }
};
