import { S3Client } from '@aws-sdk/client-s3';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { findBucketRegion } from './bucket-region.ts';

/**
 * Builds an S3 client from the SDK's standard environment (AWS_REGION, credentials,
 * AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, AWS_REQUEST_CHECKSUM_CALCULATION,
 * AWS_RESPONSE_CHECKSUM_VALIDATION). With an endpoint override (MinIO, s3rver, R2, ...)
 * path-style addressing is used, which every S3-compatible server understands.
 *
 * With `bucket`, the client is for that bucket wherever it is: its region is the bucket's, found
 * by one HeadBucket the first time a request needs it (bucket-region.ts) and kept; the region of
 * the environment only signs that HeadBucket. Every request of the client, and the signed PUT
 * that takes its endpoint and signer from the client's configuration (signed-put.ts), then goes
 * to the bucket's region. A failed look-up is tried again by the next request.
 */
export const createS3Client = (env: NodeJS.ProcessEnv = process.env, bucket?: string): S3Client => {
  const config = clientConfig(env);
  if (bucket === undefined) return new S3Client(config);
  let found: Promise<string> | undefined;
  const region = (): Promise<string> => {
    if (found === undefined) {
      const probe = new S3Client(config);
      const look = findBucketRegion(probe, bucket).finally(() => probe.destroy());
      look.catch(() => {
        if (found === look) found = undefined;
      });
      found = look;
    }
    return found;
  };
  return new S3Client({ ...config, region });
};

/** The configuration every client of this project shares (see createS3Client). */
const clientConfig = (env: NodeJS.ProcessEnv): S3ClientConfig => {
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  // With the SDK's default checksums a streamed body goes out as aws-chunked, one chunk per
  // read, and S3 refuses chunks under 8 KiB but the last (InvalidChunkSizeError); a download's
  // reads are often smaller. The SDK joins them into 64 KiB chunks (aws/aws-sdk-js-v3#6949).
  // No `Expect: 100-continue`: the SDK adds it to every body of 2 MiB or more
  // (@aws-sdk/middleware-sdk-s3, addExpectContinueMiddleware, expectContinueHeader default
  // 2_097_152), and for such a request @smithy/node-http-handler (NodeHttpHandler.handle) leaves
  // its keep-alive pool for a new `keepAlive: false` agent, then waits for the 100 response
  // before the body: a new connection (a TLS handshake against AWS) and a round trip for every
  // large object and every multipart part. What the header could save — a body not sent when
  // S3 refuses the request — matters little here: the body is a download that is read once.
  return {
    forcePathStyle: endpoint !== undefined && endpoint !== '',
    maxAttempts: 4,
    requestStreamBufferSize: 64 * 1024,
    expectContinueHeader: false,
  };
};
