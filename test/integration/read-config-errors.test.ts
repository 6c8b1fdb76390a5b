/**
 * `status`, `ls` and `get` meet the same configuration mistakes as `backup` — a bucket that does
 * not exist, no AWS region, credentials S3 refuses — and answer them the same way: one line that
 * names the setting to fix, exit 2, no SDK text or stack. The real CLI against s3rver (which
 * checks signatures: a wrong secret is refused 403 SignatureDoesNotMatch, as S3 does).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { runCli } from '../helpers.ts';

const BUCKET = 'kept';

/** Each command with the arguments that read the backup at `from`. */
const COMMANDS: Record<string, (from: string) => string[]> = {
  status: (from) => ['status', '--from', from],
  ls: (from) => ['ls', '--from', from],
  get: (from) => ['get', 'photo', '--from', from, '--to', '/tmp/cb-read-errors-never'],
};

describe('status, ls and get: configuration mistakes are one line and exit 2', () => {
  let s3rver: S3rverHandle;
  let fake: CloudinaryFake;
  let env: Record<string, string>;

  before(async () => {
    fake = new CloudinaryFake({ cloudName: 'read-errors', apiKey: '888888888888888', apiSecret: 're-secret' });
    await fake.start();
    fake.addAsset({ publicId: 'photo', bytes: 1000 });
    s3rver = await startS3rver([BUCKET]);
    // No shared config or credentials files: only what each case sets.
    env = { ...s3rver.env, AWS_CONFIG_FILE: '/nonexistent/config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials' };
    const made = await runCli(['backup', '--to', `s3://${BUCKET}/b`], { ...env, CLOUDINARY_URL: fake.cloudinaryUrl });
    assert.equal(made.code, 0, made.stderr);
  });

  after(async () => {
    await fake.stop();
    await s3rver.stop();
  });

  const cases: { name: string; from: string; env: () => Record<string, string>; message: RegExp }[] = [
    { name: 'a bucket that does not exist', from: 's3://no-such-bucket/b', env: () => env, message: /Bucket "no-such-bucket" does not exist\. Create it or check the name/ },
    {
      name: 'no AWS region',
      from: `s3://${BUCKET}/b`,
      env: () => Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'AWS_REGION')),
      message: /No AWS region is set\. Set AWS_REGION/,
    },
    { name: 'credentials S3 refuses', from: `s3://${BUCKET}/b`, env: () => ({ ...env, AWS_SECRET_ACCESS_KEY: 'not-the-secret' }), message: /Access to bucket "kept" is denied \(HTTP 403\)\. Check the AWS credentials/ },
  ];

  for (const [command, args] of Object.entries(COMMANDS)) {
    for (const c of cases) {
      test(`${command}: ${c.name}`, async () => {
        const r = await runCli(args(c.from), c.env());
        assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
        const lines = r.stderr.trim().split('\n');
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0] ?? '', /^cloudinary-backup: /);
        assert.match(lines[0] ?? '', c.message);
        assert.doesNotMatch(r.stderr, /UnknownError|\n\s+at /);
      });
    }
  }
});
