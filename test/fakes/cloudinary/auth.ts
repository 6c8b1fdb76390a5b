/**
 * The two ways a request proves it comes from the account owner: HTTP Basic with key and secret
 * (Admin API; the SDK sends `auth: api_key:api_secret`, cloudinary_npm
 * lib/api_client/execute_request.js), and a signed parameter set (Upload API and the signed
 * download URL; the algorithm is in ../signing.ts). Errors are Cloudinary's wording.
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../http-util.ts';
import { verifySignature } from '../signing.ts';
import { nowSeconds } from './context.ts';
import type { FakeContext } from './context.ts';
import { isoSeconds } from './params.ts';

/** Admin API: `Authorization: Basic base64(key:secret)`, both checked, 401 otherwise. */
export function checkBasicAuth(ctx: FakeContext, req: IncomingMessage): void {
  const header = req.headers.authorization ?? '';
  const match = /^Basic\s+(\S+)$/i.exec(header);
  if (!match) throw new HttpError(401, 'Must supply api_key');
  const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const key = colon < 0 ? decoded : decoded.slice(0, colon);
  const secret = colon < 0 ? '' : decoded.slice(colon + 1);
  if (key !== ctx.apiKey) throw new HttpError(401, `Invalid api_key ${key}`);
  if (secret !== ctx.apiSecret) throw new HttpError(401, `Invalid api_key or api_secret (api_secret mismatch for ${key})`);
}

/** Signed parameters: the `api_key` named, then the signature (see checkSignature). */
export function checkSignedParams(ctx: FakeContext, params: Record<string, string>): void {
  if (params['api_key'] === undefined) throw new HttpError(401, 'Must supply api_key');
  if (params['api_key'] !== ctx.apiKey) throw new HttpError(401, `Invalid api_key ${params['api_key']}`);
  checkSignature(ctx, params);
}

/**
 * The signature over the parameters, and a `timestamp` no further from the fake's clock than
 * `signatureMaxAgeSeconds` (Cloudinary: one hour, "Stale request").
 */
function checkSignature(ctx: FakeContext, params: Record<string, string>): void {
  if (!params['signature']) throw new HttpError(401, 'Missing required parameter - signature');
  const check = verifySignature(params, ctx.apiSecret);
  if (!check.ok) {
    throw new HttpError(401, `Invalid Signature ${params['signature']}. String to sign - '${check.stringToSign}'.`);
  }
  const ts = Number(params['timestamp']);
  if (!Number.isFinite(ts)) throw new HttpError(401, 'Missing required parameter - timestamp');
  if (Math.abs(ts - nowSeconds(ctx)) > ctx.settings.signatureMaxAge) {
    throw new HttpError(401, `Stale request - reported time is ${isoSeconds(ts * 1000)} which is more than 1 hour away`);
  }
}
