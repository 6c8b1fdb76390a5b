import { ConfigError, messageOf } from '../../core/errors.ts';

const statusOf = (err: unknown): number | undefined => (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;

/** The SDK error inside a DestinationError (its cause), or the error itself. */
const sdkErrorOf = (err: unknown): unknown => {
  let e = err;
  for (let i = 0; i < 4 && e instanceof Error && e.name === 'DestinationError' && e.cause !== undefined; i += 1) e = e.cause;
  return e;
};

/**
 * S3 error codes that mean "these credentials are not accepted", from S3's error-code table
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList):
 * InvalidAccessKeyId, SignatureDoesNotMatch (a wrong secret), ExpiredToken and InvalidToken
 * (temporary credentials), AccessDenied (not allowed).
 */
const REFUSED = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'AccessDenied', 'Forbidden']);

/**
 * What a failed S3 request says about the user's settings, as a one-line ConfigError naming the
 * setting to fix: no region, no credentials, a bucket that does not exist, credentials refused.
 * Meant for HeadBucket's errors (a 404 there is the bucket). Undefined for anything else (S3 down, a timeout: not a setting). `bucket` is named in the
 * message; `needs` lists the permissions the command needs (for the refused case).
 *
 * The SDK's own messages for these cases are "Region is missing", "Could not load credentials
 * from any providers" (@smithy/property-provider CredentialsProviderError, name
 * CredentialsProviderError), a 404 NotFound / NoSuchBucket, and for a HEAD request (no body) a
 * bare 403 whose name is "Forbidden" or "403" (aws/aws-sdk-js-v3#1807 shows the same for a 301:
 * "UnknownError").
 */
export const bucketProblem = (err: unknown, bucket: string, needs = 's3:ListBucket and s3:GetObject'): ConfigError | undefined => {
  const e = sdkErrorOf(err);
  const msg = messageOf(e);
  const name = (e as Error | null)?.name ?? '';
  const status = statusOf(e);
  if (/region is missing/i.test(msg)) {
    return new ConfigError('No AWS region is set. Set AWS_REGION (for example AWS_REGION=eu-west-1); the bucket may be in any region.', { cause: err });
  }
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(msg)) {
    return new ConfigError('No AWS credentials were found. Set AWS_PROFILE (after aws configure or aws sso login), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.', { cause: err });
  }
  if (status === 404 || name === 'NotFound' || name === 'NoSuchBucket') {
    return new ConfigError(`Bucket "${bucket}" does not exist. Create it or check the name in the s3:// URL.`, { cause: err });
  }
  if (status === 403 || REFUSED.has(name)) {
    // A HEAD answer has no body, so no S3 error code: the SDK names it "Unknown" or by status.
    const reason = REFUSED.has(name) && name !== 'Forbidden' ? name : `HTTP ${status ?? 403}`;
    return new ConfigError(`Access to bucket "${bucket}" is denied (${reason}). Check the AWS credentials and that they allow ${needs}.`, { cause: err });
  }
  return undefined;
};
