/**
 * `setup` and `run`, as the real CLI, against the Cloudinary fake and local stand-ins for
 * CloudFormation, Secrets Manager and Lambda (test/fakes/aws-stack.ts): setup checks the URL
 * with one Admin API call, names the wrong part (cloud name, key, secret) in one line, stores
 * the URL in the secret named by the stack output and never prints it, also when typed at a
 * hidden prompt on a real terminal (`script` from util-linux); run invokes the alias (never the
 * unqualified ARN) as a durable execution and `--follow` shows the progress object until the end.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { S3Destination } from '../../lambda/adapters/s3/destination.ts';
import { writeProgress } from '../../lambda/store/progress.ts';
import type { RunProgress } from '../../lambda/store/progress.ts';
import { startAwsStack } from '../fakes/aws-stack.ts';
import type { AcceptedInvoke, AwsStack } from '../fakes/aws-stack.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { BIN, CLI_ENV, parseReport, prepareCli, runCli, s3For } from '../helpers.ts';

const BUCKET = 'nightly';
const PREFIX = 'cld';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:CloudinaryBackupUrl-AbCdEf';
const FN = 'arn:aws:lambda:us-east-1:123456789012:function:CloudinaryBackup-Fn';
const outputs = { SecretArn: SECRET_ARN, AliasArn: `${FN}:live`, BucketName: BUCKET, Prefix: PREFIX };

describe('setup and run against local AWS stand-ins', () => {
  let fake: CloudinaryFake;
  let aws: AwsStack;
  let s3rver: S3rverHandle;
  let env: Record<string, string>;
  let onInvoke: (call: AcceptedInvoke) => void = () => undefined;

  before(async () => {
    fake = new CloudinaryFake({ cloudName: 'setup-cloud', apiKey: '666666666661234', apiSecret: 'Very-Secret-Value-42' });
    await fake.start();
    s3rver = await startS3rver([BUCKET]);
    aws = await startAwsStack({
      stacks: {
        CloudinaryBackup: outputs,
        Stale: { ...outputs, SecretArn: `${SECRET_ARN}-gone` },
        Unqualified: { ...outputs, AliasArn: FN },
      },
      secretArns: [SECRET_ARN],
      durableFunctions: { [FN]: { aliases: { live: '3' } } },
      onInvoke: (c) => onInvoke(c),
    });
    env = { ...aws.env, ...s3rver.env };
  });

  after(async () => {
    await fake.stop();
    await aws.stop();
    await s3rver.stop();
  });

  const noSecretIn = (text: string): void => {
    assert.ok(!text.includes(fake.apiSecret), `the API secret was printed:\n${text}`);
  };

  test('setup stores a working CLOUDINARY_URL in the stack\'s secret and never prints it', async () => {
    aws.secrets.set(SECRET_ARN, '');
    const r = await runCli(['setup'], { ...env, CLOUDINARY_URL: fake.cloudinaryUrl });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(aws.secrets.get(SECRET_ARN), fake.cloudinaryUrl);
    assert.match(r.stderr, /accepted the API key ending 1234 for cloud "setup-cloud"/);
    assert.match(r.stdout, /Stored in arn:aws:secretsmanager:.*CloudinaryBackupUrl/);
    noSecretIn(r.stdout + r.stderr);
  });

  test('setup names the wrong part of the URL in one line and stores nothing', async () => {
    const good = new URL(fake.cloudinaryUrl);
    const variants: Array<[string, (u: URL) => void, RegExp]> = [
      ['key', (u) => (u.username = '111111111119999'), /does not know the API key ending 9999 on cloud "setup-cloud"/],
      ['secret', (u) => (u.password = 'Wrong-Secret'), /refused the API secret for the key ending 1234/],
      ['cloud', (u) => (u.hostname = 'setup-clouds'), /does not know the cloud name "setup-clouds"/],
    ];
    for (const [part, change, message] of variants) {
      aws.secrets.set(SECRET_ARN, 'before');
      const u = new URL(good.href);
      change(u);
      const puts = aws.calls['secretsmanager.PutSecretValue'] ?? 0;
      const r = await runCli(['setup', '-v'], { ...env, CLOUDINARY_URL: u.href });
      assert.equal(r.code, 2, `${part}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `${part}: ${r.stderr}`);
      assert.match(r.stderr, message, part);
      assert.equal(aws.secrets.get(SECRET_ARN), 'before', part);
      assert.equal(aws.calls['secretsmanager.PutSecretValue'] ?? 0, puts, part);
      noSecretIn(r.stdout + r.stderr);
      assert.ok(!r.stderr.includes('Wrong-Secret'), `${part}: printed the secret`);
    }
  });

  test('setup says which stack or secret is missing, in one line with the fix', async () => {
    const missing = await runCli(['setup', '--stack-name', 'Nope'], { ...env, CLOUDINARY_URL: fake.cloudinaryUrl });
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /\ncloudinary-backup: stack "Nope" not found in us-east-1: deploy it with "npx cdk deploy", or pass --stack-name/);
    const stale = await runCli(['setup', '--stack-name', 'Stale'], { ...env, CLOUDINARY_URL: fake.cloudinaryUrl });
    assert.equal(stale.code, 2, stale.stderr);
    assert.match(stale.stderr, /the secret .*-gone \(stack output SecretArn\) does not exist: redeploy/);
    for (const r of [missing, stale]) {
      // The first line says the credentials were accepted; the error is the one line after it.
      assert.equal(r.stderr.trim().split('\n').filter((l) => l.startsWith('cloudinary-backup:')).length, 1);
      noSecretIn(r.stdout + r.stderr);
    }
    const noTty = await runCli(['setup'], env);
    assert.equal(noTty.code, 2);
    assert.match(noTty.stderr, /CLOUDINARY_URL is not set and there is no terminal to ask on/);
  });

  test('setup asks on a real terminal without echoing what is typed', async (t) => {
    if (spawnSync('script', ['--version']).status !== 0) {
      t.skip('`script` (util-linux) is not installed: the hidden prompt needs a terminal');
      return;
    }
    aws.secrets.set(SECRET_ARN, '');
    const cmd = `${process.execPath} ${BIN} setup`;
    await prepareCli();
    const child = spawn('script', ['-q', '-e', '-c', cmd, '/dev/null'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TERM: 'dumb', ...CLI_ENV, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    const prompted = new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        screen += d.toString();
        if (screen.includes('input hidden')) resolve();
      });
    });
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    await Promise.race([prompted, exited]);
    child.stdin.write(`${fake.cloudinaryUrl}\r`);
    const code = await exited;
    assert.equal(code, 0, screen);
    assert.equal(aws.secrets.get(SECRET_ARN), fake.cloudinaryUrl);
    assert.match(screen, /Stored in arn:aws:secretsmanager/);
    noSecretIn(screen);
  });

  test('the Lambda stand-in refuses an unqualified ARN, as Lambda does for a durable function', async () => {
    const lambda = new LambdaClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    await assert.rejects(
      lambda.send(new InvokeCommand({ FunctionName: FN, InvocationType: 'Event' })),
      (err: Error) => err.name === 'InvalidParameterValueException' && /unqualified ARN/.test(err.message),
    );
    lambda.destroy();
  });

  test('run invokes the alias as a durable execution and prints its name', async () => {
    const before = aws.invokes.length;
    const r = await runCli(['run'], env);
    assert.equal(r.code, 0, r.stderr);
    const name = r.stdout.trim();
    assert.match(name, /^manual-\d{8}-\d{6}-[0-9a-f]{6}$/);
    const call = aws.invokes[before];
    assert.ok(call);
    assert.deepEqual([call.qualifier, call.invocationType, call.executionName], ['live', 'Event', name]);
    assert.match(r.stderr, new RegExp(`Started durable execution ${name} \\(${FN}:3/durable-execution/${name}/`));
    const bad = await runCli(['run', '--stack-name', 'Unqualified'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not an alias or version ARN \(a durable function cannot be invoked unqualified\): redeploy/);
    assert.equal(aws.invokes.length, before + 1);
  });

  test('run --follow gives up, with a pointer, when the run writes no progress at all', async () => {
    const r = await runCli(['run', '--follow', '--interval', '0.2', '--first-progress-within', '1'], env, 60_000);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /\ncloudinary-backup: manual-\S+ wrote no progress in 1 s: it may have failed before its first step/);
  });

  test('run --follow shows the progress each step writes, then the report', async () => {
    fake.addAsset({ publicId: 'a', bytes: 1000 });
    fake.addAsset({ publicId: 'b', bytes: 2000 });
    const backup = await runCli(['backup', '--to', `s3://${BUCKET}/${PREFIX}`, '--json'], { ...env, CLOUDINARY_URL: fake.cloudinaryUrl });
    assert.equal(backup.code, 0, backup.stderr);
    const report = parseReport(backup);
    const dest = new S3Destination(s3For(s3rver.endpoint), BUCKET, { probeKey: `${PREFIX}/_catalog/write-check` });
    const resetAt = new Date(Date.now() + 3600_000).toISOString();
    onInvoke = (call) => {
      const base = { format: 1 as const, executionName: call.executionName, listed: 2, failed: 0, deferred: 0, finished: false };
      const steps: RunProgress[] = [
        { ...base, runId: String(report.runId), pagesDone: 1, copied: 1, bytesCopied: 1000, pending: 1, waitingUntil: resetAt, updatedAt: new Date(Date.now() + 1).toISOString() },
        { ...base, runId: String(report.runId), pagesDone: 2, copied: 2, bytesCopied: 3000, pending: 0, waitingUntil: null, updatedAt: new Date(Date.now() + 2).toISOString(), finished: true },
      ];
      steps.forEach((p, i) => setTimeout(() => void writeProgress(dest, PREFIX, p), 600 + i * 900));
    };
    const r = await runCli(['run', '--follow', '--interval', '0.2'], env, 60_000);
    onInvoke = () => undefined;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /pages 1 .*copied 1 \(1\.00 kB\).*pending 1.*waiting for the Admin API rate-limit reset until/);
    assert.match(r.stderr, /pages 2 .*copied 2 \(3\.00 kB\)/);
    assert.match(r.stdout, /manual-.*\nBackup to s3:\/\/nightly/);
    assert.match(r.stdout, /copied\s+2/);
  });
});
