// What a real account's bucket adds to S3's own rules, per bucket: the region it lives in and a
// bucket policy that requires the encryption header. Installed by s3rver-child.cjs after the
// signature check (s3rver-strict.cjs), configured by S3RVER_BUCKET_RULES (JSON:
// {"bucket": {"region": "eu-west-1", "requireSse": true | "AES256" | "aws:kms"}}).
'use strict';

const xmlEscape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Reads the body a refused request still sends, so the client sees the answer, not a broken pipe. */
const drain = async (ctx) => {
  try {
    for await (const _ of ctx.req);
  } catch {
    // A body the strict checks refused: the refusal below is the answer.
  }
};

const answer = (ctx, status, code, message, extra = '') => {
  ctx.status = status;
  // A HEAD answer has no body (HeadBucket's errors are the status alone: API_HeadBucket.html).
  if (ctx.method === 'HEAD') return;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message>${extra}</Error>`;
};

/** The region in a request's SigV4 credential scope (header or query authentication). */
const signingRegion = (ctx) => {
  const header = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(ctx.get('authorization') || '');
  if (header) return header[1];
  const query = String(ctx.query['X-Amz-Credential'] || '').split('/');
  return query.length >= 3 ? query[2] : undefined;
};

/**
 * The writes a bucket policy on `s3:PutObject` with the condition key
 * `s3:x-amz-server-side-encryption` sees the header of: PutObject, CopyObject (a PUT with
 * x-amz-copy-source) and CreateMultipartUpload (POST ?uploads), each authorized as s3:PutObject
 * (Service Authorization Reference, "Actions, resources, and condition keys for Amazon S3").
 * UploadPart and UploadPartCopy (a PUT with partNumber) carry no such header (their request syntax
 * has only the SSE-C headers, API_UploadPart.html, API_UploadPartCopy.html): a part is encrypted as
 * its upload was started.
 */
const sseWrite = (ctx, parts) =>
  parts.length >= 2 && ((ctx.method === 'PUT' && !('partNumber' in ctx.query)) || (ctx.method === 'POST' && 'uploads' in ctx.query));

/**
 * The middleware. `rules` maps a bucket name to its rules:
 *
 * - `region`: the bucket lives there. A request signed for another region is answered as S3
 *   answers it: 301 PermanentRedirect with the bucket's region in `x-amz-bucket-region` (and the
 *   error document "The bucket you are attempting to access must be addressed using the specified
 *   endpoint ...", as S3 answers it, quoted in awslabs/mountpoint-s3#1 and aws/aws-sdk-js-v3#1807;
 *   the header is what the SDK's region-redirect middleware reads, @aws-sdk/middleware-sdk-s3
 *   regionRedirectMiddleware). Every HeadBucket answer names the region too (API_HeadBucket.html,
 *   "Response Syntax": x-amz-bucket-region).
 * - `requireSse`: the bucket policy of AWS's example "Prevent Amazon S3 unencrypted object uploads"
 *   (AWS Organizations, "Example SCPs for Amazon S3",
 *   https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_examples_s3.html):
 *   Deny s3:PutObject when `s3:x-amz-server-side-encryption` is Null; with a mode ("AES256" or
 *   "aws:kms") also when it is another value (the page's second policy, StringNotEquals). A denied
 *   request is answered 403 AccessDenied, as every explicit deny is ("Troubleshoot access denied
 *   (403 Forbidden) errors in Amazon S3").
 *
 * `refused` counts the writes refused for want of the header, for the tests.
 */
const policyMiddleware = (rules, refused = { sse: 0, redirect: 0 }) => async (ctx, next) => {
  const parts = ctx.path.split('/').filter(Boolean);
  const bucket = parts.length > 0 ? decodeURIComponent(parts[0]) : undefined;
  const rule = bucket === undefined || bucket.startsWith('_') ? undefined : rules[bucket];
  if (rule === undefined) return next();
  if (rule.region !== undefined) {
    ctx.set('x-amz-bucket-region', rule.region);
    const region = signingRegion(ctx);
    if (region !== undefined && region !== rule.region) {
      refused.redirect += 1;
      await drain(ctx);
      return answer(
        ctx,
        301,
        'PermanentRedirect',
        'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.',
        `<Endpoint>${xmlEscape(`${bucket}.s3.${rule.region}.amazonaws.com`)}</Endpoint><Bucket>${xmlEscape(bucket)}</Bucket>`,
      );
    }
  }
  if (rule.requireSse && sseWrite(ctx, parts)) {
    const sse = ctx.get('x-amz-server-side-encryption');
    if (sse === '' || (typeof rule.requireSse === 'string' && sse !== rule.requireSse)) {
      refused.sse += 1;
      await drain(ctx);
      return answer(ctx, 403, 'AccessDenied', 'Access Denied');
    }
  }
  return next();
};

module.exports = { policyMiddleware };
