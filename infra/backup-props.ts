import type { Duration } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type { BackupTransition } from './backup-bucket.ts';
import type { MaxBytesPerRun, ResourceType } from './config.ts';

/** Properties of the CloudinaryBackupConstruct (backup-construct.ts). */
export interface CloudinaryBackupProps {
  /**
   * The bucket to back up into. The function only gets grants on it; its settings are left alone.
   * @default - a new bucket: versioned, private, SSL-only, encrypted, retained on stack deletion
   */
  readonly bucket?: s3.IBucket;
  /**
   * The customer managed KMS key that encrypts the given bucket (SSE-KMS). The function gets
   * exactly kms:GenerateDataKey and kms:Decrypt on it.
   * @default - no key: the bucket uses S3-managed encryption
   */
  readonly bucketKey?: kms.IKey;
  /**
   * The `x-amz-server-side-encryption` header of every write, for a bucket policy that requires it
   * (AWS Organizations, "Example SCPs for Amazon S3"). With `bucketKey`: aws:kms with that key.
   * @default - 'aws:kms' when bucketKey is given; otherwise no header (the bucket's default applies)
   */
  readonly serverSideEncryption?: 'AES256' | 'aws:kms';
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
   * Days replaced and pruned originals (under `<prefix>/_history/`) and restore points are kept
   * (docs/history.md). Unset: the retention the backup records (90 days for a new one).
   * @default undefined
   */
  readonly historyDays?: number;
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
   * Reserve one concurrent execution for the function. Off by default: Lambda refuses a
   * reservation that leaves fewer than 100 unreserved, and new accounts have a limit of 10.
   * Runs never overlap either way: each run holds a lease object in the bucket.
   * @default false
   */
  readonly reserveConcurrency?: boolean;
  /**
   * How long without a completed run before the missed-run alarm fires (whole hours, 1 to 168).
   * @default Duration.hours(26)
   */
  readonly missedRunAlarmAfter?: Duration;
  /**
   * Created bucket only: how long an overwritten or deleted version is kept (history keeps
   * replaced and pruned originals itself: docs/history.md).
   * @default Duration.days(1)
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
   * CloudWatch namespace of the custom metrics.
   * @default 'CloudinaryBackup' (METRICS_NAMESPACE in lambda/core/metrics.ts)
   */
  readonly metricsNamespace?: string;
  /**
   * Retention of the function's log group.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

