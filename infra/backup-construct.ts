import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { createBackupBucket } from './backup-bucket.ts';
import type { BackupTransition } from './backup-bucket.ts';
import { DEFAULTS, maxBytesToEnv } from './config.ts';
import type { MaxBytesPerRun, ResourceType } from './config.ts';
import { BackupMonitoring } from './monitoring.ts';

/** Where the Lambda entry point lives, relative to this file (the repository root is `..`). */
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const HANDLER_ENTRY = fileURLToPath(new URL('../lambda/entry/handler.ts', import.meta.url));

/** Properties of {@link CloudinaryBackupConstruct}. */
export interface CloudinaryBackupProps {
  /**
   * The bucket to back up into. The function only gets grants on it; its settings are left alone.
   * @default - a new bucket: versioned, private, SSL-only, encrypted, retained on stack deletion
   */
  readonly bucket?: s3.IBucket;
  /**
   * Key prefix for every object the backup writes, without leading or trailing `/`.
   * @default 'cloudinary'
   */
  readonly prefix?: string;
  /**
   * When the backup runs.
   * @default - 03:00 UTC every night: `cron(0 3 * * ? *)`
   */
  readonly schedule?: scheduler.ScheduleExpression;
  /**
   * E-mail address subscribed to the alarm topic (the address must confirm the subscription).
   * @default - no subscription; subscribe to the topic yourself
   */
  readonly notificationEmail?: string;
  /**
   * How many assets the function copies at once.
   * @default 8
   */
  readonly concurrency?: number;
  /**
   * Per-run download budget in bytes, `auto` (derived from Cloudinary's usage report) or `none`.
   * @default 'auto'
   */
  readonly maxBytesPerRun?: MaxBytesPerRun;
  /**
   * Delete backups whose asset is gone from Cloudinary. Grants s3:DeleteObject only when true.
   * @default false
   */
  readonly prune?: boolean;
  /**
   * Cloudinary resource types to back up.
   * @default ['image', 'video', 'raw']
   */
  readonly resourceTypes?: readonly ResourceType[];
  /**
   * Function memory in MB.
   * @default 1024
   */
  readonly memorySize?: number;
  /**
   * The longest one durable execution (one nightly run, across all its invocations and waits)
   * may take. Keep it shorter than the time between two scheduled runs: then a run can never
   * still be going when the next one starts.
   * @default Duration.hours(23)
   */
  readonly executionTimeout?: Duration;
  /**
   * How long Lambda keeps a finished durable execution's history (whole days, 1 to 90).
   * @default Duration.days(14)
   */
  readonly executionRetention?: Duration;
  /**
   * Reserve one concurrent execution for the function so that no two invocations ever run at
   * once. Accounts whose concurrency limit is 10 (new accounts) cannot reserve any: set false.
   * @default true
   */
  readonly reserveConcurrency?: boolean;
  /**
   * How long without a completed run before the missed-run alarm fires (whole hours, 1 to 168).
   * @default Duration.hours(26)
   */
  readonly missedRunAlarmAfter?: Duration;
  /**
   * Created bucket only: how long an overwritten or deleted version is kept.
   * @default Duration.days(90)
   */
  readonly noncurrentVersionExpiration?: Duration;
  /**
   * Created bucket only: move backups (not the catalog or reports) into a colder storage class.
   * @default - no transition
   */
  readonly transition?: BackupTransition;
  /**
   * Created bucket only: Object Lock default retention, governance mode.
   * @default - Object Lock off
   */
  readonly objectLockRetention?: Duration;
  /**
   * Created bucket only: write S3 server access logs into a second, private bucket.
   * @default true
   */
  readonly serverAccessLogs?: boolean;
  /**
   * The function code.
   * @default - lambda/entry/handler.ts bundled by local esbuild, AWS SDK included, ESM
   */
  readonly code?: lambda.Code;
  /**
   * Powertools service name: the `service` dimension of every custom metric.
   * @default 'cloudinary-backup'
   */
  readonly serviceName?: string;
  /**
   * CloudWatch namespace of the custom metrics.
   * @default 'CloudinaryBackup'
   */
  readonly metricsNamespace?: string;
  /**
   * Retention of the function's log group.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A nightly Cloudinary backup: a durable Lambda function (invoked through its `live` alias by
 * an EventBridge schedule), the secret that holds CLOUDINARY_URL, the bucket (created or given),
 * an alarm topic with alarms, and a dashboard.
 */
export class CloudinaryBackupConstruct extends Construct {
  /** The bucket backups are written to. */
  readonly bucket: s3.IBucket;
  /** The bucket that receives the created bucket's access logs, when one was created. */
  readonly accessLogsBucket?: s3.Bucket;
  /** The key prefix backups are written under. */
  readonly prefix: string;
  /** The secret that must hold `cloudinary://API_KEY:API_SECRET@CLOUD_NAME`. */
  readonly secret: secretsmanager.Secret;
  /** The durable backup function. */
  readonly function: nodejs.NodejsFunction;
  /** The alias the schedule invokes (durable functions need a qualified ARN). */
  readonly alias: lambda.Alias;
  /** The nightly schedule. */
  readonly schedule: scheduler.Schedule;
  /** Receives scheduled invocations EventBridge Scheduler could not deliver. */
  readonly scheduleDeadLetterQueue: sqs.Queue;
  /** Receives the events of runs that ended FAILED or TIMED_OUT. */
  readonly failedRunQueue: sqs.Queue;
  /** The alarm topic, alarms and dashboard. */
  readonly monitoring: BackupMonitoring;
  /** Alarm notifications go here. */
  readonly alarmTopic: sns.Topic;
  /** Every alarm, by name. */
  readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** The nightly figures. */
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: CloudinaryBackupProps = {}) {
    super(scope, id);
    // The created buckets have no ACLs (BucketOwnerEnforced), so S3 log delivery must be granted
    // by bucket policy; set before any child exists, so the construct works without cdk.json's flags.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    this.prefix = props.prefix ?? DEFAULTS.prefix;
    const serviceName = props.serviceName ?? 'cloudinary-backup';
    const metricsNamespace = props.metricsNamespace ?? 'CloudinaryBackup';
    const prune = props.prune ?? DEFAULTS.prune;

    if (props.bucket) {
      const createdOnly = ['noncurrentVersionExpiration', 'transition', 'objectLockRetention', 'serverAccessLogs'] as const;
      const given = createdOnly.filter((k) => props[k] !== undefined);
      if (given.length > 0) {
        throw new Error(`CloudinaryBackupConstruct: ${given.join(', ')} only apply to a created bucket; drop them or drop 'bucket'`);
      }
      this.bucket = props.bucket;
    } else {
      const created = createBackupBucket(this, {
        prefix: this.prefix,
        ...(props.noncurrentVersionExpiration ? { noncurrentVersionExpiration: props.noncurrentVersionExpiration } : {}),
        ...(props.transition ? { transition: props.transition } : {}),
        ...(props.objectLockRetention ? { objectLockRetention: props.objectLockRetention } : {}),
        ...(props.serverAccessLogs !== undefined ? { serverAccessLogs: props.serverAccessLogs } : {}),
      });
      this.bucket = created.bucket;
      if (created.accessLogs) this.accessLogsBucket = created.accessLogs;
    }

    this.secret = new secretsmanager.Secret(this, 'CloudinaryUrl', {
      description:
        'CLOUDINARY_URL for the nightly Cloudinary backup. Replace the generated placeholder with ' +
        'cloudinary://API_KEY:API_SECRET@CLOUD_NAME (aws secretsmanager put-secret-value).',
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.failedRunQueue = this.deadLetterQueue('FailedRunQueue');
    this.scheduleDeadLetterQueue = this.deadLetterQueue('ScheduleDeadLetterQueue');

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      description: 'Backs up a Cloudinary account into S3 (durable: one run spans many invocations)',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? DEFAULTS.memorySize,
      timeout: Duration.minutes(15),
      durableConfig: {
        executionTimeout: props.executionTimeout ?? Duration.hours(DEFAULTS.maxRunHours),
        retentionPeriod: props.executionRetention ?? Duration.days(14),
      },
      ...((props.reserveConcurrency ?? true) ? { reservedConcurrentExecutions: 1 } : {}),
      deadLetterQueue: this.failedRunQueue,
      logGroup: new logs.LogGroup(this, 'Logs', {
        retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        BUCKET_NAME: this.bucket.bucketName,
        PREFIX: this.prefix,
        SECRET_ARN: this.secret.secretArn,
        CONCURRENCY: String(props.concurrency ?? DEFAULTS.concurrency),
        MAX_BYTES_PER_RUN: maxBytesToEnv(props.maxBytesPerRun ?? DEFAULTS.maxBytesPerRun),
        PRUNE: String(prune),
        RESOURCE_TYPES: (props.resourceTypes ?? DEFAULTS.resourceTypes).join(','),
        POWERTOOLS_SERVICE_NAME: serviceName,
        POWERTOOLS_METRICS_NAMESPACE: metricsNamespace,
        NODE_OPTIONS: '--enable-source-maps',
      },
      ...(props.code
        ? { code: props.code, handler: 'index.handler' }
        : {
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
          }),
    });
    this.grantAccess(prune);

    this.alias = new lambda.Alias(this, 'LiveAlias', { aliasName: 'live', version: this.function.currentVersion });

    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'Starts the nightly Cloudinary backup',
      schedule: props.schedule ?? scheduler.ScheduleExpression.expression(DEFAULTS.schedule),
      target: new targets.LambdaInvoke(this.alias, {
        deadLetterQueue: this.scheduleDeadLetterQueue,
        retryAttempts: 4,
        maxEventAge: Duration.hours(2),
        input: scheduler.ScheduleTargetInput.fromObject({
          trigger: 'schedule',
          scheduledTime: scheduler.ContextAttribute.scheduledTime,
        }),
      }),
    });

    this.monitoring = new BackupMonitoring(this, 'Monitoring', {
      function: this.function,
      scheduleDeadLetterQueue: this.scheduleDeadLetterQueue,
      failedRunQueue: this.failedRunQueue,
      prefix: this.prefix,
      serviceName,
      metricsNamespace,
      ...(props.notificationEmail ? { notificationEmail: props.notificationEmail } : {}),
      ...(props.missedRunAlarmAfter ? { missedRunAlarmAfter: props.missedRunAlarmAfter } : {}),
    });
    this.alarmTopic = this.monitoring.topic;
    this.alarms = this.monitoring.alarms;
    this.dashboard = this.monitoring.dashboard;
  }

  /** The console address of the dashboard. */
  get dashboardUrl(): string {
    return this.monitoring.dashboardUrl;
  }

  private deadLetterQueue(id: string): sqs.Queue {
    return new sqs.Queue(this, id, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
  }

  /**
   * Written out rather than `grantReadWrite`, which would add `s3:DeleteObject*`, `s3:GetObject*`,
   * `s3:GetBucket*` and `s3:List*` wildcards the function does not need.
   */
  private grantAccess(prune: boolean): void {
    const objects = this.bucket.arnForObjects(`${this.prefix}/*`);
    // Listing is not narrowed by an s3:prefix condition: S3 answers a GET or HEAD of a missing
    // key with 403 instead of 404 unless the caller may list the bucket unconditionally.
    this.function.addToRolePolicy(
      // ListBucketMultipartUploads: each run aborts the uploads a killed run left open (with
      // AbortMultipartUpload below); the lifecycle rule is the slower fallback.
      new iam.PolicyStatement({
        sid: 'ListBackupBucket',
        actions: ['s3:ListBucket', 's3:ListBucketMultipartUploads'],
        resources: [this.bucket.bucketArn],
      }),
    );
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadWriteBackupObjects',
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
        resources: [objects],
      }),
    );
    if (prune) {
      this.function.addToRolePolicy(
        new iam.PolicyStatement({ sid: 'PruneBackupObjects', actions: ['s3:DeleteObject'], resources: [objects] }),
      );
    }
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadCloudinaryUrl',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [this.secret.secretArn],
      }),
    );
  }
}
