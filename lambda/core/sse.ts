import { ConfigError } from './errors.ts';

/**
 * Server-side encryption a write asks S3 for: the `x-amz-server-side-encryption` header
 * (AES256 = SSE-S3, aws:kms = SSE-KMS) and, for aws:kms, the key
 * (`x-amz-server-side-encryption-aws-kms-key-id`), as the PutObject API reference names them
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html). A bucket whose policy (or
 * an organisation's SCP) denies `s3:PutObject` without the header — AWS Organizations, "Example
 * SCPs for Amazon S3", https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_examples_s3.html
 * — takes writes only with it.
 */
export interface ServerSideEncryption {
  readonly mode: SseMode;
  /** The KMS key (id, alias or ARN) for aws:kms; absent: the account's AWS managed key for S3. */
  readonly kmsKeyId?: string;
}

/** The values of `x-amz-server-side-encryption` a caller may choose (SSE-C is not offered). */
export type SseMode = 'AES256' | 'aws:kms';

const MODES: readonly SseMode[] = ['AES256', 'aws:kms'];

/** The names under which the two settings reach the user (options or context keys), for messages. */
export interface SseNames {
  readonly mode: string;
  readonly key: string;
}

/**
 * Reads the two settings (`--sse`, `--sse-kms-key-id` on the command line; SSE and SSE_KMS_KEY_ID
 * in the function). Undefined when neither is set. Throws a ConfigError for an unknown mode, or
 * for a key without `aws:kms` (a key is only ever used by SSE-KMS, as rclone's
 * --s3-sse-kms-key-id).
 */
export const parseSse = (mode: string | undefined, kmsKeyId: string | undefined, names: SseNames = { mode: '--sse', key: '--sse-kms-key-id' }): ServerSideEncryption | undefined => {
  const m = mode?.trim() ?? '';
  const key = kmsKeyId?.trim() ?? '';
  if (m === '' && key === '') return undefined;
  if (m === '' || !MODES.includes(m as SseMode)) {
    throw new ConfigError(`${names.mode} must be AES256 or aws:kms${m === '' ? ` when ${names.key} is given` : ` (got "${m}")`}.`);
  }
  if (key !== '' && m !== 'aws:kms') throw new ConfigError(`${names.key} is a KMS key: use it with ${names.mode} aws:kms, or leave it out.`);
  return { mode: m as SseMode, ...(key === '' ? {} : { kmsKeyId: key }) };
};
