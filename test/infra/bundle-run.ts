import assert from 'node:assert/strict';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import type { DurableLambdaHandler } from '@aws/durable-execution-sdk-js';
import { keyFor } from '../../lambda/core/keys.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import { startSecretsManagerFake } from '../fakes/secrets-manager.ts';
import { s3For, s3Sha } from '../helpers.ts';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:cloudinary-url-AbCdEf';

/**
 * Runs the handler exported by the esbuild bundle as the Lambda would: its own AWS SDK clients
 * (configured only by environment variables, as in Lambda) read the secret from a Secrets
 * Manager endpoint and write to s3rver; Cloudinary is the fake. Asserts a complete backup.
 */
export const runBundledHandler = async (handler: DurableLambdaHandler): Promise<void> => {
  const fake = new CloudinaryFake({ cloudName: 'bundle', apiKey: 'bk', apiSecret: 'bundle-secret-42' });
  await fake.start();
  for (let i = 0; i < 30; i += 1) fake.addAsset({ publicId: `b/${i}`, bytes: 2000 + i, type: i % 2 ? 'private' : 'upload' });
  fake.addAsset({ publicId: 'big video', resourceType: 'video', bytes: 7 * 1024 * 1024 });
  // Issue 12: a Free plan's blocked PDF (401 on the CDN) and an access-controlled upload come
  // from the signed download API, byte for byte, also in the bundled handler.
  fake.addAsset({ publicId: 'docs/terms.pdf', resourceType: 'raw', format: '', bytes: 4321 });
  fake.addAsset({ publicId: 'members/card', accessMode: 'authenticated', bytes: 3210 });
  fake.addAsset({ publicId: 'members/token', accessControl: [{ access_type: 'token' }], bytes: 3211 });
  const s3rver = await startS3rver(['bundle']);
  const sm = await startSecretsManagerFake({ [SECRET_ARN]: fake.cloudinaryUrl });
  const saved = { ...process.env };
  Object.assign(process.env, s3rver.env, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint,
    BUCKET_NAME: 'bundle',
    PREFIX: 'cloudinary',
    SECRET_ARN,
    CONCURRENCY: '4',
    MAX_BYTES_PER_RUN: 'auto',
    PRUNE: 'false',
    RESOURCE_TYPES: 'image,video,raw',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  await LocalDurableTestRunner.setupTestEnvironment({ skipTime: true });
  try {
    const execution = await new LocalDurableTestRunner({ handlerFunction: handler }).run({ payload: { trigger: 'schedule' } });
    assert.equal(execution.getStatus(), 'SUCCEEDED', execution.getStatus() === 'FAILED' ? JSON.stringify(execution.getError()) : '');
    const report = execution.getResult() as { copied: number; failed: number; creditsBefore: number | null };
    assert.equal(report.copied, 34);
    assert.equal(report.failed, 0);
    assert.notEqual(report.creditsBefore, null, 'maxBytesPerRun=auto asked GET /usage');
    assert.ok(sm.calls >= 1, 'the secret came from Secrets Manager');
    const s3 = s3For(s3rver.endpoint);
    for (const a of fake.listAssets()) assert.equal(await s3Sha(s3, 'bundle', keyFor('cloudinary', a)), fake.expectedSha256(a));
    assert.deepEqual(await s3rver.openUploads('bundle'), []);
  } finally {
    await LocalDurableTestRunner.teardownTestEnvironment();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    await Promise.all([fake.stop(), s3rver.stop(), sm.stop()]);
  }
};
