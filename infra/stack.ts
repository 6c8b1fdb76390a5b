import { CfnOutput, Duration, Stack, TimeZone } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type { Construct } from 'constructs';
import { CloudinaryBackupConstruct } from './backup-construct.ts';
import type { BackupConfig, TransitionStorageClass } from './config.ts';

/** Properties of {@link CloudinaryBackupStack}. */
export interface CloudinaryBackupStackProps extends StackProps {
  /** The validated deployment settings (see `parseConfig`). */
  readonly config: BackupConfig;
  /**
   * Function code to deploy instead of bundling lambda/entry/handler.ts (tests use this to skip esbuild).
   * @default - lambda/entry/handler.ts bundled by local esbuild
   */
  readonly code?: lambda.Code;
}

const STORAGE_CLASSES: Readonly<Record<TransitionStorageClass, s3.StorageClass>> = {
  GLACIER_IR: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
  STANDARD_IA: s3.StorageClass.INFREQUENT_ACCESS,
  INTELLIGENT_TIERING: s3.StorageClass.INTELLIGENT_TIERING,
  GLACIER: s3.StorageClass.GLACIER,
  DEEP_ARCHIVE: s3.StorageClass.DEEP_ARCHIVE,
};

/** The deployable stack: one {@link CloudinaryBackupConstruct} configured from context, plus outputs. */
export class CloudinaryBackupStack extends Stack {
  /** The backup itself. */
  readonly backup: CloudinaryBackupConstruct;

  constructor(scope: Construct, id: string, props: CloudinaryBackupStackProps) {
    super(scope, id, {
      description: 'Nightly backup of a Cloudinary account into S3 (cloudinary-backup)',
      ...props,
    });
    const { config } = props;

    this.backup = new CloudinaryBackupConstruct(this, 'Backup', {
      ...(config.bucketName
        ? {
            // The region, when given, is the bucket's (the function finds it with HeadBucket either way).
            bucket: s3.Bucket.fromBucketAttributes(this, 'ImportedBucket', { bucketName: config.bucketName, ...(config.bucketRegion ? { region: config.bucketRegion } : {}) }),
            ...(config.kmsKeyArn ? { bucketKey: kms.Key.fromKeyArn(this, 'ImportedBucketKey', config.kmsKeyArn) } : {}),
          }
        : {
            noncurrentVersionExpiration: Duration.days(config.noncurrentVersionExpirationDays),
            ...(config.storageClassTransitionDays !== undefined
              ? {
                  transition: {
                    storageClass: STORAGE_CLASSES[config.storageClass],
                    after: Duration.days(config.storageClassTransitionDays),
                  },
                }
              : {}),
            ...(config.objectLockDays !== undefined ? { objectLockRetention: Duration.days(config.objectLockDays) } : {}),
          }),
      ...(config.sse ? { serverSideEncryption: config.sse } : {}),
      prefix: config.prefix,
      schedule: scheduler.ScheduleExpression.expression(config.schedule, TimeZone.of(config.timezone)),
      ...(config.notificationEmail ? { notificationEmail: config.notificationEmail } : {}),
      concurrency: config.concurrency,
      maxBytesPerRun: config.maxBytesPerRun,
      prune: config.prune,
      ...(config.historyDays === undefined ? {} : { historyDays: config.historyDays }),
      resourceTypes: config.resourceTypes,
      memorySize: config.memorySize,
      executionTimeout: Duration.hours(config.maxRunHours),
      reserveConcurrency: config.reserveConcurrency,
      missedRunAlarmAfter: Duration.hours(config.missedRunAlarmHours),
      ...(props.code ? { code: props.code } : {}),
    });

    this.addOutputs(config);
  }

  /** What a newcomer needs after `cdk deploy`; docs/stack.md names each of them. */
  private addOutputs(config: BackupConfig): void {
    const backup = this.backup;
    // The created bucket is in the stack's region; an imported one where -c bucketRegion says
    // (without it the function finds the region at run time, and so does the CLI).
    const bucketRegion = config.bucketName === undefined ? this.region : config.bucketRegion;
    const outputs: Record<string, { value: string; description: string }> = {
      BucketName: { value: backup.bucket.bucketName, description: 'Bucket the backups are written to' },
      ...(bucketRegion === undefined ? {} : { BucketRegion: { value: bucketRegion, description: "The bucket's region" } }),
      // The created bucket is retained by `cdk destroy`: a new deployment writes into it again
      // (and finds the backup there) instead of creating an empty bucket and copying everything.
      RedeployCommand: {
        value: `npx cdk deploy -c bucketName=${backup.bucket.bucketName}${bucketRegion === undefined ? '' : ` -c bucketRegion=${bucketRegion}`} -c prefix=${backup.prefix}`,
        description: 'After cdk destroy (the bucket is kept): deploy again onto the same bucket and backup',
      },
      Prefix: { value: backup.prefix, description: 'Key prefix of every backup object; run reports are under <prefix>/_reports/' },
      SecretArn: { value: backup.secret.secretArn, description: 'Secret that must hold cloudinary://API_KEY:API_SECRET@CLOUD_NAME' },
      SetSecretCommand: {
        value: `aws secretsmanager put-secret-value --region ${this.region} --secret-id ${backup.secret.secretArn} --secret-string 'cloudinary://API_KEY:API_SECRET@CLOUD_NAME'`,
        description: 'Run this with your own values from the Cloudinary console (API Keys page)',
      },
      FunctionName: { value: backup.function.functionName, description: 'The durable backup function' },
      LogGroupName: { value: backup.function.logGroup.logGroupName, description: "The function's log group (aws logs tail <LogGroupName> --follow)" },
      AliasArn: {
        value: backup.alias.functionArn,
        description: 'Qualified ARN to invoke for a manual run (durable functions need a version or alias)',
      },
      // Asynchronous: a run outlives the 15 minutes a synchronous invoke may wait. The execution name
      // is the idempotency key of a durable start (Lambda Developer Guide, "Invoking durable Lambda
      // functions" and "Idempotency"; Invoke API header X-Amz-Durable-Execution-Name, CLI
      // --durable-execution-name); $(date +%s) makes each manual start a new execution.
      StartRunCommand: {
        value:
          `aws lambda invoke --region ${this.region} --function-name ${backup.alias.functionArn} --invocation-type Event ` +
          "--durable-execution-name manual-run-$(date +%s) --cli-binary-format raw-in-base64-out --payload '{\"trigger\":\"manual\"}' /dev/null",
        description: 'Starts a backup run now instead of waiting for the schedule',
      },
      TopicArn: { value: backup.alarmTopic.topicArn, description: 'Alarm notifications' },
      DashboardUrl: { value: backup.dashboardUrl, description: 'CloudWatch dashboard of the nightly runs' },
    };
    for (const [id, output] of Object.entries(outputs)) new CfnOutput(this, id, output);
  }
}
