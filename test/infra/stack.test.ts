import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { buildApp } from '../../infra/app.ts';
import { CloudinaryBackupConstruct } from '../../infra/backup-construct.ts';
import { METRICS_NAMESPACE, METRICS_SERVICE, RUN_METRIC_NAMES } from '../../lambda/core/metrics.ts';
import { ContextError, DEFAULTS, parseConfig } from '../../infra/config.ts';
import { SEMI_SPACE_MIB } from '../../infra/node-options.ts';
import { CDK_JSON_CONTEXT, INLINE_CODE, ROOT, actionsOf, onlyLogicalId, policyStatements, synth } from './synth.ts';
import type { Statement, Synthesized } from './synth.ts';

const SAMPLE_URL = 'cloudinary://111122223333444:s3cr3t-SAMPLE-value@demo-cloud';

/** The statements of the function's own role (not the scheduler's). */
const functionStatements = (template: Synthesized['template']): Statement[] => {
  const fn = template.findResources('AWS::Lambda::Function')[onlyLogicalId(template, 'AWS::Lambda::Function')] as {
    Properties: { Role: { 'Fn::GetAtt': [string, string] } };
  };
  const role = fn.Properties.Role['Fn::GetAtt'][0];
  return Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } })).flatMap(
    (p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
  );
};

/**
 * The template may mention the scheme and show the placeholder that tells the user the format,
 * but hold no other cloudinary:// URL.
 */
const assertNoCloudinaryUrl = (text: string): void => {
  const urls: string[] = text.match(/cloudinary:\/\/[^'"\s\\]*/g) ?? [];
  assert.ok(urls.includes('cloudinary://API_KEY:API_SECRET@CLOUD_NAME'), 'the placeholder is missing');
  for (const url of urls) assert.ok(['cloudinary://', 'cloudinary://API_KEY:API_SECRET@CLOUD_NAME'].includes(url), `found ${url}`);
};

const text = (template: Synthesized['template']): string => JSON.stringify(template.toJSON());

/** The backup bucket (the versioned one; the access-log bucket is not). */
const backupBucketId = (template: Synthesized['template']): string => {
  const ids = Object.keys(template.findResources('AWS::S3::Bucket', { Properties: { VersioningConfiguration: { Status: 'Enabled' } } }));
  assert.equal(ids.length, 1);
  return ids[0] as string;
};

describe('stack with no context (a new bucket, nightly, defaults)', () => {
  // A user with CLOUDINARY_URL in their shell must not leak it into the template.
  process.env.CLOUDINARY_URL = SAMPLE_URL;
  const s = synth();
  delete process.env.CLOUDINARY_URL;
  const { template } = s;

  it('runs Node.js 24 on arm64 as a durable function with a 15-minute invocation timeout', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 1024,
      Timeout: 900,
      DurableConfig: { ExecutionTimeout: 23 * 3600, RetentionPeriodInDays: 14 },
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('FailedRunQueue'), 'Arn'] } },
    });
  });

  it('reserves no concurrency by default (new accounts have a limit of 10; Lambda keeps 100 unreserved)', () => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0] as { Properties: Record<string, unknown> };
    assert.equal(fn.Properties['ReservedConcurrentExecutions'], undefined);
  });

  it('retains every published version, so a deploy never deletes the version a running execution replays on', () => {
    const versions = Object.values(template.findResources('AWS::Lambda::Version')) as { DeletionPolicy?: string; UpdateReplacePolicy?: string }[];
    assert.equal(versions.length, 1);
    for (const v of versions) {
      assert.equal(v.DeletionPolicy, 'Retain');
      assert.equal(v.UpdateReplacePolicy, 'Retain');
    }
  });

  it('gives the function exactly the documented environment, with the secret ARN and never its value', () => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    const env = fn.Properties.Environment.Variables;
    assert.deepEqual(Object.keys(env).sort(), [
      'BUCKET_NAME',
      'CONCURRENCY',
      'EXECUTION_TIMEOUT_SECONDS',
      'MAX_BYTES_PER_RUN',
      'NODE_OPTIONS',
      'POWERTOOLS_METRICS_NAMESPACE',
      'POWERTOOLS_SERVICE_NAME',
      'PREFIX',
      'PRUNE',
      'RESOURCE_TYPES',
      'SECRET_ARN',
    ]);
    assert.deepEqual(env.BUCKET_NAME, { Ref: backupBucketId(template) });
    assert.deepEqual(env.SECRET_ARN, { Ref: onlyLogicalId(template, 'AWS::SecretsManager::Secret') });
    assert.equal(env.PREFIX, 'cloudinary');
    assert.equal(env.CONCURRENCY, '8');
    assert.equal(env.MAX_BYTES_PER_RUN, 'auto');
    assert.equal(env.PRUNE, 'false');
    assert.equal(env.RESOURCE_TYPES, 'image,video,raw');
    // The alarms select on these: the function must publish with the shared values (lambda/core/metrics.ts).
    assert.equal(env.POWERTOOLS_SERVICE_NAME, METRICS_SERVICE);
    assert.equal(env.POWERTOOLS_METRICS_NAMESPACE, METRICS_NAMESPACE);
  });

  it('caps the V8 old space at half the function memory in NODE_OPTIONS, with source maps on', () => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0] as {
      Properties: { MemorySize: number; Environment: { Variables: Record<string, string> } };
    };
    const options = fn.Properties.Environment.Variables.NODE_OPTIONS?.split(' ') ?? [];
    assert.ok(options.includes('--enable-source-maps'), `NODE_OPTIONS: ${options.join(' ')}`);
    const caps = options.filter((o) => o.startsWith('--max-old-space-size='));
    assert.deepEqual(caps, [`--max-old-space-size=${Math.floor(fn.Properties.MemorySize / 2)}`]);
    // Node.js 24's young generation, unbounded once NODE_OPTIONS names a heap size (node-options.ts).
    assert.deepEqual(options.filter((o) => o.startsWith('--max-semi-space-size=')), [`--max-semi-space-size=${SEMI_SPACE_MIB}`]);
  });

  it('creates the secret empty of any real value: no SecretString, and no credentials anywhere in the template', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: {},
      SecretString: Match.absent(),
    });
    assert.ok(!s.text.includes('111122223333444'), 'the sample API key leaked into the template');
    assert.ok(!s.text.includes('s3cr3t-SAMPLE-value'), 'the sample API secret leaked into the template');
    assertNoCloudinaryUrl(s.text);
  });

  it('publishes a `live` alias of the current version', () => {
    template.hasResourceProperties('AWS::Lambda::Alias', {
      Name: 'live',
      FunctionVersion: { 'Fn::GetAtt': [Match.stringLikeRegexp('CurrentVersion'), 'Version'] },
    });
  });

  it('schedules the alias nightly at 03:00 UTC with retries and a dead-letter queue', () => {
    const alias = onlyLogicalId(template, 'AWS::Lambda::Alias');
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 3 * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      State: 'ENABLED',
      Target: {
        Arn: { Ref: alias },
        RoleArn: Match.anyValue(),
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('ScheduleDeadLetterQueue'), 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 7200 },
        Input: Match.serializedJson({ trigger: 'schedule', scheduledTime: '<aws.scheduler.scheduled-time>' }),
      },
    });
    // The scheduler's role may invoke the alias and nothing else.
    const invoke = policyStatements(template).filter((st) => actionsOf(st).includes('lambda:InvokeFunction'));
    assert.deepEqual(
      invoke.map((st) => st.Resource),
      [{ Ref: alias }],
    );
  });

  it('creates a hardened, retained, versioned bucket with lifecycle rules and access logs', () => {
    const buckets = template.findResources('AWS::S3::Bucket', { Properties: { VersioningConfiguration: { Status: 'Enabled' } } });
    assert.equal(Object.keys(buckets).length, 1);
    const [id, bucket] = Object.entries(buckets)[0] as [string, { DeletionPolicy: string; UpdateReplacePolicy: string }];
    assert.equal(bucket.DeletionPolicy, 'Retain');
    assert.equal(bucket.UpdateReplacePolicy, 'Retain');
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('AccessLogsBucket') }, LogFilePrefix: 'backup-bucket/' },
      ObjectLockEnabled: Match.absent(),
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          // One day: history keeps retired originals once (docs/history.md, "One copy of each retired original").
          Match.objectLike({ Id: 'ExpireNoncurrentVersions', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 1 } }),
          Match.objectLike({ Id: 'AbortIncompleteUploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 } }),
        ]),
      },
    });
    // SSL only: the bucket policy denies any request not made over TLS.
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('grants the function only its logs, its own durable executions, list, object read/write under the prefix, delete under _history/ only, and the secret', () => {
    const bucket = backupBucketId(template);
    const objects = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/cloudinary/*']] };
    const statements = functionStatements(template);
    const byActions = new Map(statements.map((st) => [actionsOf(st).sort().join(','), st.Resource]));
    assert.deepEqual([...byActions.keys()].sort(), [
      'lambda:CheckpointDurableExecution,lambda:GetDurableExecutionState',
      'logs:CreateLogStream,logs:PutLogEvents',
      's3:AbortMultipartUpload,s3:GetObject,s3:PutObject',
      's3:DeleteObject',
      's3:ListBucket,s3:ListBucketMultipartUploads',
      'secretsmanager:GetSecretValue',
      'sqs:SendMessage',
    ]);
    // Without prune, delete only the copy records a committed catalog holds (lambda/store/copy-record.ts)
    // and, for retention, retired originals under _history/ (docs/history.md); never an asset key.
    const deletes = statements.filter((st) => actionsOf(st).join(',') === 's3:DeleteObject').flatMap((st) => [st.Resource].flat()).map((r) => JSON.stringify(r)).sort();
    assert.deepEqual(deletes, [
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/cloudinary/_catalog/copies/*']] },
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/cloudinary/_history/*']] },
    ].map((r) => JSON.stringify(r)).sort());
    assert.deepEqual(byActions.get('s3:ListBucket,s3:ListBucketMultipartUploads'), { 'Fn::GetAtt': [bucket, 'Arn'] });
    assert.deepEqual(byActions.get('s3:AbortMultipartUpload,s3:GetObject,s3:PutObject'), objects);
    assert.deepEqual(byActions.get('secretsmanager:GetSecretValue'), { Ref: onlyLogicalId(template, 'AWS::SecretsManager::Secret') });
    assert.deepEqual(byActions.get('logs:CreateLogStream,logs:PutLogEvents'), { 'Fn::GetAtt': [onlyLogicalId(template, 'AWS::Logs::LogGroup'), 'Arn'] });
    for (const st of policyStatements(template)) {
      for (const action of actionsOf(st)) assert.ok(!action.includes('*'), `wildcard action ${action}`);
      assert.notEqual(st.Resource, '*');
    }
  });

  it("scopes the durable checkpoint/state calls to this function's executions by its explicit name; no managed policy", () => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0] as { Properties: { FunctionName?: unknown } };
    const name = fn.Properties.FunctionName;
    assert.equal(typeof name, 'string', 'the function needs an explicit name, or the role policy would reference the function (a cycle)');
    const durable = functionStatements(template).filter((st) => actionsOf(st).some((a) => a.includes('DurableExecution')));
    assert.deepEqual(
      durable.map((st) => st.Resource),
      [
        {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':lambda:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:function:${String(name)}:*`],
          ],
        },
      ],
    );
    const roles = Object.values(template.findResources('AWS::IAM::Role')) as { Properties: { ManagedPolicyArns?: unknown } }[];
    for (const role of roles) assert.equal(role.Properties.ManagedPolicyArns, undefined, 'a managed policy grants durable calls on *');
    assert.ok(!text(template).includes('AWSLambdaBasicDurableExecutionRolePolicy'));
  });

  it('grants no KMS permission when no kmsKeyArn is given', () => {
    for (const st of policyStatements(template)) for (const a of actionsOf(st)) assert.ok(!a.startsWith('kms:'), a);
  });

  it('enforces TLS on both dead-letter queues and the alarm topic; no e-mail subscription without an address', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.resourcePropertiesCountIs(
      'AWS::SQS::QueuePolicy',
      { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) } },
      2,
    );
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it("lets this account's CloudWatch alarms publish to the topic, next to the TLS deny", () => {
    const topic = { Ref: onlyLogicalId(template, 'AWS::SNS::Topic') };
    const policies = Object.values(template.findResources('AWS::SNS::TopicPolicy')) as {
      Properties: { Topics: unknown[]; PolicyDocument: { Statement: (Statement & { Principal?: unknown })[] } };
    }[];
    assert.equal(policies.length, 1);
    const [policy] = policies;
    assert.deepEqual(policy?.Properties.Topics, [topic]);
    const statements = policy?.Properties.PolicyDocument.Statement ?? [];
    const allow = statements.filter((st) => st.Effect === 'Allow');
    assert.deepEqual(allow, [
      {
        Sid: 'AllowThisAccountsAlarmsToPublish',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: topic,
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: {
            'aws:SourceArn': {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':alarm:*']],
            },
          },
        },
      },
    ]);
    assert.ok(statements.some((st) => st.Effect === 'Deny' && JSON.stringify(st.Condition) === JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } })));
  });

  it('alarms on function errors, failed runs, failed assets, both dead-letter queues and a missed night, all to the topic', () => {
    const topic = { Ref: onlyLogicalId(template, 'AWS::SNS::Topic') };
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as { Properties: { AlarmActions: unknown[] } }[];
    for (const alarm of alarms) assert.deepEqual(alarm.Properties.AlarmActions, [topic]);

    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'DurableExecutionFailed' }) }) }),
        Match.objectLike({ MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'DurableExecutionTimedOut' }) }) }),
      ]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: 'AssetsFailed',
      Dimensions: [{ Name: 'service', Value: METRICS_SERVICE }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    // Every message sent notifies: an alarm on messages visible would stay in ALARM for the queue's 14 days.
    for (const queue of ['ScheduleDeadLetterQueue', 'FailedRunQueue']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'NumberOfMessagesSent',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp(queue), 'QueueName'] } }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
    template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { Namespace: 'AWS/SQS' }, 2);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: 'RunCompleted',
      Dimensions: [{ Name: 'service', Value: METRICS_SERVICE }],
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 26,
      DatapointsToAlarm: 26,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  it('draws a dashboard with every run metric', () => {
    const body = JSON.stringify(
      (Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0] as { Properties: { DashboardBody: unknown } }).Properties
        .DashboardBody,
    );
    for (const name of RUN_METRIC_NAMES) assert.ok(body.includes(`\\"${name}\\"`), `dashboard lacks ${name}`);
    assert.ok(body.includes('CloudinaryBackup'));
    assert.ok(body.includes('DurableExecutionFailed'));
  });

  it('outputs exactly what the docs name: the Outputs table of docs/stack.md, every <X output> and OutputKey==X in the deploy commands', () => {
    const named = readmeOutputs();
    assert.ok(named.table.length >= 8, `the Outputs table of docs/stack.md was not found (${named.table.join(', ')})`);
    const outputs = Object.keys(template.toJSON()['Outputs'] as Record<string, unknown>).sort();
    assert.deepEqual([...named.table].sort(), outputs, "the Outputs table of docs/stack.md and the stack's outputs differ");
    for (const name of named.mentioned) assert.ok(outputs.includes(name), `the docs name an output '${name}' the stack does not have`);
    template.hasOutput('DashboardUrl', {
      Value: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('#dashboards:name=$'), { Ref: onlyLogicalId(template, 'AWS::CloudWatch::Dashboard') }])] },
    });
  });

  it('outputs the command that starts a durable run now: async, on the alias, with an execution name', () => {
    const alias = onlyLogicalId(template, 'AWS::Lambda::Alias');
    const value = (template.toJSON()['Outputs'] as Record<string, { Value: { 'Fn::Join': [string, unknown[]] } }>)['StartRunCommand']?.Value;
    const parts = value?.['Fn::Join'][1] ?? [];
    assert.ok(parts.some((p) => JSON.stringify(p) === JSON.stringify({ Ref: alias })), 'the command must invoke the alias (a qualified ARN)');
    const command = parts.map((p) => (typeof p === 'string' ? p : '<ref>')).join('');
    assert.match(command, /^aws lambda invoke --region <ref> --function-name <ref> --invocation-type Event /);
    assert.match(command, / --durable-execution-name manual-run-\$\(date \+%s\) /);
    assert.match(command, / --cli-binary-format raw-in-base64-out --payload '\{"trigger":"manual"\}' \/dev\/null$/);
  });
});

/**
 * The outputs the documentation names: the rows of the "## Outputs" table of docs/stack.md, and
 * every `<Name output>` placeholder, `OutputKey=='Name'` query or "`Name` output" in the README's
 * deploy section and in docs/deploy-aws-cli.md.
 */
function readmeOutputs(): { table: string[]; mentioned: string[] } {
  const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');
  const section = (text: string, heading: string, level: string): string => {
    const start = text.indexOf(heading);
    if (start < 0) return '';
    const end = text.indexOf(`\n${level} `, start + 1);
    return text.slice(start, end < 0 ? undefined : end);
  };
  const tableText = section(read('docs/stack.md'), '## Outputs', '##');
  const table = [...tableText.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1] ?? '');
  const deploy = section(read('README.md'), '## Deploy the nightly backup', '##') + read('docs/deploy-aws-cli.md');
  const mentioned = [...deploy.matchAll(/<([A-Za-z]+) output>|OutputKey=='([A-Za-z]+)'|`([A-Z][A-Za-z]+)` output/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
  return { table, mentioned };
}

describe('stack with an existing bucket, prune on and every setting given', () => {
  const { template, text } = synth({
    bucketName: 'my-existing-bucket',
    prefix: 'media/cloudinary',
    prune: 'true',
    notificationEmail: 'me@example.com',
    schedule: 'cron(30 1 ? * SUN *)',
    timezone: 'Europe/Paris',
    concurrency: '16',
    maxBytesPerRun: '2GiB',
    resourceTypes: 'video,image',
    memorySize: '2048',
    maxRunHours: '100',
    missedRunAlarmHours: '168',
  });
  const objects = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::my-existing-bucket/media/cloudinary/*']] };

  it('creates no bucket and leaves the existing one alone', () => {
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.resourceCountIs('AWS::S3::BucketPolicy', 0);
    template.hasOutput('BucketName', { Value: 'my-existing-bucket' });
  });

  it('passes the settings to the function', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 2048,
      DurableConfig: { ExecutionTimeout: 100 * 3600, RetentionPeriodInDays: 14 },
      Environment: {
        Variables: Match.objectLike({
          BUCKET_NAME: 'my-existing-bucket',
          PREFIX: 'media/cloudinary',
          CONCURRENCY: '16',
          MAX_BYTES_PER_RUN: String(2 * 1024 ** 3),
          PRUNE: 'true',
          RESOURCE_TYPES: 'image,video',
          // Half of the 2048 MB given above (infra/node-options.ts).
          NODE_OPTIONS: '--enable-source-maps --max-old-space-size=1024 --max-semi-space-size=16',
        }),
      },
    });
  });

  it('grants list, read/write and delete on the prefix only, with delete because prune is on', () => {
    const statements = policyStatements(template);
    const del = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('s3:Delete')));
    const records = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::my-existing-bucket/media/cloudinary/_catalog/copies/*']] };
    assert.deepEqual(del.map((st) => [actionsOf(st), st.Resource]), [[['s3:DeleteObject'], records], [['s3:DeleteObject'], objects]]);
    const rw = statements.find((st) => actionsOf(st).includes('s3:PutObject'));
    assert.deepEqual(rw?.Resource, objects);
    const list = statements.find((st) => actionsOf(st).includes('s3:ListBucket'));
    assert.deepEqual(list?.Resource, { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::my-existing-bucket']] });
    for (const st of statements) for (const a of actionsOf(st)) assert.ok(!a.includes('*'), `wildcard action ${a}`);
  });

  it('uses the schedule, the time zone and the alarm window given', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 1 ? * SUN *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'RunCompleted', EvaluationPeriods: 168 });
  });

  it('subscribes the e-mail address to the alarm topic', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'me@example.com' });
  });

  it('still keeps credentials out of the template', () => {
    assertNoCloudinaryUrl(text);
  });
});

describe('an existing bucket encrypted with a customer managed KMS key (kmsKeyArn)', () => {
  const key = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const { template } = synth({ bucketName: 'my-existing-bucket', kmsKeyArn: key });

  it('grants the function exactly kms:GenerateDataKey and kms:Decrypt on that key, and nothing else on KMS', () => {
    const kms = policyStatements(template).filter((st) => actionsOf(st).some((a) => a.startsWith('kms:')));
    assert.deepEqual(
      kms.map((st) => [actionsOf(st).sort(), st.Resource]),
      [[['kms:Decrypt', 'kms:GenerateDataKey'], key]],
    );
    assert.deepEqual(functionStatements(template).filter((st) => actionsOf(st).some((a) => a.startsWith('kms:'))), kms);
  });

  it('leaves the key alone (no key policy, no grant resource)', () => {
    template.resourceCountIs('AWS::KMS::Key', 0);
    template.resourceCountIs('AWS::KMS::Grant', 0);
  });
});

describe('created bucket options', () => {
  const { template } = synth({
    objectLockDays: '30',
    storageClassTransitionDays: '60',
    storageClass: 'deep_archive',
    noncurrentVersionExpirationDays: '30',
    reserveConcurrency: 'true',
  });

  it('turns on Object Lock in governance mode', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 30 } } },
    });
  });

  it('moves asset objects (never the catalog or reports) to the colder class, and expires old versions sooner', () => {
    const rules = [
      Match.objectLike({ Id: 'ExpireNoncurrentVersions', NoncurrentVersionExpiration: { NoncurrentDays: 30 } }),
      ...['image', 'video', 'raw'].map((type) =>
        Match.objectLike({
          Id: `Transition-${type}`,
          Prefix: `cloudinary/${type}/`,
          Transitions: [{ StorageClass: 'DEEP_ARCHIVE', TransitionInDays: 60 }],
        }),
      ),
    ];
    template.hasResourceProperties('AWS::S3::Bucket', { LifecycleConfiguration: { Rules: Match.arrayWith(rules) } });
    const bucket = Object.values(template.findResources('AWS::S3::Bucket', { Properties: { VersioningConfiguration: {} } }))[0];
    assert.ok(!JSON.stringify(bucket).includes('_catalog'));
  });

  it('reserves one concurrent execution when asked to (opt-in)', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 1 });
  });
});

describe('bad context fails synth with a message naming the key and the fix', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ concurrency: '0' }, /concurrency: 0 is out of range; use a whole number from 1 to 64, e\.g\. -c concurrency=8/],
    [{ concurrency: 'eight' }, /concurrency: 'eight' is not a whole number; use e\.g\. -c concurrency=8/],
    [{ schedule: 'nightly' }, /schedule: 'nightly' is not a schedule expression; .*-c schedule="cron\(0 3 \* \* \? \*\)"/],
    [{ schedule: 'cron(0 3 * * *)' }, /schedule: 'cron\(0 3 \* \* \*\)' has 5 cron fields, EventBridge needs 6/],
    [{ schedule: 'cron(0 3 * * * *)' }, /exactly one of day-of-month .* must be '\?'/],
    [{ maxBytesPerRun: 'lots' }, /maxBytesPerRun: 'lots' is not a size; use 'auto' .* 'none' .* 500MB or 2GiB/],
    [{ prefix: '/cloudinary' }, /prefix: '\/cloudinary' starts with '\/'; S3 keys are relative, use -c prefix=cloudinary/],
    [{ prefix: 'cloudinary/' }, /prefix: 'cloudinary\/' ends with '\/'.*-c prefix=cloudinary/],
    [{ prefix: 'a//b' }, /prefix: 'a\/\/b' has an empty, '\.' or '\.\.' path segment; use e\.g\. -c prefix=a\/b/],
    [{ prefix: 'back up' }, /prefix: 'back up' has characters outside S3's safe set/],
    [{ timezone: 'Mars/Olympus' }, /timezone: 'Mars\/Olympus' is not a known time zone; use .* -c timezone=Europe\/Paris/],
    [{ timezone: 'europe/paris' }, /timezone: 'europe\/paris' must be spelled 'Europe\/Paris'/],
    [{ bucketName: 'My_Bucket' }, /bucketName: 'My_Bucket' is not a valid S3 bucket name \(may contain only lowercase/],
    [{ bucketName: 'arn:aws:s3:::my-bucket' }, /bucketName: 'arn:aws:s3:::my-bucket' is an ARN or URL; give the bare bucket name, e\.g\. -c bucketName=my-bucket/],
    [{ notificationEmail: 'me' }, /notificationEmail: 'me' is not an e-mail address/],
    [{ resourceTypes: 'image,pdf' }, /resourceTypes: unknown resource type 'pdf'; use a comma-separated subset of image,video,raw/],
    [{ prune: 'yes' }, /prune: 'yes' is not true or false; use -c prune=true or -c prune=false/],
    [{ memorySize: '64' }, /memorySize: 64 is out of range; use a whole number from 128 to 10240/],
    [{ missedRunAlarmHours: '200' }, /missedRunAlarmHours: 200 is out of range; use a whole number from 1 to 168/],
    [{ storageClass: 'COLD' }, /storageClass: 'COLD' is not one of GLACIER_IR, STANDARD_IA/],
    [{ storageClassTransitionDays: '10', storageClass: 'STANDARD_IA' }, /storageClassTransitionDays: S3 moves objects to STANDARD_IA only after at least 30 days/],
    [{ kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/abcd' }, /kmsKeyArn: only applies to an existing bucket encrypted with that key/],
    [{ bucketName: 'b-1', kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:alias/backup' }, /kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:alias\/backup' is an alias ARN; give the key ARN/],
    [{ bucketName: 'b-1', kmsKeyArn: 'abcd-1234' }, /kmsKeyArn: 'abcd-1234' is not a KMS key ARN; use e\.g\. -c kmsKeyArn=arn:aws:kms:/],
    [{ bucketName: 'my-bucket', objectLockDays: '30' }, /objectLockDays: only applies to the bucket this stack creates, but bucketName='my-bucket'/],
    [{ schedule: 'rate(12 hours)' }, /maxRunHours: 23 is not shorter than the schedule's interval \(12 hours\).*-c maxRunHours=11/],
    [{ schedule: 'rate(2 days)' }, /missedRunAlarmHours: 26 is not longer than the schedule's interval \(48 hours\).*-c missedRunAlarmHours=50/],
    [{ schedule: 'rate(30 minutes)' }, /schedule: 'rate\(30 minutes\)' starts a run every 30 minutes/],
    [{ notificationemail: 'me@example.com' }, /notificationemail: is not a setting of this app; did you mean 'notificationEmail'\?/],
    [{ bukcetName: 'x' }, /did you mean 'bucketName'/],
  ];
  for (const [context, message] of cases) {
    it(`rejects ${JSON.stringify(context)}`, () => {
      assert.throws(
        () => buildApp({ appProps: { context: { ...CDK_JSON_CONTEXT, ...context } }, code: INLINE_CODE }),
        (err: unknown) => {
          assert.ok(err instanceof ContextError, `expected a ContextError, got ${String(err)}`);
          assert.equal(err.name, 'ContextError');
          assert.match(err.message, message);
          assert.match(err.message, /-c key=value/);
          return true;
        },
      );
    });
  }

  it('lists every problem at once', () => {
    assert.throws(
      () => parseConfig({ concurrency: '0', schedule: 'nightly', prefix: '/x' }),
      (err: unknown) => err instanceof ContextError && err.problems.length === 3,
    );
  });

  it('refuses a CLOUDINARY_URL given as context, without echoing it', () => {
    assert.throws(
      () => parseConfig({ prefix: SAMPLE_URL }),
      (err: unknown) =>
        err instanceof ContextError &&
        /prefix: holds a cloudinary:\/\/ URL with credentials; never pass it as context/.test(err.message) &&
        !err.message.includes('s3cr3t') &&
        err.problems.length === 1,
    );
  });
});

describe('context values', () => {
  it('cdk.json holds the documented defaults', () => {
    const config = parseConfig(CDK_JSON_CONTEXT);
    assert.deepEqual(config, parseConfig({}));
    assert.equal(config.schedule, DEFAULTS.schedule);
    assert.equal(config.bucketName, undefined);
  });

  it('reads sizes in decimal and binary units', () => {
    const sizes: [unknown, unknown][] = [
      ['auto', 'auto'],
      ['NONE', 'none'],
      ['500MB', 500_000_000],
      ['1.5 GB', 1_500_000_000],
      ['2GiB', 2 * 1024 ** 3],
      ['123456', 123_456],
      [1000, 1000],
    ];
    for (const [raw, bytes] of sizes) assert.equal(parseConfig({ maxBytesPerRun: raw }).maxBytesPerRun, bytes, String(raw));
  });

  it('accepts rate() and cron() schedules that leave room for a whole run', () => {
    for (const schedule of ['rate(1 day)', 'rate(2 days)', 'cron(0 3 ? * SUN *)', 'cron(15 22 1 * ? *)']) {
      assert.equal(parseConfig({ schedule, missedRunAlarmHours: '168' }).schedule, schedule);
    }
  });

  it('accepts JSON values from cdk.json as well as -c strings', () => {
    const config = parseConfig({ concurrency: 4, prune: true, resourceTypes: ['raw', 'image', 'image'], memorySize: 512 });
    assert.equal(config.concurrency, 4);
    assert.equal(config.prune, true);
    assert.deepEqual(config.resourceTypes, ['image', 'raw']);
    assert.equal(config.memorySize, 512);
  });
});

describe('CloudinaryBackupConstruct used on its own', () => {
  it('synthesizes in an app without cdk.json feature flags (access logs by bucket policy, not ACL)', () => {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'S');
    new CloudinaryBackupConstruct(stack, 'Backup', { code: INLINE_CODE });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::S3::Bucket', { LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'backup-bucket/' }) });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'logging.s3.amazonaws.com' } })]) },
    });
  });

  it('refuses created-bucket options together with a given bucket', () => {
    const stack = new Stack(new App(), 'S');
    assert.throws(
      () =>
        new CloudinaryBackupConstruct(stack, 'B', {
          bucket: s3.Bucket.fromBucketName(stack, 'Given', 'given-bucket'),
          serverAccessLogs: false,
          code: INLINE_CODE,
        }),
      /serverAccessLogs only apply to a created bucket/,
    );
  });
});
