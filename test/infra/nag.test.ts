import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { STACK_NAME, buildApp } from '../../infra/app.ts';
import { parseConfig } from '../../infra/config.ts';
import { acknowledgeNagFindings } from '../../infra/nag.ts';
import { CloudinaryBackupStack } from '../../infra/stack.ts';
import type { DurableLambdaHandler } from '@aws/durable-execution-sdk-js';
import { BUNDLE_BUCKET, BUNDLE_SECRET_ARN, runBundledHandler } from './bundle-run.ts';
import { deniedCalls } from './iam-check.ts';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../../lambda/core/metrics.ts';
import type { TemplateJson } from './iam-check.ts';
import { CDK_JSON_CONTEXT, INLINE_CODE, ROOT } from './synth.ts';

/** Runs the CDK CLI from the repository root, as a user would. */
const cdk = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn('npx', ['cdk', ...args], {
      cwd: ROOT,
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', CLOUDINARY_URL: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });

interface ValidationReport {
  readonly pluginReports: { pluginName: string; violations: { ruleName: string; severity: string }[] }[];
}

const VARIANTS: Record<string, Record<string, unknown>> = {
  'a created bucket with every option': {
    notificationEmail: 'me@example.com',
    objectLockDays: '30',
    storageClassTransitionDays: '30',
  },
  'an existing bucket with prune on and a KMS key': {
    bucketName: 'my-existing-bucket',
    prefix: 'media/cloudinary',
    prune: 'true',
    kmsKeyArn: 'arn:aws:kms:us-east-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  },
};

describe('cdk synth, offline, with no context (real esbuild bundling); the bundle runs a backup', () => {
  it('synthesizes with no unacknowledged cdk-nag finding, and the bundle it builds loads', async () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'cb-cdk-'));
    const result = await cdk(['synth', '--quiet', '--no-notices', '-o', outdir]);
    assert.equal(result.code, 0, `cdk synth failed:\n${result.stderr}`);
    assert.doesNotMatch(result.stderr, /\bERROR\b|\bWARN/);

    const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as ValidationReport;
    assert.deepEqual(
      report.pluginReports.flatMap((p) => p.violations.map((v) => `${p.pluginName}: ${v.ruleName} (${v.severity})`)),
      [],
    );
    assert.ok(existsSync(path.join(outdir, `${STACK_NAME}.template.json`)));

    // The function's asset is the esbuild output: one ESM file (plus its source map) that loads.
    const template = JSON.parse(readFileSync(path.join(outdir, `${STACK_NAME}.template.json`), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string }; Handler?: string } }>;
    };
    const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function');
    assert.equal(fn?.Properties.Handler, 'index.handler');
    const assetDir = path.join(outdir, `asset.${(fn?.Properties.Code?.S3Key ?? '').replace(/\.zip$/, '')}`);
    assert.deepEqual(readdirSync(assetDir).sort(), ['index.mjs', 'index.mjs.map']);
    const bundle = (await import(pathToFileURL(path.join(assetDir, 'index.mjs')).href)) as { handler?: unknown };
    assert.equal(typeof bundle.handler, 'function');
    // ... and runs: a whole nightly backup through the bundled code (fake Cloudinary, s3rver).
    const run = await runBundledHandler(bundle.handler as DurableLambdaHandler);
    // Permissions are sufficient, not only narrow: every S3 and Secrets Manager call the bundle
    // made is allowed by the synthesized role (with the test's bucket and secret as the
    // template's bucket and secret). KMS is not called (SSE-S3), and the durable checkpoint calls
    // go to the local runner, not through the function's SDK, so they are not recorded here.
    const idOf = (type: string, name: RegExp): string =>
      Object.entries(template.Resources).find(([id, r]) => r.Type === type && name.test(id))?.[0] ?? assert.fail(`no ${type}`);
    const physical: Record<string, Record<string, string>> = {
      [idOf('AWS::S3::Bucket', /^BackupBucket/)]: { Ref: BUNDLE_BUCKET, Arn: `arn:aws:s3:::${BUNDLE_BUCKET}` },
      [idOf('AWS::SecretsManager::Secret', /CloudinaryUrl/)]: { Ref: BUNDLE_SECRET_ARN, Id: BUNDLE_SECRET_ARN },
    };
    const distinct = [...new Map(run.calls.map((c) => [`${c.action} ${c.resource}`, c])).values()];
    assert.ok(distinct.some((c) => c.action === 's3:PutObject') && distinct.some((c) => c.action === 'secretsmanager:GetSecretValue'));
    assert.deepEqual(deniedCalls(template as unknown as TemplateJson, distinct, { physical }), [], 'every call the bundle made is allowed');
    // The metrics the function printed (EMF) are the ones the alarms read: same namespace, same
    // names, the same `service` dimension value.
    const published = new Set<string>();
    for (const doc of run.emf) {
      for (const m of doc._aws.CloudWatchMetrics) {
        assert.deepEqual(m.Dimensions, [['service']]);
        for (const metric of m.Metrics) published.add(`${m.Namespace}/${metric.Name}/service=${String(doc['service'])}`);
      }
    }
    assert.ok(published.has(`${METRICS_NAMESPACE}/RunSkipped/service=${METRICS_SERVICE}`), [...published].join(', '));
    const alarms = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
      .map((r) => (r as unknown as { Properties: { Namespace?: string; MetricName?: string; Dimensions?: { Name: string; Value: string }[] } }).Properties)
      .filter((p) => p.Namespace === METRICS_NAMESPACE);
    assert.ok(alarms.length >= 2, 'alarms on the custom metrics exist');
    for (const a of alarms) {
      const service = a.Dimensions?.find((d) => d.Name === 'service')?.Value;
      assert.ok(published.has(`${a.Namespace}/${a.MetricName}/service=${service}`), `the alarm on ${a.MetricName} (service=${service}) reads a metric the function publishes`);
    }
  });

  it('stops with the context error, not a stack trace, on a bad value', async () => {
    const result = await cdk(['synth', '--quiet', '--no-notices', '-o', mkdtempSync(path.join(tmpdir(), 'cb-cdk-')), '-c', 'concurrency=0']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /concurrency: 0 is out of range; use a whole number from 1 to 64/);
    assert.doesNotMatch(result.stderr, /\n\s+at .*\.ts:\d+/);
  });
});

describe('cdk-nag AwsSolutions', () => {
  for (const [name, overrides] of Object.entries(VARIANTS)) {
    it(`finds nothing unacknowledged, errors or warnings, for ${name}`, () => {
      const { app } = buildApp({ appProps: { context: { ...CDK_JSON_CONTEXT, ...overrides } }, code: INLINE_CODE });
      const { violations } = new AwsSolutionsChecks().validateScope(app);
      assert.deepEqual(
        violations.map((v) => `${v.ruleName} (${v.severity}) at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`),
        [],
      );
    });

    it(`acknowledges exactly the findings that exist, each with a reason, for ${name}`, () => {
      const context = { ...CDK_JSON_CONTEXT, ...overrides };
      const config = parseConfig(context);
      const bare = new App({ context });
      new CloudinaryBackupStack(bare, STACK_NAME, { config, code: INLINE_CODE });
      const findings = new AwsSolutionsChecks().validateScope(bare).violations.map((v) => v.ruleName);

      const acknowledged = new App({ context });
      const stack = new CloudinaryBackupStack(acknowledged, STACK_NAME, { config, code: INLINE_CODE });
      const made = acknowledgeNagFindings(stack.backup);
      assert.deepEqual(made.map((a) => a.id).sort(), [...new Set(findings)].sort());
      for (const a of made) assert.ok(a.reason.length >= 80, `${a.id} needs a real reason`);
    });
  }
});
