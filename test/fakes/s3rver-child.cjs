// Hosts s3rver in its own process (an unhandled store error must not take the test runner
// down). Must run with --openssl-legacy-provider: s3rver encrypts ListObjectsV2 continuation
// tokens with DES. Prints {"port":N} on stdout once listening; stops on SIGTERM or stdin close.
//
// s3rver 3.7 answers AbortMultipartUpload (DELETE ?uploadId) with MethodNotAllowed and keeps
// the parts; real S3 removes them. The middleware below adds that one operation, so a test can
// prove an aborted upload leaves nothing behind by looking at <bucket>/._S3rver_uploads/.
const path = require('node:path');
const fs = require('node:fs/promises');
const S3rver = require('s3rver');
const { strictMiddleware, putPartAtomically, writeAtomically } = require('./s3rver-strict.cjs');
const { policyMiddleware } = require('./s3rver-policy.cjs');
const xmlEscape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const [directory, bucketsArg, portArg] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(portArg || 0),
  silent: true,
  directory,
  // Signatures are checked by s3rver-strict.cjs (s3rver's own check skips SigV4).
  allowMismatchedSignatures: false,
  configureBuckets: (bucketsArg || '').split(',').filter(Boolean).map((name) => ({ name })),
});
// Conditional writes (s3rver 3.7 ignores If-None-Match / If-Match on writes; real S3 honours
// them on PutObject and CompleteMultipartUpload). Sources: the S3 User Guide "How to prevent
// object overwrites with conditional writes"
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html) and the
// PutObject / CompleteMultipartUpload API reference (IfNoneMatch, IfMatch; the same text is in
// @aws-sdk/client-s3 dist-types/models/models_0.d.ts):
//   - If-None-Match: * on an existing key -> 412 PreconditionFailed; only "*" is accepted.
//   - If-Match: <etag> whose ETag differs from the current object's -> 412 PreconditionFailed;
//     with no current object the User Guide answers 404 NoSuchKey ("Conditional write behavior").
//   - Concurrent conditional writes on one key: at most one succeeds (S3 answers the other 412,
//     or 409 ConditionalRequestConflict). Here conditional writes on one key are serialised
//     (check, then write, then the next one checks), so the loser always sees 412.
// Unconditional writes are not serialised: S3 lets them race (last writer wins).
const keyLocks = new Map();
const withKeyLock = async (id, fn) => {
  const previous = keyLocks.get(id) || Promise.resolve();
  let release;
  const done = new Promise((r) => (release = r));
  const tail = previous.then(() => done);
  keyLocks.set(id, tail);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (keyLocks.get(id) === tail) keyLocks.delete(id);
  }
};
const s3ErrorBody = (code, message, extra = '') =>
  `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message>${extra}</Error>`;
const refuse = async (ctx, status, code, message, extra) => {
  // Read the body first, as for an injected fault: the client sees the answer, not a broken pipe.
  for await (const _ of ctx.req);
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = s3ErrorBody(code, message, extra);
};
const stripQuotes = (etag) => String(etag).trim().replace(/^W\//, '').replace(/^"|"$/g, '');
server.middleware.unshift(async (ctx, next) => {
  const ifNoneMatch = ctx.get('if-none-match');
  const ifMatch = ctx.get('if-match');
  if (!ifNoneMatch && !ifMatch) return next();
  const parts = ctx.path.split('/').filter(Boolean);
  const subresources = Object.keys(ctx.query).filter((q) => q !== 'x-id');
  const isPut = ctx.method === 'PUT' && parts.length >= 2 && subresources.length === 0 && !ctx.get('x-amz-copy-source');
  const isComplete = ctx.method === 'POST' && parts.length >= 2 && typeof ctx.query.uploadId === 'string';
  if (!isPut && !isComplete) return next();
  if (ifNoneMatch && ifNoneMatch !== '*') {
    return refuse(ctx, 501, 'NotImplemented', 'A header you provided implies functionality that is not implemented', '<Header>If-None-Match</Header>');
  }
  const bucket = decodeURIComponent(parts[0]);
  const key = decodeURIComponent(parts.slice(1).join('/'));
  return withKeyLock(`${bucket}/${key}`, async () => {
    const exists = await server.store.existsObject(bucket, key);
    if (ifNoneMatch && exists) {
      return refuse(ctx, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', '<Condition>If-None-Match</Condition>');
    }
    if (ifMatch) {
      if (!exists) return refuse(ctx, 404, 'NoSuchKey', 'The specified key does not exist.', `<Key>${xmlEscape(key)}</Key>`);
      const current = (await server.store.getMetadata(bucket, key)).etag;
      if (stripQuotes(current) !== stripQuotes(ifMatch)) {
        return refuse(ctx, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', '<Condition>If-Match</Condition>');
      }
    }
    await next();
  });
});
server.middleware.unshift(async (ctx, next) => {
  const uploadId = ctx.query.uploadId;
  if (ctx.method !== 'DELETE' || typeof uploadId !== 'string' || !/^[0-9a-f]+$/.test(uploadId)) return next();
  const bucket = ctx.path.split('/')[1];
  const dir = path.join(directory, decodeURIComponent(bucket), '._S3rver_uploads', uploadId);
  try {
    await fs.access(dir);
  } catch {
    ctx.status = 404;
    ctx.type = 'application/xml';
    ctx.body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>';
    return;
  }
  await fs.rm(dir, { recursive: true, force: true });
  ctx.status = 204;
});
// s3rver 3.7 has no ListMultipartUploads (501) either; real S3 has. This lists the uploads in
// <bucket>/._S3rver_uploads/ (Initiated = the upload folder's time), honouring Prefix, so the
// clean-up of uploads left open by a killed run can be tested.
server.middleware.unshift(async (ctx, next) => {
  const parts = ctx.path.split('/').filter(Boolean);
  if (ctx.method !== 'GET' || parts.length !== 1 || !('uploads' in ctx.query)) return next();
  const bucket = decodeURIComponent(parts[0]);
  const prefix = typeof ctx.query.prefix === 'string' ? ctx.query.prefix : '';
  const root = path.join(directory, bucket, '._S3rver_uploads');
  const ids = await fs.readdir(root).catch(() => []);
  const uploads = [];
  for (const id of ids) {
    const key = await fs.readFile(path.join(root, id, 'key'), 'utf8').catch(() => undefined);
    if (key === undefined || !key.startsWith(prefix)) continue;
    const st = await fs.stat(path.join(root, id));
    uploads.push(`<Upload><Key>${xmlEscape(key)}</Key><UploadId>${id}</UploadId><Initiated>${st.mtime.toISOString()}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`);
  }
  ctx.status = 200;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult><Bucket>${xmlEscape(bucket)}</Bucket><Prefix>${xmlEscape(prefix)}</Prefix><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>${uploads.join('')}</ListMultipartUploadsResult>`;
});
// Refuse what S3 refuses (bad signatures, bodies that do not match their digests, aws-chunked
// framing, key/metadata/part limits): see s3rver-strict.cjs. Runs after the request counter and
// the fault injection (added later, so they run first) and before everything else.
server.middleware.unshift(strictMiddleware(directory));
// Per-bucket region and encryption policy (s3rver-policy.cjs), after the signature check: the
// rules of S3RVER_BUCKET_RULES. GET /_s3rver/policy answers how many requests they refused.
const policyRefused = { sse: 0, redirect: 0 };
server.middleware.splice(1, 0, policyMiddleware(JSON.parse(process.env.S3RVER_BUCKET_RULES || '{}'), policyRefused));
server.store.putPart = putPartAtomically;
// Counts requests by S3 operation, for the benchmarks (test/bench): GET /_s3rver/requests
// answers the counts as JSON, DELETE /_s3rver/requests resets them. A bucket name cannot
// start with "_", so the path never shadows a bucket. Added last, so it runs first.
let counts = {};
const operationOf = (ctx) => {
  const q = ctx.query;
  const m = ctx.method;
  const parts = ctx.path.split('/').filter(Boolean);
  if (parts.length === 0) return m === 'GET' ? 'ListBuckets' : `${m} /`;
  if (parts.length === 1) {
    if (m === 'GET') return q['list-type'] === '2' ? 'ListObjectsV2' : 'uploads' in q ? 'ListMultipartUploads' : Object.keys(q).length ? `GetBucket?${Object.keys(q).sort().join('&')}` : 'ListObjects';
    if (m === 'HEAD') return 'HeadBucket';
    if (m === 'PUT') return Object.keys(q).length ? `PutBucket?${Object.keys(q).sort().join('&')}` : 'CreateBucket';
    if (m === 'POST' && 'delete' in q) return 'DeleteObjects';
    if (m === 'DELETE') return 'DeleteBucket';
    return `${m} bucket`;
  }
  if (m === 'GET') return 'GetObject';
  if (m === 'HEAD') return 'HeadObject';
  if (m === 'PUT') return 'partNumber' in q ? 'UploadPart' : ctx.get('x-amz-copy-source') ? 'CopyObject' : 'PutObject';
  if (m === 'POST') return 'uploads' in q ? 'CreateMultipartUpload' : 'uploadId' in q ? 'CompleteMultipartUpload' : 'PostObject';
  if (m === 'DELETE') return 'uploadId' in q ? 'AbortMultipartUpload' : 'DeleteObject';
  return `${m} object`;
};
server.middleware.unshift(async (ctx, next) => {
  if (ctx.path === '/_s3rver/policy') {
    ctx.status = 200;
    ctx.type = 'application/json';
    ctx.body = JSON.stringify(policyRefused);
    return;
  }
  if (ctx.path === '/_s3rver/requests') {
    if (ctx.method === 'DELETE') counts = {};
    ctx.status = 200;
    ctx.type = 'application/json';
    ctx.body = JSON.stringify(counts);
    return;
  }
  const op = operationOf(ctx);
  counts[op] = (counts[op] || 0) + 1;
  return next();
});
// Fault injection for the fault tests (test/integration/faults-*.test.ts), on a control path
// no bucket can shadow:
//   PUT    /_s3rver/faults  {"rules":[{"op":"UploadPart","key":"big/","status":500,"times":3}]}
//   GET    /_s3rver/faults  -> {"rules":[...],"injected":{"UploadPart":N,...}}
//   DELETE /_s3rver/faults  clears the rules and the counts
// op is an operation name of operationOf (PutObject, UploadPart, CompleteMultipartUpload, ...);
// key is a substring of the object key; times (default: every time) counts down per matching
// request. Rules match in order, so a run is as reproducible as its request sequence.
// Added after the counter, so it runs before it: an injected error is not counted as served.
let faultRules = [];
let injected = {};
server.middleware.unshift(async (ctx, next) => {
  if (ctx.path === '/_s3rver/faults') {
    // The answer holds the state before the request, so DELETE tells what was injected.
    const answer = JSON.stringify({ rules: faultRules, injected });
    if (ctx.method === 'PUT') {
      const chunks = [];
      for await (const c of ctx.req) chunks.push(c);
      faultRules = JSON.parse(Buffer.concat(chunks).toString('utf8')).rules || [];
    } else if (ctx.method === 'DELETE') {
      faultRules = [];
      injected = {};
    }
    ctx.status = 200;
    ctx.type = 'application/json';
    ctx.body = answer;
    return;
  }
  if (faultRules.length === 0) return next();
  const op = operationOf(ctx);
  const key = decodeURIComponent(ctx.path.split('/').slice(2).join('/'));
  const rule = faultRules.find((r) => r.op === op && key.includes(r.key || '') && (r.times === undefined || r.times > 0));
  if (!rule) return next();
  if (rule.times !== undefined) rule.times -= 1;
  injected[op] = (injected[op] || 0) + 1;
  // Read the request body first, as S3 does, so the client sees the answer, not a broken pipe.
  for await (const _ of ctx.req);
  ctx.status = rule.status || 500;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${rule.code || 'InternalError'}</Code><Message>Injected ${op} failure</Message></Error>`;
});
// s3rver writes an object in place, so a server stopped mid-write (the restart test kills it
// with SIGKILL) would leave a torn object that real S3 never shows: its writes are atomic.
// Write to a temporary file beside the object and rename it into place, as S3 behaves.
const { IncomingMessage } = require('node:http');
server.store.putObject = async function putObjectAtomically(object) {
  const source = Buffer.isBuffer(object.content) ? [object.content] : object.content;
  const stored = await writeAtomically(this.getResourcePath(object.bucket, object.key, 'object'), source, (size) => {
    // Real S3 stores a PUT only when every announced byte arrived (IncompleteBody otherwise);
    // s3rver would store what it got from a request the client gave up on.
    // (Only for a PUT, whose content is the request itself; a completed multipart upload's
    // content is its joined parts.)
    if ((object.content instanceof IncomingMessage || object.content.isRequestBody) && size !== object.size) throw new Error(`IncompleteBody: ${size} of ${object.size} bytes`);
  });
  await this.putMetadata(object.bucket, object.key, object.metadata, stored.md5);
  return stored;
};
server.run().then(({ port }) => process.stdout.write(JSON.stringify({ port }) + '\n'));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
