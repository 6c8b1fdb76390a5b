import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { RESOURCE_TYPES } from './context-values.ts';

/** A lifecycle transition of the backups into a colder storage class. */
export interface BackupTransition {
  /** The colder storage class. */
  readonly storageClass: s3.StorageClass;
  /** How long after it was written an object moves. */
  readonly after: Duration;
}

/** Settings of the bucket the backup creates when none is given. */
export interface BackupBucketOptions {
  /** The backup key prefix (transitions apply only to asset keys under it). */
  readonly prefix: string;
  /**
   * How long an overwritten or deleted version is kept. One day: the backup keeps replaced and
   * pruned originals itself, under `<prefix>/_history/` (docs/history.md), so a longer rule would
   * keep each of them twice.
   * @default Duration.days(1)
   */
  readonly noncurrentVersionExpiration?: Duration;
  /**
   * Move backups (not the catalog or reports) into a colder storage class.
   * @default - no transition
   */
  readonly transition?: BackupTransition;
  /**
   * Object Lock default retention, governance mode.
   * @default - Object Lock off
   */
  readonly objectLockRetention?: Duration;
  /**
   * Write S3 server access logs into a second, private bucket.
   * @default true
   */
  readonly serverAccessLogs?: boolean;
}

/** What both buckets are: private, owner-enforced, S3-encrypted, SSL-only (TLS 1.2+), kept when the stack is deleted. */
const PRIVATE_BUCKET = {
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
  encryption: s3.BucketEncryption.S3_MANAGED,
  enforceSSL: true,
  minimumTLSVersion: 1.2,
  removalPolicy: RemovalPolicy.RETAIN,
} as const satisfies s3.BucketProps;

/**
 * Creates the backup bucket in `scope`: versioned, private, SSL-only, S3-encrypted, retained when
 * the stack is deleted, with lifecycle rules for old versions and abandoned multipart uploads.
 * The access-log bucket has no ACLs, so `scope` must resolve the feature flag
 * `@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy` to true (CloudinaryBackupConstruct sets it).
 */
export function createBackupBucket(scope: Construct, options: BackupBucketOptions): { bucket: s3.Bucket; accessLogs?: s3.Bucket } {
  const accessLogs =
    (options.serverAccessLogs ?? true)
      ? new s3.Bucket(scope, 'AccessLogsBucket', {
          ...PRIVATE_BUCKET,
          lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(365) }],
        })
      : undefined;

  const transition = options.transition;
  const transitionRules: s3.LifecycleRule[] = transition
    ? RESOURCE_TYPES.map((type) => ({
        // Only asset objects move: the catalog and the reports are read back every night.
        id: `Transition-${type}`,
        prefix: `${options.prefix}/${type}/`,
        transitions: [{ storageClass: transition.storageClass, transitionAfter: transition.after }],
      }))
    : [];

  const bucket = new s3.Bucket(scope, 'Bucket', {
    versioned: true,
    ...PRIVATE_BUCKET,
    ...(accessLogs ? { serverAccessLogsBucket: accessLogs, serverAccessLogsPrefix: 'backup-bucket/' } : {}),
    ...(options.objectLockRetention
      ? { objectLockEnabled: true, objectLockDefaultRetention: s3.ObjectLockRetention.governance(options.objectLockRetention) }
      : {}),
    lifecycleRules: [
      {
        id: 'ExpireNoncurrentVersions',
        noncurrentVersionExpiration: options.noncurrentVersionExpiration ?? Duration.days(1),
        expiredObjectDeleteMarker: true,
      },
      { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(2) },
      ...transitionRules,
    ],
  });
  return accessLogs ? { bucket, accessLogs } : { bucket };
}
