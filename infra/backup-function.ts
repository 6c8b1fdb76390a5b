import { fileURLToPath } from 'node:url';
import { Annotations, Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { copyRecordRoot } from '../lambda/core/keys.ts';
import type { Construct } from 'constructs';
import { METRICS_SERVICE } from '../lambda/core/metrics.ts';
import { functionNodeOptions } from './node-options.ts';

/** Where the Lambda entry point lives, relative to this file (the repository root is `..`). */
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const HANDLER_ENTRY = fileURLToPath(new URL('../lambda/entry/handler.ts', import.meta.url));

/**
 * The durable-execution calls the SDK makes for the function's own executions. Named in the
 * AWS managed policy AWSLambdaBasicDurableExecutionRolePolicy (which grants them on `*`) and, scoped to
 * `function:NAME:*`, in the Lambda Developer Guide, "Security and permissions for Lambda durable
 * functions" (https://docs.aws.amazon.com/lambda/latest/dg/durable-security.html).
 */
export const DURABLE_EXECUTION_ACTIONS = ['lambda:CheckpointDurableExecution', 'lambda:GetDurableExecutionState'] as const;

/** What the backup function is built from (all resolved by the construct). */
export interface BackupFunctionOptions {
  /** The bucket backups are written to. */
  readonly bucket: s3.IBucket;
  /** The key prefix every object is written under (the scope of the object grants). */
  readonly prefix: string;
  /** The secret holding CLOUDINARY_URL. */
  readonly secret: secretsmanager.ISecret;
  /** Receives the events of failed asynchronous invocations. */
  readonly failedRunQueue: sqs.IQueue;
  /** The imported bucket's customer managed key, when it has one. */
  readonly bucketKey?: kms.IKey;
  /** The run settings (BUCKET_NAME, PREFIX, SECRET_ARN, ...); Powertools variables are added here. */
  readonly environment: Readonly<Record<string, string>>;
  /** Function memory in MB. */
  readonly memorySize: number;
  /** The longest one durable execution may take. */
  readonly executionTimeout: Duration;
  /** How long Lambda keeps a finished execution's history. */
  readonly executionRetention: Duration;
  /** Reserve one concurrent execution (opt-in: new accounts cannot reserve any). */
  readonly reserveConcurrency: boolean;
  /** Whether s3:DeleteObject is granted. */
  readonly prune: boolean;
  /** CloudWatch namespace of the custom metrics. */
  readonly metricsNamespace: string;
  /** Retention of the function's log group. */
  readonly logRetention: logs.RetentionDays;
  /** Function code instead of the esbuild bundle (tests). */
  readonly code?: lambda.Code;
}

/**
 * Creates the durable backup function with a role of its own: the role grants exactly the calls
 * the function makes (no AWS managed policy, whose durable-execution grant is on `*`).
 */
export function createBackupFunction(
  scope: Construct,
  options: BackupFunctionOptions,
): { function: nodejs.NodejsFunction; durableExecutionsArn: string } {
  // An explicit name lets the role name the function's executions without referring to the
  // function resource, which itself refers to the role (a cycle CloudFormation refuses).
  const functionName = Names.uniqueResourceName(scope, { maxLength: 64, separator: '-' });
  // Lambda's conventional name, so `aws logs tail /aws/lambda/<FunctionName>` finds it.
  const logGroup = new logs.LogGroup(scope, 'Logs', {
    logGroupName: `/aws/lambda/${functionName}`,
    retention: options.logRetention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const role = new iam.Role(scope, 'FunctionRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: 'Runs the nightly Cloudinary backup: its log group, its own durable executions, the bucket prefix, the secret',
  });
  logGroup.grantWrite(role);
  const stack = Stack.of(scope);
  // Execution ARNs are function:NAME:VERSION/durable-execution/...: every version's executions, no other function's.
  const durableExecutionsArn = `arn:${stack.partition}:lambda:${stack.region}:${stack.account}:function:${functionName}:*`;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'CheckpointOwnDurableExecutions',
      actions: [...DURABLE_EXECUTION_ACTIONS],
      resources: [durableExecutionsArn],
    }),
  );
  grantBackupAccess(role, options);

  const fn = new nodejs.NodejsFunction(scope, 'Function', {
    functionName,
    role,
    description: 'Backs up a Cloudinary account into S3 (durable: one run spans many invocations)',
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: options.memorySize,
    timeout: Duration.minutes(15),
    durableConfig: { executionTimeout: options.executionTimeout, retentionPeriod: options.executionRetention },
    // A durable execution replays on the version it started on, for up to its execution timeout:
    // a deploy must not delete that version (CDK's default for superseded versions is DESTROY).
    currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
    ...(options.reserveConcurrency ? { reservedConcurrentExecutions: 1 } : {}),
    deadLetterQueue: options.failedRunQueue,
    logGroup,
    loggingFormat: lambda.LoggingFormat.JSON,
    environment: {
      ...options.environment,
      POWERTOOLS_SERVICE_NAME: METRICS_SERVICE,
      POWERTOOLS_METRICS_NAMESPACE: options.metricsNamespace,
      // The old-space limit keeps V8's heap near the live data (see node-options.ts).
      NODE_OPTIONS: functionNodeOptions(options.memorySize),
    },
    ...codeProps(options.code),
  });
  acknowledgeDurableNote(fn);
  return { function: fn, durableExecutionsArn };
}

/**
 * aws-cdk-lib notes on every durable function, at every synth, that making an existing function
 * durable replaces it (`renderDurableConfig`, aws-lambda/lib/function.js). This function is
 * durable from its creation, so the note never applies: acknowledged, with that reason.
 */
function acknowledgeDurableNote(fn: lambda.Function): void {
  Annotations.of(fn).acknowledgeInfo(
    'aws-lambda:Function.DurableConfig',
    'The backup function is created durable; no deploy turns an existing non-durable function into a durable one.',
  );
}

function codeProps(code: lambda.Code | undefined): Partial<nodejs.NodejsFunctionProps> & { code?: lambda.Code; handler: string } {
  if (code) return { code, handler: 'index.handler' };
  return {
    entry: HANDLER_ENTRY,
    handler: 'handler',
    projectRoot: REPO_ROOT,
    depsLockFilePath: `${REPO_ROOT}package-lock.json`,
    bundling: {
      forceDockerBundling: false,
      // Bundle the AWS SDK too, so the code behaves the same whatever copy the runtime ships.
      externalModules: [],
      format: nodejs.OutputFormat.ESM,
      mainFields: ['module', 'main'],
      // Some bundled CommonJS dependencies call require() for Node built-ins.
      banner: "import { createRequire as __cbCreateRequire } from 'node:module'; const require = __cbCreateRequire(import.meta.url);",
      minify: true,
      keepNames: true,
      sourceMap: true,
      sourcesContent: false,
      logLevel: nodejs.LogLevel.WARNING,
    },
  };
}

/**
 * Written out rather than `grantReadWrite`, which would add `s3:DeleteObject*`, `s3:GetObject*`,
 * `s3:GetBucket*` and `s3:List*` wildcards the function does not need. The run lease
 * (`<prefix>/_catalog/lease.json`, taken and released with conditional PUTs: If-None-Match /
 * If-Match) needs only GetObject and PutObject under the prefix, which the object grant covers.
 */
function grantBackupAccess(role: iam.IRole, options: BackupFunctionOptions): void {
  const objects = options.bucket.arnForObjects(`${options.prefix}/*`);
  // Listing is not narrowed by an s3:prefix condition: S3 answers a GET or HEAD of a missing
  // key with 403 instead of 404 unless the caller may list the bucket unconditionally.
  // ListBucketMultipartUploads: each run aborts the uploads a killed run left open (with
  // AbortMultipartUpload below); the lifecycle rule is the slower fallback.
  const statements = [
    new iam.PolicyStatement({ sid: 'ListBackupBucket', actions: ['s3:ListBucket', 's3:ListBucketMultipartUploads'], resources: [options.bucket.bucketArn] }),
    new iam.PolicyStatement({ sid: 'ReadWriteBackupObjects', actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'], resources: [objects] }),
    new iam.PolicyStatement({ sid: 'ReadCloudinaryUrl', actions: ['secretsmanager:GetSecretValue'], resources: [options.secret.secretArn] }),
  ];
  // A run deletes the copy records (lambda/store/copy-record.ts) its committed catalog holds: only
  // under <prefix>/_catalog/copies/, never an asset (that stays prune's, below).
  statements.push(new iam.PolicyStatement({ sid: 'DropCopyRecords', actions: ['s3:DeleteObject'], resources: [options.bucket.arnForObjects(`${copyRecordRoot(options.prefix)}/*`)] }));
  if (options.prune) {
    statements.push(new iam.PolicyStatement({ sid: 'PruneBackupObjects', actions: ['s3:DeleteObject'], resources: [objects] }));
  } else {
    // Retention deletes retired originals under `_history/` only (docs/history.md); never an
    // asset key without prune, never s3:DeleteObjectVersion (the bucket's versions stay).
    statements.push(new iam.PolicyStatement({ sid: 'ExpireHistory', actions: ['s3:DeleteObject'], resources: [options.bucket.arnForObjects(`${options.prefix}/_history/*`)] }));
  }
  if (options.bucketKey) {
    // SSE-KMS: PutObject and multipart uploads need a data key; GetObject and completing a
    // multipart upload need Decrypt. Nothing else (no kms:Encrypt, no key administration).
    statements.push(
      new iam.PolicyStatement({ sid: 'UseBucketKey', actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [options.bucketKey.keyArn] }),
    );
  }
  for (const statement of statements) role.addToPrincipalPolicy(statement);
}
