/**
 * An S3 server that holds its objects in memory, for the benchmarks at a million keys (s3rver
 * stores three files per object and walks its store for every listing page). It answers the
 * operations lambda/adapters/s3/destination.ts sends, with S3's rules, and 501 NotImplemented for
 * everything else, so nothing passes here that S3 would answer differently without being seen.
 * Requests are checked as test/fakes/s3rver-strict.cjs checks them for s3rver (SigV4 signature,
 * payload digests, aws-chunked decoding, key and metadata limits): the same code, required from
 * there. Run in its own process by child.ts (its memory and CPU apart from the process measured).
 *
 * S3 API Reference page of each operation (https://docs.aws.amazon.com/AmazonS3/latest/API/...):
 * - HeadBucket (API_HeadBucket.html): 200, or 404 NoSuchBucket (ErrorResponses.html, "List of
 *   error codes": NoSuchBucket 404, NoSuchKey 404, NoSuchUpload 404, PreconditionFailed 412,
 *   NotImplemented 501, InvalidArgument 400, MissingContentLength 411, InvalidPart 400,
 *   InvalidPartOrder 400, EntityTooSmall 400, MalformedXML 400).
 * - ListObjectsV2 (API_ListObjectsV2.html): prefix, start-after, continuation-token (opaque,
 *   "obfuscated and is not a real key"), max-keys ("returns up to 1,000 key names. The response
 *   might contain fewer keys but will never contain more": a larger value is capped, not
 *   refused), KeyCount, IsTruncated, NextContinuationToken; keys in UTF-8 binary order (bucket.ts).
 * - HeadObject (API_HeadObject.html): a missing key answers 404 with no body.
 * - GetObject (API_GetObject.html): 404 NoSuchKey; user metadata as x-amz-meta-* headers.
 * - PutObject (API_PutObject.html) with If-None-Match / If-Match: S3 User Guide "How to prevent
 *   object overwrites with conditional writes" (conditional-writes.html): If-None-Match: * on an
 *   existing key and If-Match with another ETag answer 412 PreconditionFailed, If-Match on a
 *   missing key 404 NoSuchKey. The condition is checked when the body has arrived and the write
 *   follows in the same turn of the event loop, so of concurrent conditional writes on one key at
 *   most one succeeds (S3: the others get 412, or 409 ConditionalRequestConflict).
 * - DeleteObject (API_DeleteObject.html): 204, also for a key that does not exist.
 * - CreateMultipartUpload, UploadPart, CompleteMultipartUpload (InvalidPart, InvalidPartOrder,
 *   EntityTooSmall under 5 MiB but the last part), AbortMultipartUpload (NoSuchUpload),
 *   ListMultipartUploads (API_<name>.html each).
 * Not implemented (501): DeleteObjects (lambda/ does not send it), CopyObject, ranges and
 * conditional reads, delimiter and encoding-type in listings, and every other subresource.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { MemoryBucket, bodyChunks, md5Of } from './bucket.ts';
import type { MemoryObject } from './bucket.ts';
import { operationOf } from './operations.ts';

interface StrictCtx {
  readonly method: string;
  readonly path: string;
  readonly url: string;
  readonly query: Record<string, string>;
  readonly req: IncomingMessage;
  get(name: string): string;
}
interface S3ErrorLike extends Error {
  status: number;
  code: string;
  toXML(): string;
}
const require = createRequire(import.meta.url);
const strict = require('../s3rver-strict.cjs') as {
  verifySignature(ctx: StrictCtx): string;
  checkedBody(ctx: StrictCtx, payloadHash: string): Readable;
  checkKeyAndMetadata(ctx: StrictCtx, key: string, writes: boolean): void;
  s3Error(code: string, message: string, status?: number, detail?: Record<string, unknown>): S3ErrorLike;
  MIN_PART: number;
};
const { s3Error } = strict;

/** Largest body this server keeps in memory (S3 takes 5 GiB in one PUT): a larger one is refused loudly. */
const MAX_BODY = 1024 * 1024 * 1024;
const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
const tag = (name: string, value: string | number | boolean): string => `<${name}>${xmlEscape(String(value))}</${name}>`;
const notImplemented = (what: string): S3ErrorLike => s3Error('NotImplemented', `${what} is not implemented by this test server (test/fakes/memory-s3)`, 501);
const stripQuotes = (etag: string): string => etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');

/** Reads what is left of a request's body (an error answer is read in full first, as S3 does). */
const drain = async (req: IncomingMessage): Promise<void> => {
  if (req.complete || req.destroyed) return;
  await new Promise<void>((resolve) => {
    req.on('end', resolve).on('close', resolve).on('error', resolve);
    req.resume();
  });
};

/** The checked body as one buffer; rejects when the client went away before the last byte. */
const collect = async (body: Readable, req: IncomingMessage): Promise<Buffer> => {
  // A client that gives up mid-body leaves the request incomplete: S3 stores nothing (IncompleteBody).
  req.once('close', () => {
    if (!req.complete) body.destroy(s3Error('IncompleteBody', 'The client closed the connection before the body ended.', 400));
  });
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of body) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) throw notImplemented('A body over 1 GiB');
      chunks.push(c as Buffer);
    }
  } catch (err) {
    if (!req.complete && typeof (err as Partial<S3ErrorLike>).toXML !== 'function') throw s3Error('IncompleteBody', 'The client closed the connection before the body ended.', 400);
    throw err;
  }
  return Buffer.concat(chunks);
};

/** x-amz-meta-* headers as the JSON bucket.ts keeps ("" when none). */
const metaOf = (req: IncomingMessage): string => {
  const meta: Record<string, string> = {};
  let any = false;
  for (const [name, value] of Object.entries(req.headers)) {
    if (!name.startsWith('x-amz-meta-')) continue;
    meta[name.slice('x-amz-meta-'.length)] = String(value);
    any = true;
  }
  return any ? JSON.stringify(meta) : '';
};

/** The headers GetObject and HeadObject answer for an object. */
const objectHeaders = (o: MemoryObject): Record<string, string | number> => {
  const h: Record<string, string | number> = {
    'content-length': o.size,
    'content-type': o.contentType,
    etag: `"${o.etag}"`,
    'last-modified': new Date(o.lastModified).toUTCString(),
    'accept-ranges': 'bytes',
  };
  if (o.metaJson) for (const [k, v] of Object.entries(JSON.parse(o.metaJson) as Record<string, string>)) h[`x-amz-meta-${k}`] = v;
  return h;
};

/** Options of createMemoryS3Server. */
export interface MemoryS3ServerOptions {
  readonly buckets: readonly string[];
}

/** The server and what the control paths (child.ts) reach. */
export interface MemoryS3Server {
  server: Server;
  readonly buckets: ReadonlyMap<string, MemoryBucket>;
  /** Requests by operation since start or the last reset (control paths not counted). */
  counts: Record<string, number>;
  /** "<operation> <key>" of each request since the last reset, when the server keeps them (MEMORY_S3_TRACE=1). */
  trace: string[] | undefined;
}

/** Answers one S3 request (signature already checked). */
type Route = (ctx: StrictCtx, res: ServerResponse, bucket: MemoryBucket, key: string, payloadHash: string) => Promise<void>;

const listObjectsV2: Route = async (ctx, res, bucket) => {
  const q = ctx.query;
  for (const p of ['delimiter', 'encoding-type']) if (q[p] !== undefined) throw notImplemented(`ListObjectsV2 ${p}`);
  if (q['fetch-owner'] === 'true') throw notImplemented('ListObjectsV2 fetch-owner');
  const prefix = q.prefix ?? '';
  let max = 1000;
  if (q['max-keys'] !== undefined) {
    max = Number(q['max-keys']);
    if (!/^\d+$/.test(q['max-keys'])) throw s3Error('InvalidArgument', 'Provided max-keys not an integer or within integer range', 400);
    max = Math.min(max, 1000);
  }
  let after = q['start-after'];
  const token = q['continuation-token'];
  if (token !== undefined) {
    const decoded = Buffer.from(token, 'base64url').toString('utf8');
    if (!decoded.startsWith('mem1:') || Buffer.from(decoded, 'utf8').toString('base64url') !== token) {
      throw s3Error('InvalidArgument', 'The continuation token provided is incorrect', 400);
    }
    // The token continues after the last key returned; StartAfter is ignored with a token
    // (API_ListObjectsV2.html: StartAfter is "where you want Amazon S3 to start listing from").
    after = decoded.slice('mem1:'.length);
  }
  const page = max === 0 ? { keys: [], nextAfter: undefined } : bucket.list(prefix, after, max);
  const next = page.nextAfter === undefined ? undefined : Buffer.from(`mem1:${page.nextAfter}`, 'utf8').toString('base64url');
  const parts = [
    `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="${NS}">`,
    tag('Name', ctx.path.split('/')[1] ?? ''),
    tag('Prefix', prefix),
    tag('MaxKeys', max),
    tag('KeyCount', page.keys.length),
    tag('IsTruncated', next !== undefined),
    token !== undefined ? tag('ContinuationToken', token) : '',
    next !== undefined ? tag('NextContinuationToken', next) : '',
    q['start-after'] !== undefined ? tag('StartAfter', q['start-after']) : '',
  ];
  for (const [key, o] of page.keys) {
    parts.push(`<Contents>${tag('Key', key)}${tag('LastModified', new Date(o.lastModified).toISOString())}<ETag>&quot;${o.etag}&quot;</ETag>${tag('Size', o.size)}<StorageClass>STANDARD</StorageClass></Contents>`);
  }
  parts.push('</ListBucketResult>');
  res.writeHead(200, { 'content-type': 'application/xml' });
  res.end(parts.join(''));
};

/** The 412/404 of a conditional write (see the header), checked just before the write. */
const checkCondition = (ctx: StrictCtx, bucket: MemoryBucket, key: string): void => {
  const ifNoneMatch = ctx.get('if-none-match');
  const ifMatch = ctx.get('if-match');
  const current = bucket.get(key);
  if (ifNoneMatch && current) throw s3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412, { Condition: 'If-None-Match' });
  if (ifMatch) {
    if (!current) throw s3Error('NoSuchKey', 'The specified key does not exist.', 404, { Key: key });
    if (stripQuotes(current.etag) !== stripQuotes(ifMatch)) throw s3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412, { Condition: 'If-Match' });
  }
};

/** S3 needs the length of a body up front (MissingContentLength, 411). */
const requireLength = (ctx: StrictCtx): void => {
  const h = ctx.req.headers;
  if (h['content-length'] === undefined && h['x-amz-decoded-content-length'] === undefined) throw s3Error('MissingContentLength', 'You must provide the Content-Length HTTP header.', 411);
};

const putObject: Route = async (ctx, res, bucket, key, payloadHash) => {
  if (ctx.get('x-amz-copy-source')) throw notImplemented('CopyObject');
  const ifNoneMatch = ctx.get('if-none-match');
  if (ifNoneMatch && ifNoneMatch !== '*') throw notImplemented('If-None-Match other than *');
  requireLength(ctx);
  const body = await collect(strict.checkedBody(ctx, payloadHash), ctx.req);
  checkCondition(ctx, bucket, key);
  const etag = md5Of(body);
  bucket.put(key, { size: body.length, etag, lastModified: Date.now(), contentType: ctx.get('content-type') || 'binary/octet-stream', metaJson: metaOf(ctx.req), body });
  res.writeHead(200, { etag: `"${etag}"` });
  res.end();
};

const getObject: Route = async (ctx, res, bucket, key) => {
  for (const h of ['range', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since']) if (ctx.get(h)) throw notImplemented(`GetObject with ${h}`);
  const o = bucket.get(key);
  if (!o) throw s3Error('NoSuchKey', 'The specified key does not exist.', 404, { Key: key });
  res.writeHead(200, objectHeaders(o));
  Readable.from(bodyChunks(o.body)).pipe(res);
};

const headObject: Route = async (ctx, res, bucket, key) => {
  const o = bucket.get(key);
  if (!o) throw s3Error('NotFound', 'Not Found', 404);
  res.writeHead(200, objectHeaders(o));
  res.end();
};

const deleteObject: Route = async (_ctx, res, bucket, key) => {
  bucket.delete(key);
  res.writeHead(204);
  res.end();
};

const createUpload: Route = async (ctx, res, bucket, key) => {
  await drain(ctx.req);
  const uploadId = randomBytes(16).toString('hex');
  bucket.uploads.set(uploadId, { key, initiated: Date.now(), contentType: ctx.get('content-type') || 'binary/octet-stream', metaJson: metaOf(ctx.req), parts: new Map() });
  res.writeHead(200, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult xmlns="${NS}">${tag('Bucket', ctx.path.split('/')[1] ?? '')}${tag('Key', key)}${tag('UploadId', uploadId)}</InitiateMultipartUploadResult>`);
};

const uploadOf = (ctx: StrictCtx, bucket: MemoryBucket, key: string) => {
  const u = bucket.uploads.get(ctx.query.uploadId ?? '');
  if (!u || u.key !== key) throw s3Error('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', 404);
  return u;
};

const uploadPart: Route = async (ctx, res, bucket, key, payloadHash) => {
  const u = uploadOf(ctx, bucket, key);
  const n = Number(ctx.query.partNumber);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw s3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', 400);
  requireLength(ctx);
  const body = await collect(strict.checkedBody(ctx, payloadHash), ctx.req);
  const etag = md5Of(body);
  u.parts.set(n, { body, etag });
  res.writeHead(200, { etag: `"${etag}"` });
  res.end();
};

const completeUpload: Route = async (ctx, res, bucket, key, payloadHash) => {
  const u = uploadOf(ctx, bucket, key);
  const xml = (await collect(strict.checkedBody(ctx, payloadHash), ctx.req)).toString('utf8');
  const listed = [...xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((m) => ({
    n: Number(/<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(m[1] ?? '')?.[1]),
    etag: stripQuotes((/<ETag>([\s\S]*?)<\/ETag>/.exec(m[1] ?? '')?.[1] ?? '').replace(/&quot;/g, '"')),
  }));
  if (listed.length === 0) throw s3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.', 400);
  const bodies: Buffer[] = [];
  const md5s: Buffer[] = [];
  for (const [i, p] of listed.entries()) {
    if (i > 0 && p.n <= (listed[i - 1]?.n ?? 0)) throw s3Error('InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.', 400);
    const part = u.parts.get(p.n);
    if (!part || part.etag !== p.etag) throw s3Error('InvalidPart', 'One or more of the specified parts could not be found.', 400, { PartNumber: p.n });
    if (i < listed.length - 1 && part.body.length < strict.MIN_PART) {
      throw s3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', 400, { PartNumber: p.n, ProposedSize: part.body.length, MinSizeAllowed: strict.MIN_PART });
    }
    bodies.push(part.body);
    md5s.push(Buffer.from(part.etag, 'hex'));
  }
  checkCondition(ctx, bucket, key);
  const body = Buffer.concat(bodies);
  const etag = `${md5Of(Buffer.concat(md5s))}-${listed.length}`;
  bucket.put(key, { size: body.length, etag, lastModified: Date.now(), contentType: u.contentType, metaJson: u.metaJson, body });
  bucket.uploads.delete(ctx.query.uploadId ?? '');
  res.writeHead(200, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult xmlns="${NS}">${tag('Bucket', ctx.path.split('/')[1] ?? '')}${tag('Key', key)}<ETag>&quot;${etag}&quot;</ETag></CompleteMultipartUploadResult>`);
};

const abortUpload: Route = async (ctx, res, bucket, key) => {
  uploadOf(ctx, bucket, key);
  bucket.uploads.delete(ctx.query.uploadId ?? '');
  res.writeHead(204);
  res.end();
};

const listUploads: Route = async (ctx, res, bucket) => {
  const q = ctx.query;
  for (const p of ['delimiter', 'encoding-type', 'key-marker', 'upload-id-marker']) if (q[p] !== undefined) throw notImplemented(`ListMultipartUploads ${p}`);
  const prefix = q.prefix ?? '';
  const uploads = [...bucket.uploads.entries()].filter(([, u]) => u.key.startsWith(prefix));
  // Never more than 1,000 in a bench or test: truncation (and its markers) is not implemented.
  if (uploads.length > 1000) throw notImplemented('ListMultipartUploads over 1,000 uploads');
  const rows = uploads.map(([id, u]) => `<Upload>${tag('Key', u.key)}${tag('UploadId', id)}${tag('Initiated', new Date(u.initiated).toISOString())}<StorageClass>STANDARD</StorageClass></Upload>`);
  res.writeHead(200, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult xmlns="${NS}">${tag('Bucket', ctx.path.split('/')[1] ?? '')}${tag('Prefix', prefix)}<MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>${rows.join('')}</ListMultipartUploadsResult>`);
};

const headBucket: Route = async (_ctx, res) => {
  res.writeHead(200);
  res.end();
};

/** The route of an S3 operation (names of operations.ts); anything else is NotImplemented. */
const ROUTES: Record<string, Route> = {
  HeadBucket: headBucket,
  ListObjectsV2: listObjectsV2,
  ListMultipartUploads: listUploads,
  PutObject: putObject,
  GetObject: getObject,
  HeadObject: headObject,
  DeleteObject: deleteObject,
  CreateMultipartUpload: createUpload,
  UploadPart: uploadPart,
  CompleteMultipartUpload: completeUpload,
  AbortMultipartUpload: abortUpload,
};
/** Query parameters each operation may carry (x-id is the SDK's own marker); others are NotImplemented. */
const ALLOWED_QUERY: Record<string, readonly string[]> = {
  ListObjectsV2: ['list-type', 'prefix', 'start-after', 'continuation-token', 'max-keys', 'delimiter', 'encoding-type', 'fetch-owner'],
  ListMultipartUploads: ['uploads', 'prefix', 'delimiter', 'encoding-type', 'key-marker', 'upload-id-marker', 'max-uploads'],
  UploadPart: ['partNumber', 'uploadId'],
  CompleteMultipartUpload: ['uploadId'],
  AbortMultipartUpload: ['uploadId'],
  CreateMultipartUpload: ['uploads'],
};

/** The server; `control` answers the paths under /_memory-s3/ (child.ts). */
export const createMemoryS3Server = (
  options: MemoryS3ServerOptions,
  control: (req: IncomingMessage, res: ServerResponse, state: MemoryS3Server) => Promise<void>,
): MemoryS3Server => {
  const buckets = new Map(options.buckets.map((b) => [b, new MemoryBucket()] as const));
  const state: MemoryS3Server = { server: undefined as unknown as Server, buckets, counts: {}, trace: process.env.MEMORY_S3_TRACE === '1' ? [] : undefined };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    const rawPath = url.split('?')[0] ?? '/';
    if (rawPath.startsWith('/_memory-s3/')) return control(req, res, state);
    const query = Object.fromEntries(new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : ''));
    const ctx: StrictCtx = { method: req.method ?? 'GET', path: rawPath, url, query, req, get: (n) => String(req.headers[n.toLowerCase()] ?? '') };
    const op = operationOf(ctx.method, rawPath, query, Boolean(req.headers['x-amz-copy-source']));
    state.counts[op] = (state.counts[op] ?? 0) + 1;
    state.trace?.push(`${op} ${decodeURIComponent(rawPath)}`);
    try {
      const payloadHash = strict.verifySignature(ctx);
      const segs = rawPath.split('/').filter(Boolean);
      const bucketName = decodeURIComponent(segs[0] ?? '');
      const key = decodeURIComponent(segs.slice(1).join('/'));
      const route = ROUTES[op];
      if (!route) throw notImplemented(op);
      const allowed = ALLOWED_QUERY[op] ?? [];
      const extra = Object.keys(query).filter((k) => k !== 'x-id' && !allowed.includes(k));
      if (extra.length > 0) throw notImplemented(`${op} with ${extra.join(', ')}`);
      const bucket = buckets.get(bucketName);
      if (!bucket) throw s3Error('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: bucketName });
      if (segs.length >= 2) strict.checkKeyAndMetadata(ctx, key, op === 'PutObject' || op === 'CreateMultipartUpload');
      await route(ctx, res, bucket, key, payloadHash);
    } catch (err) {
      const e = err as Partial<S3ErrorLike>;
      const known = typeof e.toXML === 'function' && typeof e.status === 'number';
      if (!known) process.stderr.write(`memory-s3: ${op} failed: ${(err as Error).stack ?? String(err)}\n`);
      await drain(req);
      if (res.headersSent) return void res.destroy();
      const s3e = known ? (e as S3ErrorLike) : s3Error('InternalError', 'We encountered an internal error. Please try again.', 500);
      res.writeHead(s3e.status, { 'content-type': 'application/xml', 'x-amz-error-code': s3e.code });
      res.end(req.method === 'HEAD' ? undefined : s3e.toXML());
    }
  };
  state.server = createServer((req, res) => void handle(req, res));
  return state;
};
