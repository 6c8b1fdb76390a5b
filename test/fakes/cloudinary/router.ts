/**
 * Routes one request of the fake's loopback origin to its endpoint, counts it, and turns every
 * error into Cloudinary's error body, `{"error":{"message":...}}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, decodeSeg, safeDecode } from '../http-util.ts';
import { sendJsonInPieces } from './pieces.ts';
import { admin } from './admin.ts';
import type { FakeContext } from './context.ts';
import { delivery } from './delivery.ts';
import { download } from './download.ts';
import type { RequestKind } from './types.ts';
import { upload } from './upload.ts';

/** The request log keeps this many entries. */
const MAX_LOG = 10_000;

/** Which endpoint a path names (before any check: the counters count refused requests too). */
export function routeKind(segs: string[], cloudName: string): RequestKind {
  if (segs[0] === 'v1_1') {
    const rest = segs.slice(2);
    if (rest[0] === 'resources') return rest.length >= 4 ? 'resource' : 'listing';
    if (rest[0] === 'usage') return 'usage';
    if (rest[0] === 'metadata_fields') return 'metadata';
    if (rest.length === 2 && rest[1] === 'download') return 'download';
    if (rest.length === 2 && rest[1] === 'upload') return 'upload';
    return 'other';
  }
  return safeDecode(segs[0] ?? '') === cloudName && segs.length >= 4 ? 'delivery' : 'other';
}

/** One entry of the request log. */
export interface LoggedRequest {
  method: string;
  kind: RequestKind;
  path: string;
}

/** Serves one request; every failure is answered with Cloudinary's error body (or a reset once the body started). */
export async function handle(ctx: FakeContext, log: LoggedRequest[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  let kind: RequestKind = 'other';
  try {
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const segs = url.pathname.split('/').slice(1);
    kind = routeKind(segs, ctx.cloudName);
    ctx.stats().requests[kind] += 1;
    log.push({ method: req.method ?? 'GET', kind, path: url.pathname + url.search });
    if (log.length > MAX_LOG) log.splice(0, log.length - MAX_LOG);
    await dispatch(ctx, req, res, kind, url, segs);
  } catch (err) {
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const status = err instanceof HttpError ? err.status : 500;
    const message = err instanceof HttpError ? err.message : `Internal fake error: ${String(err)}`;
    const headers = err instanceof HttpError ? err.headers : {};
    if (kind === 'delivery') headers['X-Cld-Error'] = message;
    await sendJsonInPieces(res, status, { error: { message } }, headers);
  }
}

/** Checks the cloud name and the method, then calls the endpoint. */
async function dispatch(ctx: FakeContext, req: IncomingMessage, res: ServerResponse, kind: RequestKind, url: URL, segs: string[]): Promise<void> {
  const method = req.method ?? 'GET';
  const unsupported = (): HttpError => new HttpError(404, `Unsupported method ${method}`);
  if (segs[0] !== 'v1_1') {
    if (kind !== 'delivery') throw new HttpError(404, `Not found: ${url.pathname}`);
    if (method !== 'GET' && method !== 'HEAD') throw unsupported();
    await delivery(ctx, req, res, segs.slice(1));
    return;
  }
  if (decodeSeg(segs[1] ?? '') !== ctx.cloudName) {
    throw new HttpError(401, `Invalid cloud_name ${decodeSeg(segs[1] ?? '')}`);
  }
  const rest = segs.slice(2);
  if (kind === 'listing' || kind === 'resource' || kind === 'usage') {
    if (method !== 'GET' && !(method === 'POST' && kind === 'resource')) throw unsupported();
    await admin(ctx, req, res, kind, url, rest);
  } else if (kind === 'metadata') {
    if (method !== 'GET' && method !== 'POST') throw unsupported();
    await admin(ctx, req, res, kind, url, rest);
  } else if (kind === 'download') {
    if (method !== 'GET' && method !== 'HEAD') throw unsupported();
    await download(ctx, req, res, url, rest[0] ?? '');
  } else if (kind === 'upload') {
    if (method !== 'POST') throw unsupported();
    await upload(ctx, req, res, rest[0] ?? '');
  } else {
    throw new HttpError(404, `Unknown API path ${url.pathname}`);
  }
}
