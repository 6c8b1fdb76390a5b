// Makes s3rver refuse what Amazon S3 refuses, so a test that passes here does not fail on AWS.
// s3rver 3.7 accepts any SigV4 signature ("Signature version 4 calculation is unimplemented",
// lib/middleware/authentication.js), stores an `aws-chunked` body with its chunk framing, and
// checks no limit. Installed by s3rver-child.cjs; every rule cites the page it follows.
'use strict';
const { createHash, createHmac, timingSafeEqual } = require('node:crypto');
const fs = require('node:fs/promises');
const { createWriteStream } = require('node:fs');
const path = require('node:path');
const { Readable, Transform } = require('node:stream');
const { pipeline } = require('node:stream/promises');
const zlib = require('node:zlib');
const S3Error = require('s3rver/lib/models/error');
const { Crc32c, Crc64Nvme } = require('@aws-sdk/checksums/crc');

const MiB = 1024 * 1024;

/** An S3 error as s3rver's onerror renders it (status from S3's error-code table). */
const s3Error = (code, message, status, detail = {}) => {
  const err = new S3Error(code, message, detail);
  if (status) err.status = status;
  err.expose = true;
  return err;
};

// --- Signature Version 4 -------------------------------------------------------------------
// "Authenticating Requests: Using the Authorization Header (AWS Signature Version 4)" and
// "Signature Calculations for the Authorization Header"
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html): canonical
// request = method, URI-encoded path (S3 encodes each segment once), sorted URI-encoded query,
// the signed headers (lower-case name:trimmed value), the signed header list, and the payload
// hash from x-amz-content-sha256; signed with HMAC-SHA256 keys derived from the secret, date,
// region and "s3". Query-string auth ("Authenticating Requests: Using Query Parameters",
// sigv4-query-string-auth.html) signs the query minus X-Amz-Signature with UNSIGNED-PAYLOAD.
/** s3rver's built-in account (s3rver lib/models/account.js), and one with temporary credentials. */
const SECRETS = { S3RVER: 'S3RVER', S3RVERTEMP: 'S3RVER-TEMP-SECRET' };
// Temporary credentials (STS, as a Lambda's role has): the request carries the session token in
// x-amz-security-token ("Common Request Headers", RESTCommonRequestHeaders.html), signed like
// every x-amz-* header; a key whose token is missing or wrong is refused (400 InvalidToken, "The
// provided token is malformed or otherwise invalid.", ErrorResponses.html).
const SESSION_TOKENS = { S3RVERTEMP: 'S3RVER-TEMP-SESSION-TOKEN' };
// s3rver's own authentication looks every key up in its account registry: the temporary key
// belongs to its one account, as a role's keys belong to the account that owns the bucket.
require('s3rver/lib/models/account').DUMMY_ACCOUNT.createKeyPair('S3RVERTEMP', SECRETS.S3RVERTEMP);
const uriEncode = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const rawQueryPairs = (url) => {
  const q = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  return q
    .split('&')
    .filter(Boolean)
    .map((p) => {
      const i = p.indexOf('=');
      const [k, v] = i < 0 ? [p, ''] : [p.slice(0, i), p.slice(i + 1)];
      return [decodeURIComponent(k), decodeURIComponent(v)];
    });
};
const canonicalQuery = (pairs) =>
  pairs
    .map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
const canonicalPath = (rawPath) => rawPath.split('/').map((seg) => uriEncode(decodeURIComponent(seg))).join('/');
const hmac = (key, data) => createHmac('sha256', key).update(data).digest();
const sha256hex = (data) => createHash('sha256').update(data).digest('hex');

/** Parses the Authorization header or the X-Amz-* query; throws the S3 error S3 answers. */
const readAuth = (ctx, pairs) => {
  const header = ctx.get('authorization');
  const query = Object.fromEntries(pairs);
  if (header) {
    const m = /^AWS4-HMAC-SHA256 Credential=([^,]+),\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$/.exec(header);
    if (!m) throw s3Error('AuthorizationHeaderMalformed', 'The authorization header is malformed.', 400);
    return { credential: m[1], signedHeaders: m[2], signature: m[3], date: ctx.get('x-amz-date'), payloadHash: ctx.get('x-amz-content-sha256'), queryPairs: pairs };
  }
  if (query['X-Amz-Algorithm'] === 'AWS4-HMAC-SHA256') {
    return {
      credential: query['X-Amz-Credential'] || '',
      signedHeaders: query['X-Amz-SignedHeaders'] || '',
      signature: query['X-Amz-Signature'] || '',
      date: query['X-Amz-Date'] || '',
      payloadHash: 'UNSIGNED-PAYLOAD',
      queryPairs: pairs.filter(([k]) => k !== 'X-Amz-Signature'),
    };
  }
  // An anonymous request to a private bucket (the only kind tests make).
  throw s3Error('AccessDenied', 'Access Denied', 403);
};

const header_ = (ctx) => Boolean(ctx.get('authorization'));
const query_ = (auth, name) => (auth.queryPairs.find(([k]) => k === name) || [])[1];

/** Refuses a request whose SigV4 signature does not match (SignatureDoesNotMatch, 403). */
const verifySignature = (ctx) => {
  const pairs = rawQueryPairs(ctx.url);
  const auth = readAuth(ctx, pairs);
  const [accessKeyId, scopeDate, region, service, terminator] = auth.credential.split('/');
  const secret = SECRETS[accessKeyId];
  if (secret === undefined) throw s3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', 403);
  if (service !== 's3' || terminator !== 'aws4_request' || !auth.date.startsWith(scopeDate)) {
    throw s3Error('AuthorizationHeaderMalformed', 'The authorization header is malformed; the credential scope is wrong.', 400);
  }
  if (!auth.payloadHash) throw s3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256', 400);
  const names = auth.signedHeaders.split(';');
  if (!names.includes('host')) throw s3Error('AccessDenied', 'host must be a signed header', 403);
  // "any x-amz-* headers that you plan to add to the request" are signed
  // (sig-v4-header-based-auth.html, SignedHeaders); S3 refuses the others.
  const unsigned = Object.keys(ctx.req.headers).filter((n) => n.startsWith('x-amz-') && !names.includes(n));
  if (header_(ctx) && unsigned.length > 0) {
    throw s3Error('AccessDenied', 'There were headers present in the request which were not signed', 403, { HeadersNotSigned: unsigned.join(', ') });
  }
  const token = SESSION_TOKENS[accessKeyId];
  if (token !== undefined && (ctx.get('x-amz-security-token') || query_(auth, 'X-Amz-Security-Token')) !== token) {
    throw s3Error('InvalidToken', 'The provided token is malformed or otherwise invalid.', 400);
  }
  const headerLines = names.map((n) => `${n}:${String(ctx.req.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonical = [ctx.method, canonicalPath(ctx.path), canonicalQuery(auth.queryPairs), headerLines, auth.signedHeaders, auth.payloadHash].join('\n');
  const scope = `${scopeDate}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', auth.date, scope, sha256hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, scopeDate), region), 's3'), 'aws4_request');
  const expected = hmac(key, toSign);
  const given = Buffer.from(auth.signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw s3Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', 403);
  }
  return auth.payloadHash;
};

// --- Checksums -----------------------------------------------------------------------------
// "Checking object integrity" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html):
// x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,sha256}, base64 of the big-endian digest, sent as a
// header or as an aws-chunked trailer; a mismatch is refused with BadDigest. CRC32 is zlib's;
// CRC32C and CRC64NVME come from @aws-sdk/checksums, checked against the standard check values
// in test/integration/s3rver-strict.test.ts.
const hasher = (algorithm) => {
  switch (algorithm) {
    case 'crc32': {
      let crc = 0;
      return { update: (b) => (crc = zlib.crc32(b, crc)), digest: async () => { const out = Buffer.alloc(4); out.writeUInt32BE(crc >>> 0); return out; } };
    }
    case 'crc32c':
    case 'crc64nvme': {
      const h = algorithm === 'crc32c' ? new Crc32c() : new Crc64Nvme();
      return { update: (b) => h.update(b), digest: async () => Buffer.from(await h.digest()) };
    }
    case 'sha1':
    case 'sha256': {
      const h = createHash(algorithm);
      return { update: (b) => h.update(b), digest: async () => h.digest() };
    }
    default:
      throw s3Error('InvalidRequest', `Unsupported checksum algorithm: ${algorithm}`, 400);
  }
};
const CHECKSUM_HEADER = /^x-amz-checksum-(crc32|crc32c|crc64nvme|sha1|sha256)$/;

// --- aws-chunked with an unsigned trailer --------------------------------------------------
// "Signature Calculations for the Authorization Header: Transferring Payload in Multiple Chunks"
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html) and its trailer variant
// STREAMING-UNSIGNED-PAYLOAD-TRAILER: each chunk is `<hex size>\r\n<bytes>\r\n`, then `0\r\n`,
// the trailer `x-amz-checksum-<alg>:<base64>\r\n` and `\r\n`. Every chunk but the last must be at
// least 8 KiB, or S3 answers InvalidChunkSizeError (aws/aws-sdk-js-v3#6859, #7596: real S3
// refused SDK streams of small chunks). The decoded length must equal
// x-amz-decoded-content-length. The SDK's encoder: @smithy/core serde getAwsChunkedEncodingStream.
const MIN_CHUNK = 8192;
class AwsChunkedDecoder extends Transform {
  constructor(trailerName) {
    super();
    this.trailerName = trailerName;
    this.pending = Buffer.alloc(0);
    this.state = 'size';
    this.remaining = 0;
    this.chunkSizes = [];
    this.trailers = {};
    this.problem = undefined;
  }
  _transform(chunk, _enc, done) {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    try {
      this.parse();
      done();
    } catch (err) {
      done(err);
    }
  }
  parse() {
    for (;;) {
      if (this.state === 'data') {
        if (this.pending.length === 0) return;
        const take = Math.min(this.remaining, this.pending.length);
        this.push(this.pending.subarray(0, take));
        this.pending = this.pending.subarray(take);
        this.remaining -= take;
        if (this.remaining > 0) return;
        this.state = 'crlf';
        continue;
      }
      if (this.state === 'crlf') {
        if (this.pending.length < 2) return;
        if (this.pending[0] !== 13 || this.pending[1] !== 10) throw this.malformed();
        this.pending = this.pending.subarray(2);
        this.state = 'size';
        continue;
      }
      const eol = this.pending.indexOf('\r\n');
      if (eol < 0) {
        if (this.pending.length > 4096) throw this.malformed();
        return;
      }
      const line = this.pending.subarray(0, eol).toString('latin1');
      this.pending = this.pending.subarray(eol + 2);
      if (this.state === 'size') {
        // A signed variant would carry ";chunk-signature=": not this encoding.
        if (!/^[0-9a-fA-F]{1,16}$/.test(line)) throw this.malformed();
        const size = parseInt(line, 16);
        this.chunkSizes.push(size);
        if (size === 0) this.state = 'trailer';
        else [this.state, this.remaining] = ['data', size];
      } else if (this.state === 'trailer') {
        if (line === '') {
          this.state = 'done';
          return;
        }
        const i = line.indexOf(':');
        if (i < 0) throw this.malformed();
        this.trailers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      } else {
        throw this.malformed();
      }
    }
  }
  malformed() {
    return s3Error('IncompleteBody', 'The request body is not valid aws-chunked encoding.', 400);
  }
  _flush(done) {
    if (this.state !== 'done' || this.pending.length > 0) return done(this.malformed());
    const sizes = this.chunkSizes.slice(0, -1); // without the terminating 0
    const small = sizes.findIndex((s, i) => i < sizes.length - 1 && s < MIN_CHUNK);
    if (small >= 0) {
      return done(s3Error('InvalidChunkSizeError', `Only the last chunk is allowed to have a size less than ${MIN_CHUNK} bytes`, 403, { Chunk: small + 1, BadChunkSize: sizes[small] }));
    }
    if (this.trailerName && this.trailers[this.trailerName] === undefined) {
      return done(s3Error('MalformedTrailerError', `The request did not carry the trailer it announced (${this.trailerName}).`, 400));
    }
    done();
  }
}

/** Wraps the body: decodes aws-chunked, counts, and checks every digest the request carries. */
const checkedBody = (ctx, payloadHash) => {
  const headers = ctx.req.headers;
  const encodings = String(headers['content-encoding'] || '').split(',').map((s) => s.trim()).filter(Boolean);
  const chunked = encodings.includes('aws-chunked');
  if (chunked !== payloadHash.startsWith('STREAMING-')) {
    throw s3Error('InvalidArgument', 'x-amz-content-sha256 and Content-Encoding disagree about aws-chunked', 400);
  }
  if (payloadHash.startsWith('STREAMING-') && payloadHash !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER') {
    throw s3Error('NotImplemented', `This test server decodes only STREAMING-UNSIGNED-PAYLOAD-TRAILER, not ${payloadHash}`, 501);
  }
  const trailerName = chunked ? String(headers['x-amz-trailer'] || '').toLowerCase() || undefined : undefined;
  const expectedLength = Number(chunked ? headers['x-amz-decoded-content-length'] : headers['content-length'] || 0);
  if (chunked && !Number.isFinite(expectedLength)) throw s3Error('MissingContentLength', 'You must provide the Content-Length HTTP header.', 411);
  const decoder = chunked ? new AwsChunkedDecoder(trailerName) : undefined;
  const digests = {};
  for (const name of Object.keys(headers)) {
    const m = CHECKSUM_HEADER.exec(name);
    if (m) digests[name] = { hasher: hasher(m[1]), expected: () => headers[name] };
  }
  if (trailerName) {
    const m = CHECKSUM_HEADER.exec(trailerName);
    if (!m) throw s3Error('InvalidRequest', `Unsupported trailer ${trailerName}`, 400);
    digests[trailerName] = { hasher: hasher(m[1]), expected: () => decoder.trailers[trailerName] };
  }
  const sha = /^[0-9a-f]{64}$/.test(payloadHash) ? createHash('sha256') : undefined;
  const md5 = headers['content-md5'] ? createHash('md5') : undefined;
  let size = 0;
  const check = new Transform({
    transform(chunk, _enc, done) {
      size += chunk.length;
      for (const d of Object.values(digests)) d.hasher.update(chunk);
      sha?.update(chunk);
      md5?.update(chunk);
      done(null, chunk);
    },
    async flush(done) {
      if (size !== expectedLength) return done(s3Error('IncompleteBody', `You did not provide the number of bytes specified by the Content-Length HTTP header (${size} of ${expectedLength}).`, 400));
      if (sha && sha.digest('hex') !== payloadHash) {
        return done(s3Error('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", 400));
      }
      if (md5 && md5.digest('base64') !== headers['content-md5']) {
        return done(s3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.', 400));
      }
      for (const [name, d] of Object.entries(digests)) {
        const got = (await d.hasher.digest()).toString('base64');
        if (got !== d.expected()) {
          return done(s3Error('BadDigest', `The ${name.slice('x-amz-checksum-'.length).toUpperCase()} you specified did not match the calculated checksum.`, 400));
        }
      }
      done();
    },
  });
  const source = ctx.req;
  const stages = decoder ? [source, decoder, check] : [source, check];
  // Errors travel to the end of the chain, where the store's pipeline sees them.
  for (let i = 0; i < stages.length - 1; i += 1) {
    stages[i].on('error', (err) => stages[stages.length - 1].destroy(err));
    stages[i].pipe(stages[i + 1]);
  }
  // The digests are checked when the body ends, which can be before the store starts reading
  // (it makes folders first): keep the error on the stream for the store's pipeline to see,
  // rather than let an unheard 'error' event take the server down.
  check.on('error', () => {});
  check.isRequestBody = true;
  if (chunked) {
    // The stored object is the decoded body: S3 keeps neither the framing nor the aws-chunked
    // content coding (sigv4-streaming.html).
    const rest = encodings.filter((e) => e !== 'aws-chunked');
    if (rest.length) headers['content-encoding'] = rest.join(',');
    else delete headers['content-encoding'];
    headers['content-length'] = String(expectedLength);
  }
  return check;
};

// --- Limits ----------------------------------------------------------------------------------
// Keys: "Naming Amazon S3 objects" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html):
// a key's UTF-8 encoding is at most 1,024 bytes (KeyTooLongError).
// User metadata: "Working with object metadata" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html):
// "user-defined metadata is limited to 2 KB", the sum of the UTF-8 bytes of each key and value
// (MetadataTooLarge). Counted without the x-amz-meta- prefix, as the page words it.
// Parts: "Amazon S3 multipart upload limits" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html):
// 5 MiB minimum part size, no minimum for the last part; CompleteMultipartUpload answers
// EntityTooSmall otherwise (API_CompleteMultipartUpload.html, "Special errors").
const MAX_KEY_BYTES = 1024;
const MAX_METADATA_BYTES = 2 * 1024;
const MIN_PART = 5 * MiB;
const checkKeyAndMetadata = (ctx, key, writes) => {
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw s3Error('KeyTooLongError', 'Your key is too long', 400);
  if (!writes) return;
  let bytes = 0;
  for (const [name, value] of Object.entries(ctx.req.headers)) {
    if (name.startsWith('x-amz-meta-')) bytes += Buffer.byteLength(name.slice('x-amz-meta-'.length)) + Buffer.byteLength(String(value));
  }
  if (bytes > MAX_METADATA_BYTES) throw s3Error('MetadataTooLarge', 'Your metadata headers exceed the maximum allowed metadata size.', 400, { Size: bytes, MaxSizeAllowed: MAX_METADATA_BYTES });
};

/** Refuses a CompleteMultipartUpload whose parts (but the last) are under 5 MiB. */
const checkPartSizes = async (directory, bucket, uploadId, xml) => {
  const numbers = [...xml.matchAll(/<PartNumber>\s*(\d+)\s*<\/PartNumber>/g)].map((m) => Number(m[1]));
  for (const n of numbers.slice(0, -1)) {
    const st = await fs.stat(path.join(directory, bucket, '._S3rver_uploads', uploadId, String(n))).catch(() => undefined);
    if (st && st.size < MIN_PART) {
      throw s3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', 400, { PartNumber: n, ProposedSize: st.size, MinSizeAllowed: MIN_PART });
    }
  }
};

/**
 * The middleware: signature, limits, then the body replaced by its checked (and decoded) form.
 * `directory` is s3rver's data folder.
 */
const strictMiddleware = (directory) => async (ctx, next) => {
  const payloadHash = verifySignature(ctx);
  // CopyObject: x-amz-copy-source "must be URL-encoded" and S3 decodes every escape
  // (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html); s3rver 3.7 decodes it
  // with decodeURI (lib/controllers/object.js putObjectCopy), which leaves %2B %26 %3D %2C %3B
  // %3A %40 %24 as they are and misses keys holding + & = , ; : @ $. Re-encoded with encodeURI
  // (after the signature was checked over the header as sent), its decodeURI gives S3's key.
  const copySource = ctx.headers['x-amz-copy-source'];
  if (typeof copySource === 'string') ctx.headers['x-amz-copy-source'] = encodeURI(decodeURIComponent(copySource));
  const parts = ctx.path.split('/').filter(Boolean);
  if (parts.length >= 2) {
    const key = decodeURIComponent(parts.slice(1).join('/'));
    const writes = (ctx.method === 'PUT' && !('partNumber' in ctx.query)) || (ctx.method === 'POST' && 'uploads' in ctx.query);
    checkKeyAndMetadata(ctx, key, writes);
  }
  if (!['PUT', 'POST'].includes(ctx.method)) return next();
  const body = checkedBody(ctx, payloadHash);
  if (ctx.method === 'POST' && parts.length >= 2 && typeof ctx.query.uploadId === 'string') {
    const chunks = [];
    for await (const c of body) chunks.push(c);
    const xml = Buffer.concat(chunks);
    await checkPartSizes(directory, decodeURIComponent(parts[0]), ctx.query.uploadId, xml.toString('utf8'));
    ctx.req = Readable.from([xml]);
    return next();
  }
  ctx.req = body;
  return next();
};

/**
 * Streams `source` into a temporary file beside `filePath` and renames it into place only when
 * every byte was written and `accept(size)` did not throw; otherwise the temporary file is removed
 * and nothing changes. S3's writes are atomic (S3 User Guide, "Amazon S3 data consistency model":
 * updates to a single key are atomic, a reader gets the old data or the new, never partial data);
 * s3rver's are in place. Resolves with the size and the MD5 (hex) of what was stored.
 */
async function writeAtomically(filePath, source, accept = () => {}) {
  await fs.mkdir(path.dirname(filePath), { recursive: true });
  const tmp = `${filePath}.${process.pid}-${Math.random().toString(16).slice(2)}.tmp`;
  const md5 = createHash('md5');
  let size = 0;
  const count = new Transform({
    transform(chunk, _enc, done) {
      md5.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(source, count, createWriteStream(tmp));
    accept(size);
    await fs.rename(tmp, filePath);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  return { size, md5: md5.digest('hex') };
}

/**
 * s3rver's putPart pipes the body without listening for its errors and writes in place: a refused
 * part would hang or be half-stored. S3 stores a part only when it was accepted whole.
 */
async function putPartAtomically(bucket, uploadId, partNumber, content) {
  const partPath = path.join(this.getResourcePath(bucket, undefined, 'uploads'), uploadId, String(partNumber));
  const stored = await writeAtomically(partPath, content);
  await fs.writeFile(`${partPath}.md5`, stored.md5);
  return stored;
}

// The pieces apart, for the in-memory bench server (test/fakes/memory-s3/server.ts), which is no
// koa app: it passes a ctx of its own with the fields these read (get, method, path, url, query, req).
module.exports = { strictMiddleware, putPartAtomically, writeAtomically, verifySignature, checkedBody, checkKeyAndMetadata, s3Error, MIN_PART };
