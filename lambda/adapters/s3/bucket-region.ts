import { HeadBucketCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';

/**
 * The region a bucket lives in, from one HeadBucket (which needs only s3:ListBucket; a
 * GetBucketLocation would need a grant of its own). S3 names it in the `x-amz-bucket-region`
 * header of every HeadBucket answer (HeadBucket API reference, "Response Syntax",
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html; the SDK reads it into
 * `BucketRegion`), also of the 301 PermanentRedirect a request signed for another region gets —
 * the header the SDK's own `followRegionRedirects` middleware reads
 * (@aws-sdk/middleware-sdk-s3, regionRedirectMiddleware: `err.$response.headers["x-amz-bucket-region"]`
 * on a 301, or a 400 to HeadBucket). Without that option the SDK v3 does not follow the redirect
 * (aws/aws-sdk-js-v3#1807, #5712); following it per request would cost every request a second
 * round trip, so the region is found once and the clients are built for it.
 *
 * Resolves with the client's own region when S3 names none (an S3-compatible server without
 * regions). Rejects with HeadBucket's error when the answer names no region either (a 404 for a
 * bucket that does not exist, a 403 without the header): the caller's own request meets it again
 * and says what it means.
 */
export const findBucketRegion = async (client: S3Client, bucket: string): Promise<string> => {
  try {
    const r = await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return r.BucketRegion ?? (await client.config.region());
  } catch (err) {
    const region = regionHeaderOf(err);
    if (region !== undefined) return region;
    throw err;
  }
};

/** The `x-amz-bucket-region` header of an SDK error's raw response, when there is one. */
const regionHeaderOf = (err: unknown): string | undefined => {
  const headers = (err as { $response?: { headers?: Record<string, string | undefined> } } | null)?.$response?.headers;
  const value = headers?.['x-amz-bucket-region'];
  return typeof value === 'string' && /^[a-z0-9-]{1,40}$/.test(value) ? value : undefined;
};
