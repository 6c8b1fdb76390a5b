/**
 * A redeploy onto the bucket an earlier deployment left (cdk destroy keeps it): `setup` says the
 * bucket already holds a backup and the next night copies only what changed; in a bucket without
 * one it says the first night copies everything; `status` shows the earlier deployment's runs.
 * The real CLI against the Cloudinary fake, s3rver and the local CloudFormation / Secrets Manager
 * stand-ins (test/fakes/aws-stack.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAwsStack } from '../fakes/aws-stack.ts';
import type { AwsStack } from '../fakes/aws-stack.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { parseReport, runCli } from '../helpers.ts';

const KEPT = 'kept-bucket';
const FRESH = 'fresh-bucket';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:CloudinaryBackupUrl-AbCdEf';
const FN = 'arn:aws:lambda:us-east-1:123456789012:function:CloudinaryBackup-Fn';

describe('a redeploy onto the kept bucket', () => {
  let fake: CloudinaryFake;
  let aws: AwsStack;
  let s3rver: S3rverHandle;
  let env: Record<string, string>;

  before(async () => {
    fake = new CloudinaryFake({ cloudName: 'redeploy', apiKey: '999999999994321', apiSecret: 'redeploy-secret' });
    await fake.start();
    for (let i = 0; i < 5; i += 1) fake.addAsset({ publicId: `a/${i}`, bytes: 1000 + i });
    s3rver = await startS3rver([KEPT, FRESH]);
    const outputs = (bucket: string) => ({ SecretArn: SECRET_ARN, AliasArn: `${FN}:live`, BucketName: bucket, Prefix: 'cloudinary' });
    aws = await startAwsStack({
      stacks: { CloudinaryBackup: outputs(KEPT), Fresh: outputs(FRESH) },
      secretArns: [SECRET_ARN],
      durableFunctions: { [FN]: { aliases: { live: '1' } } },
    });
    env = { ...aws.env, ...s3rver.env, CLOUDINARY_URL: fake.cloudinaryUrl };
    // The earlier deployment's nights, as the CLI writes them (the same layout as the function's).
    const first = await runCli(['backup', '--to', `s3://${KEPT}/cloudinary`, '--json'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(parseReport(first).copied, 5);
  });

  after(async () => {
    await fake.stop();
    await aws.stop();
    await s3rver.stop();
  });

  test('setup finds the backup in the kept bucket: the next run copies only what changed', async () => {
    const r = await runCli(['setup'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /s3:\/\/kept-bucket\/cloudinary already holds a backup: 5 assets, last completed run \S+ \(\d{4}-\d\d-\d\dT[^)]+\); the next run copies only what changed since\./);
    assert.ok(!(r.stdout + r.stderr).includes(fake.apiSecret));
    const s = await runCli(['status', '--from', `s3://${KEPT}/cloudinary`, '--json'], env);
    assert.equal(s.code, 0, s.stderr);
    assert.equal((JSON.parse(s.stdout) as { runs: unknown[] }).runs.length, 1, 'the earlier deployment\'s run is listed');
  });

  test('setup on a stack whose bucket holds no backup says the first run copies everything', async () => {
    const r = await runCli(['setup', '--stack-name', 'Fresh'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /s3:\/\/fresh-bucket\/cloudinary holds no backup yet: the first run copies the whole library/);
  });
});
