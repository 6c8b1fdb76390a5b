import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULTS, RESOURCE_TYPES, maxBytesToEnv } from './config.ts';
import type { MaxBytesPerRun, ResourceType } from './config.ts';

/** Where the Lambda entry point lives, relative to this file (the repository root is `..`). */
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const HANDLER_ENTRY = fileURLToPath(new URL('../lambda/handler.ts', import.meta.url));

/** The metric names the function publishes (Powertools EMF, one `service` dimension). */
export const RUN_METRICS = [
  'AssetsListed',
  'AssetsCopied',
  'AssetsFailed',
  'BytesCopied',
  'AdminApiCalls',
  'AdminApiRemaining',
  'RunDurationSeconds',
  'RunCompleted',
] as const;

/** One metric name the function publishes. */
export type RunMetricName = (typeof RUN_METRICS)[number];

/** A lifecycle transition of the created bucket's backups into a colder storage class. */
export interface BackupTransition {
  /** The colder storage class. */
  readonly storageClass: s3.StorageClass;
  /** How long after it was written an object moves. */
  readonly after: Duration;
}

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
   * @default - lambda/handler.ts bundled by local esbuild, AWS SDK included, ESM
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
  /** Alarm notifications go here. */
  readonly alarmTopic: sns.Topic;
  /** Every alarm, by name. */
  readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** The nightly figures. */
  readonly dashboard: cloudwatch.Dashboard;

  private readonly serviceName: string;
  private readonly metricsNamespace: string;

  constructor(scope: Construct, id: string, props: CloudinaryBackupProps = {}) {
    super(scope, id);
    // The created bucket is BucketOwnerEnforced (no ACLs), so S3 access-log delivery must be
    // granted by bucket policy; set here so the construct works in apps without cdk.json's flags.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    this.prefix = props.prefix ?? DEFAULTS.prefix;
    this.serviceName = props.serviceName ?? 'cloudinary-backup';
    this.metricsNamespace = props.metricsNamespace ?? 'CloudinaryBackup';
    const prune = props.prune ?? DEFAULTS.prune;

    if (props.bucket) {
      const createdOnly = ['noncurrentVersionExpiration', 'transition', 'objectLockRetention', 'serverAccessLogs'] as const;
      const given = createdOnly.filter((k) => props[k] !== undefined);
      if (given.length > 0) {
        throw new Error(`CloudinaryBackupConstruct: ${given.join(', ')} only apply to a created bucket; drop them or drop 'bucket'`);
      }
      this.bucket = props.bucket;
    } else {
      const created = this.createBucket(props);
      this.bucket = created.bucket;
      if (created.logs) this.accessLogsBucket = created.logs;
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
      ...(props.reserveConcurrency ?? true ? { reservedConcurrentExecutions: 1 } : {}),
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
        POWERTOOLS_SERVICE_NAME: this.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: this.metricsNamespace,
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

    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { displayName: 'Cloudinary backup alarms', enforceSSL: true });
    if (props.notificationEmail) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.notificationEmail));
    }
    this.alarms = this.createAlarms(props.missedRunAlarmAfter ?? Duration.hours(26));
    this.dashboard = this.createDashboard();
  }

  /** A custom metric the function publishes through Powertools (dimension `service`). */
  runMetric(metricName: RunMetricName, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.metricsNamespace,
      metricName,
      dimensionsMap: { service: this.serviceName },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.days(1),
      ...props,
    });
  }

  /** A metric Lambda publishes for durable executions of this function. */
  durableMetric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.function.metric(metricName, { statistic: cloudwatch.Stats.SUM, ...props });
  }

  private createBucket(props: CloudinaryBackupProps): { bucket: s3.Bucket; logs?: s3.Bucket } {
    const logs =
      props.serverAccessLogs ?? true
        ? new s3.Bucket(this, 'AccessLogsBucket', {
            blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
            objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            encryption: s3.BucketEncryption.S3_MANAGED,
            enforceSSL: true,
            minimumTLSVersion: 1.2,
            removalPolicy: RemovalPolicy.RETAIN,
            lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(365) }],
          })
        : undefined;

    const transition = props.transition;
    const transitionRules: s3.LifecycleRule[] = transition
      ? RESOURCE_TYPES.map((type) => ({
          // Only asset objects move: the catalog and the reports are read back every night.
          id: `Transition-${type}`,
          prefix: `${this.prefix}/${type}/`,
          transitions: [{ storageClass: transition.storageClass, transitionAfter: transition.after }],
        }))
      : [];

    const bucket = new s3.Bucket(this, 'Bucket', {
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(logs ? { serverAccessLogsBucket: logs, serverAccessLogsPrefix: 'backup-bucket/' } : {}),
      ...(props.objectLockRetention
        ? { objectLockEnabled: true, objectLockDefaultRetention: s3.ObjectLockRetention.governance(props.objectLockRetention) }
        : {}),
      lifecycleRules: [
        {
          id: 'ExpireNoncurrentVersions',
          noncurrentVersionExpiration: props.noncurrentVersionExpiration ?? Duration.days(DEFAULTS.noncurrentVersionExpirationDays),
          expiredObjectDeleteMarker: true,
        },
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(2) },
        ...transitionRules,
      ],
    });
    return logs ? { bucket, logs } : { bucket };
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
      new iam.PolicyStatement({ sid: 'ListBackupBucket', actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
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

  private createAlarms(missedRunAfter: Duration): Record<string, cloudwatch.Alarm> {
    const action = new cloudwatchActions.SnsAction(this.alarmTopic);
    const hour = Duration.hours(1);
    const missedHours = missedRunAfter.toHours();
    if (!Number.isInteger(missedHours) || missedHours < 1 || missedHours > 168) {
      throw new Error(`CloudinaryBackupConstruct: missedRunAlarmAfter must be 1 to 168 whole hours, got ${missedRunAfter.toHumanString()}`);
    }
    const alarms: Record<string, cloudwatch.Alarm> = {
      FunctionErrors: this.function.metricErrors({ period: hour, statistic: cloudwatch.Stats.SUM }).createAlarm(this, 'FunctionErrorsAlarm', {
        alarmDescription: 'The backup function threw or timed out in an invocation. Read its log group.',
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      RunsFailed: new cloudwatch.MathExpression({
        expression: 'FILL(failed, 0) + FILL(timedOut, 0)',
        usingMetrics: {
          failed: this.durableMetric('DurableExecutionFailed', { period: hour }),
          timedOut: this.durableMetric('DurableExecutionTimedOut', { period: hour }),
        },
        period: hour,
        label: 'Runs failed or timed out',
      }).createAlarm(this, 'RunsFailedAlarm', {
        alarmDescription: 'A backup run ended FAILED or TIMED_OUT. Its event is in the failed-run queue; read the log group.',
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      AssetsFailed: this.runMetric('AssetsFailed', { period: hour }).createAlarm(this, 'AssetsFailedAlarm', {
        alarmDescription: 'Some assets could not be copied. The run report under <prefix>/_reports/ lists them.',
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      ScheduleDeadLetters: this.queueAlarm(this.scheduleDeadLetterQueue, 'ScheduleDeadLettersAlarm',
        'EventBridge Scheduler could not start the backup function; the undelivered event is in the schedule dead-letter queue.'),
      FailedRunDeadLetters: this.queueAlarm(this.failedRunQueue, 'FailedRunDeadLettersAlarm',
        'A backup run ended in failure; its event is in the failed-run queue.'),
      MissedRun: this.runMetric('RunCompleted', { period: hour }).createAlarm(this, 'MissedRunAlarm', {
        alarmDescription:
          `No backup run completed in the last ${missedHours} hours. Check that the secret holds a ` +
          'cloudinary:// URL, that the schedule is enabled, and the function log group.',
        threshold: 1,
        evaluationPeriods: missedHours,
        datapointsToAlarm: missedHours,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        // No data point at all is exactly the failure this alarm exists for.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
    };
    for (const alarm of Object.values(alarms)) alarm.addAlarmAction(action);
    return alarms;
  }

  private queueAlarm(queue: sqs.Queue, id: string, description: string): cloudwatch.Alarm {
    return queue
      .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM })
      .createAlarm(this, id, {
        alarmDescription: description,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
  }

  private createDashboard(): cloudwatch.Dashboard {
    const day = Duration.days(1);
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(30),
      periodOverride: cloudwatch.PeriodOverride.INHERIT,
    });
    const width = 12;
    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          `# Cloudinary backup\nOne point per night. Backups are under \`${this.prefix}/\` in the bucket; ` +
          `each run's report is under \`${this.prefix}/_reports/\`.`,
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Assets per night',
        left: [this.runMetric('AssetsListed'), this.runMetric('AssetsCopied'), this.runMetric('AssetsFailed')],
        width,
      }),
      new cloudwatch.GraphWidget({ title: 'Bytes copied per night', left: [this.runMetric('BytesCopied')], width }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Cloudinary Admin API',
        left: [this.runMetric('AdminApiCalls', { label: 'Calls' })],
        right: [this.runMetric('AdminApiRemaining', { statistic: cloudwatch.Stats.MINIMUM, label: 'Remaining (lowest)' })],
        width,
      }),
      new cloudwatch.GraphWidget({
        title: 'Run duration and completion',
        left: [this.runMetric('RunDurationSeconds', { statistic: cloudwatch.Stats.MAXIMUM, label: 'Duration (s)' })],
        right: [this.runMetric('RunCompleted', { label: 'Runs completed' })],
        width,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Durable executions',
        left: ['DurableExecutionStarted', 'DurableExecutionSucceeded', 'DurableExecutionFailed', 'DurableExecutionTimedOut'].map(
          (name) => this.durableMetric(name, { period: day, label: name.replace('DurableExecution', '') }),
        ),
        width,
      }),
      new cloudwatch.GraphWidget({
        title: 'Invocations and errors',
        left: [
          this.function.metricInvocations({ period: day, statistic: cloudwatch.Stats.SUM }),
          this.function.metricErrors({ period: day, statistic: cloudwatch.Stats.SUM }),
          this.function.metricThrottles({ period: day, statistic: cloudwatch.Stats.SUM }),
        ],
        width,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: Object.values(this.alarms), width: 24, height: 3 }),
    );
    return dashboard;
  }

  /** The console address of the dashboard. */
  get dashboardUrl(): string {
    const region = Stack.of(this).region;
    return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${this.dashboard.dashboardName}`;
  }
}
