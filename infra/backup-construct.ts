import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../lambda/core/metrics.ts';
import { createBackupBucket } from './backup-bucket.ts';
import { createBackupFunction } from './backup-function.ts';
import { DEFAULTS, maxBytesToEnv } from './config.ts';
import { BackupMonitoring } from './monitoring.ts';
import type { CloudinaryBackupProps } from './backup-props.ts';

export type { CloudinaryBackupProps } from './backup-props.ts';

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
  /** Whether the function prunes (and so may delete any key under the prefix, not only `_history/`). */
  readonly prune: boolean;
  readonly prefix: string;
  /** The secret that must hold `cloudinary://API_KEY:API_SECRET@CLOUD_NAME`. */
  readonly secret: secretsmanager.Secret;
  /** The durable backup function. */
  readonly function: nodejs.NodejsFunction;
  /** The ARN pattern of this function's durable executions (`...:function:NAME:*`), granted to its role. */
  readonly durableExecutionsArn: string;
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
    const metricsNamespace = props.metricsNamespace ?? METRICS_NAMESPACE;
    const prune = props.prune ?? DEFAULTS.prune;
    this.prune = prune;

    const { bucket, accessLogs } = this.resolveBucket(props);
    this.bucket = bucket;
    if (accessLogs) this.accessLogsBucket = accessLogs;

    this.secret = new secretsmanager.Secret(this, 'CloudinaryUrl', {
      description:
        'CLOUDINARY_URL for the nightly Cloudinary backup. Replace the generated placeholder with ' +
        'cloudinary://API_KEY:API_SECRET@CLOUD_NAME (aws secretsmanager put-secret-value).',
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.failedRunQueue = this.deadLetterQueue('FailedRunQueue');
    this.scheduleDeadLetterQueue = this.deadLetterQueue('ScheduleDeadLetterQueue');

    const created = this.createFunction(props, prune, metricsNamespace);
    this.function = created.function;
    this.durableExecutionsArn = created.durableExecutionsArn;

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

  private createFunction(props: CloudinaryBackupProps, prune: boolean, metricsNamespace: string): ReturnType<typeof createBackupFunction> {
    return createBackupFunction(this, {
      bucket: this.bucket,
      prefix: this.prefix,
      secret: this.secret,
      failedRunQueue: this.failedRunQueue,
      ...(props.bucketKey ? { bucketKey: props.bucketKey } : {}),
      environment: {
        BUCKET_NAME: this.bucket.bucketName,
        PREFIX: this.prefix,
        SECRET_ARN: this.secret.secretArn,
        CONCURRENCY: String(props.concurrency ?? DEFAULTS.concurrency),
        MAX_BYTES_PER_RUN: maxBytesToEnv(props.maxBytesPerRun ?? DEFAULTS.maxBytesPerRun),
        PRUNE: String(prune),
        ...(props.historyDays === undefined ? {} : { HISTORY_DAYS: String(props.historyDays) }),
        RESOURCE_TYPES: (props.resourceTypes ?? DEFAULTS.resourceTypes).join(','),
        ...(props.bucketKey ? { SSE: 'aws:kms', SSE_KMS_KEY_ID: props.bucketKey.keyArn } : props.serverSideEncryption ? { SSE: props.serverSideEncryption } : {}),
        // The run stops taking copies ahead of it and ends cleanly (lambda/entry/deadline.ts).
        EXECUTION_TIMEOUT_SECONDS: String((props.executionTimeout ?? Duration.hours(DEFAULTS.maxRunHours)).toSeconds()),
      },
      memorySize: props.memorySize ?? DEFAULTS.memorySize,
      executionTimeout: props.executionTimeout ?? Duration.hours(DEFAULTS.maxRunHours),
      executionRetention: props.executionRetention ?? Duration.days(14),
      reserveConcurrency: props.reserveConcurrency ?? DEFAULTS.reserveConcurrency,
      prune,
      metricsNamespace,
      logRetention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      ...(props.code ? { code: props.code } : {}),
    });
  }

  /** The given bucket (checked against created-bucket options), or a new one. */
  private resolveBucket(props: CloudinaryBackupProps): { bucket: s3.IBucket; accessLogs?: s3.Bucket } {
    if (props.bucket) {
      const createdOnly = ['noncurrentVersionExpiration', 'transition', 'objectLockRetention', 'serverAccessLogs'] as const;
      const given = createdOnly.filter((k) => props[k] !== undefined);
      if (given.length > 0) {
        throw new Error(`CloudinaryBackupConstruct: ${given.join(', ')} only apply to a created bucket; drop them or drop 'bucket'`);
      }
      return { bucket: props.bucket };
    }
    if (props.bucketKey) {
      throw new Error("CloudinaryBackupConstruct: bucketKey is the key of a given bucket; the created bucket uses S3-managed keys. Drop bucketKey or pass 'bucket'");
    }
    return createBackupBucket(this, {
      prefix: this.prefix,
      ...(props.noncurrentVersionExpiration ? { noncurrentVersionExpiration: props.noncurrentVersionExpiration } : {}),
      ...(props.transition ? { transition: props.transition } : {}),
      ...(props.objectLockRetention ? { objectLockRetention: props.objectLockRetention } : {}),
      ...(props.serverAccessLogs !== undefined ? { serverAccessLogs: props.serverAccessLogs } : {}),
    });
  }

  private deadLetterQueue(id: string): sqs.Queue {
    return new sqs.Queue(this, id, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
  }
}

