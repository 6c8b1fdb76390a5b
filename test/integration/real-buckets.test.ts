/**
 * Buckets as real accounts have them, through the real CLI against s3rver behind a recording
 * proxy: a bucket whose policy denies writes without `x-amz-server-side-encryption` (AWS's example
 * "Prevent Amazon S3 unencrypted object uploads"), and a bucket in another region than the one
 * the CLI's environment names (S3 answers 301 PermanentRedirect with `x-amz-bucket-region`; the
 * SDK v3 does not follow it by itself). s3rver-policy.cjs plays both rules.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { keyFor } from '../../lambda/core/keys.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import { startRecordingProxy } from '../fakes/recording-proxy.ts';
import type { RecordingProxy } from '../fakes/recording-proxy.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { parseReport, runCli, s3For, s3Sha } from '../helpers.ts';

const SEALED = 'sealed';
const FAR = 'far-away';
const KMS = 'kms-only';
const MiB = 1024 * 1024;

/** The writes a bucket policy on s3:PutObject sees the encryption header of. */
const SSE_WRITES = new Set(['PutObject', 'CopyObject', 'CreateMultipartUpload']);

describe('buckets of real accounts', () => {
  let fake: CloudinaryFake;
  let s3rver: S3rverHandle;
  let proxy: RecordingProxy;
  let env: Record<string, string>;

  before(async () => {
    fake = new CloudinaryFake({ cloudName: 'real-buckets', apiKey: '777777777777777', apiSecret: 'rb-secret' });
    await fake.start();
    for (let i = 0; i < 6; i += 1) fake.addAsset({ publicId: `photos/p${i}`, bytes: 3000 + i });
    fake.addAsset({ publicId: 'clips/long', resourceType: 'video', bytes: 6 * MiB });
    fake.addAsset({ publicId: 'docs/manual', resourceType: 'raw', format: '', bytes: 900, type: 'private' });
    s3rver = await startS3rver([SEALED, FAR, KMS], { rules: { [SEALED]: { requireSse: 'AES256' }, [FAR]: { region: 'eu-west-1' }, [KMS]: { requireSse: 'aws:kms' } } });
    proxy = await startRecordingProxy(s3rver.endpoint);
    // The environment names us-east-1, as s3rver.env does; the far bucket is in eu-west-1.
    env = { CLOUDINARY_URL: fake.cloudinaryUrl, ...s3rver.env, AWS_ENDPOINT_URL_S3: proxy.endpoint };
  });

  after(async () => {
    await fake.stop();
    await proxy.stop();
    await s3rver.stop();
  });

  const checkCopies = async (bucket: string, prefix: string): Promise<void> => {
    const s3 = s3For(s3rver.endpoint);
    for (const a of fake.listAssets()) {
      const sha = bucket === FAR ? await s3Sha(s3For(s3rver.endpoint, 'eu-west-1'), bucket, keyFor(prefix, a)) : await s3Sha(s3, bucket, keyFor(prefix, a));
      assert.equal(sha, fake.expectedSha256(a), a.publicId);
    }
  };

  test('without --sse a bucket that requires encryption refuses the write probe: one line, exit 2', async () => {
    const r = await runCli(['backup', '--to', `s3://${SEALED}/plain`], env);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^cloudinary-backup: Bucket "sealed" does not accept writes \(Access Denied\)\..*--sse/m);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });

  test('--sse AES256: a backup (streamed PUTs, a multipart upload, catalog, lease, report) completes and verifies; every write carried the header', async () => {
    const before = (await s3rver.policyRefusals()).sse;
    const from = proxy.requests.length;
    const r = await runCli(['backup', '--to', `s3://${SEALED}/enc`, '--sse', 'AES256', '--multipart-threshold', '5MiB', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const report = parseReport(r);
    assert.equal(report.copied, fake.listAssets().length);
    assert.equal(report.failed, 0);
    await checkCopies(SEALED, 'enc');
    const v = await runCli(['verify', '--against', `s3://${SEALED}/enc`, '--deep', '--sse', 'AES256', '--json'], env);
    assert.equal(v.code, 0, v.stderr);
    const writes = proxy.requests.slice(from).filter((q) => SSE_WRITES.has(q.operation));
    const ops = new Set(writes.map((w) => w.operation));
    assert.ok(ops.has('PutObject') && ops.has('CreateMultipartUpload'), [...ops].join(', '));
    // The probe, the lease, the catalog (pages and pointer), the report, every object.
    assert.ok(writes.length >= fake.listAssets().length + 4, `${writes.length} writes`);
    assert.deepEqual(writes.filter((w) => w.sse !== 'AES256').map((w) => `${w.operation} ${w.url}`), [], 'no write went out without the header');
    assert.equal((await s3rver.policyRefusals()).sse, before, 'the bucket refused nothing');
  });

  test('--sse AES256: a replaced original is retired into history with a CopyObject that carries the header too', async () => {
    const from = proxy.requests.length;
    const before = (await s3rver.policyRefusals()).sse;
    const replaced = fake.replaceAsset('photos/p0', 'image', 'upload', { bytes: 4100 });
    const r = await runCli(['backup', '--to', `s3://${SEALED}/enc`, '--sse', 'AES256', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(parseReport(r).copied, 1);
    assert.equal(parseReport(r).failed, 0);
    assert.equal(await s3Sha(s3For(s3rver.endpoint), SEALED, keyFor('enc', replaced)), fake.expectedSha256(replaced));
    const copies = proxy.requests.slice(from).filter((q) => q.operation === 'CopyObject');
    assert.equal(copies.length, 1, 'the old bytes went to _history/ by one server-side copy');
    assert.deepEqual(copies.filter((w) => w.sse !== 'AES256').map((w) => w.url), [], 'the copy carried the header');
    assert.equal((await s3rver.policyRefusals()).sse, before, 'the bucket refused nothing');
  });

  test('--sse aws:kms with a key sends both headers; a key without aws:kms, or --sse for a folder, is a usage error (exit 2)', async () => {
    const key = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const from = proxy.requests.length;
    const ok = await runCli(['backup', '--to', `s3://${KMS}/k`, '--sse', 'aws:kms', '--sse-kms-key-id', key, '--multipart-threshold', '5MiB', '--json'], env);
    assert.equal(ok.code, 0, ok.stderr);
    const writes = proxy.requests.slice(from).filter((q) => SSE_WRITES.has(q.operation));
    assert.ok(writes.length >= fake.listAssets().length + 4, `${writes.length} writes`);
    assert.deepEqual(writes.filter((w) => w.sse !== 'aws:kms' || w.sseKey !== key).map((w) => `${w.operation} ${w.url}`), []);
    const wrong = await runCli(['backup', '--to', `s3://${SEALED}/kms`, '--sse', 'AES256', '--sse-kms-key-id', key], env);
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.match(wrong.stderr, /--sse-kms-key-id is a KMS key: use it with --sse aws:kms/);
    const folder = await runCli(['backup', '--to', '/tmp/cb-never-written', '--sse', 'AES256'], env);
    assert.equal(folder.code, 2, folder.stderr);
    assert.match(folder.stderr, /is a folder/);
    const bad = await runCli(['verify', '--against', `s3://${SEALED}/kms`, '--sse', 'aes'], env);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--sse must be AES256 or aws:kms \(got "aes"\)/);
  });

  test('a bucket in another region: the CLI finds its region once and backs up, verifies, lists and reads from it', async () => {
    const from = proxy.requests.length;
    const r = await runCli(['backup', '--to', `s3://${FAR}/x`, '--multipart-threshold', '5MiB', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(parseReport(r).copied, fake.listAssets().length);
    await checkCopies(FAR, 'x');
    const backup = proxy.requests.slice(from);
    const redirected = backup.filter((q) => q.signingRegion !== 'eu-west-1');
    assert.deepEqual(redirected.map((q) => `${q.operation} ${q.url.replace(/\/$/, '')}`), [`HEAD bucket /${FAR}`], "one HeadBucket signed for the environment's region finds the bucket's; every other request is signed for eu-west-1");
    for (const args of [
      ['verify', '--against', `s3://${FAR}/x`, '--deep'],
      ['status', '--from', `s3://${FAR}/x`],
      ['ls', '--from', `s3://${FAR}/x`],
    ]) {
      const c = await runCli(args, env);
      assert.equal(c.code, 0, `${args[0]}: ${c.stderr}`);
    }
  });
});
