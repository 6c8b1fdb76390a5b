/**
 * Public delivery, what `secure_url` points at: `GET|HEAD /:cloud/:resource_type/:type/[s--SIG--/]
 * [<transformation>/][v123/]:public_id[.:format]` (on res.cloudinary.com for real accounts; the
 * fake serves it on its own origin). Errors also go in `X-Cld-Error`, as the CDN sends them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { HttpError, decodeSeg } from '../http-util.ts';
import type { FakeContext } from './context.ts';
import { formatOf, publiclyDeliverable, takeTransformation } from './delivery-rules.ts';
import { serve } from './serve.ts';
import { parseResourceType } from './store.ts';
import type { MutableAsset } from './types.ts';

/** Serves one delivery URL (`segs`: the path after the cloud name). */
export async function delivery(ctx: FakeContext, req: IncomingMessage, res: ServerResponse, segs: string[]): Promise<void> {
  const resourceType = parseResourceType(decodeSeg(segs[0] ?? ''));
  const type = decodeSeg(segs[1] ?? '');
  let rest = segs.slice(2);
  if (rest[0] !== undefined && /^s--[\w-]{8,}--$/.test(rest[0])) {
    checkDeliverySignature(ctx.apiSecret, rest[0], rest.slice(1));
    rest = rest.slice(1);
  }
  const transformation = takeTransformation(rest);
  rest = transformation.rest;
  if (rest.length > 1 && /^v\d+$/.test(rest[0] ?? '')) rest = rest.slice(1);
  const asset = deliveredAsset(ctx, rest.map(decodeSeg).join('/'), resourceType, type);
  if (!asset) throw new HttpError(404, 'Resource not found');
  if (type === 'private' || type === 'authenticated') {
    throw new HttpError(401, 'Unauthorized: this original needs a signed URL');
  }
  if (type !== 'upload') throw new HttpError(404, `The fake does not serve remote delivery type ${type}`);
  if (asset.processing) throw new HttpError(423, 'Resource is still being processed');
  if (!publiclyDeliverable(asset, ctx.now())) throw new HttpError(401, 'Resource is access-controlled: needs a token or a signed URL');
  if (ctx.settings.blockedFormats.has(formatOf(asset))) {
    throw new HttpError(401, `Delivery of ${formatOf(asset)} files is blocked for this account (Settings > Security)`);
  }
  const optimized = ctx.settings.optimizeByDefault && !transformation.original && asset.resourceType !== 'raw';
  await serve(ctx, req, res, asset, {}, optimized);
}

/**
 * The asset a delivery path names: the whole path as a public_id (a raw file keeps its
 * extension in it), else the path without its `.format` when that is the asset's format.
 */
function deliveredAsset(ctx: FakeContext, path: string, resourceType: string, type: string): MutableAsset | undefined {
  const asset = ctx.store.get(path, resourceType, type);
  if (asset && !asset.format) return asset;
  const dot = path.lastIndexOf('.');
  const candidate = dot > 0 ? ctx.store.get(path.slice(0, dot), resourceType, type) : undefined;
  return candidate && candidate.format.toLowerCase() === path.slice(dot + 1).toLowerCase() ? candidate : undefined;
}

/**
 * A signed delivery URL (`/<type>/s--SIG--/<transformation>/v<version>/<public_id>`), checked as
 * cloudinary_npm's utils.url builds it (lib/utils/index.js, `sign_url`): SIG is the first 8
 * characters of base64(sha1(to_sign + api_secret)) with `/`→`_` and `+`→`-`, where to_sign is the
 * transformation and the URL-encoded source joined by `/`, the version left out; `long_url_signature`
 * uses sha256 and 32 characters. Cloudinary answers a wrong signature with 401.
 */
function checkDeliverySignature(apiSecret: string, signature: string, after: readonly string[]): void {
  const at = after.findIndex((seg) => /^v\d+$/.test(seg));
  const transformation = at > 0 ? after.slice(0, at).join('/') : '';
  const source = (at >= 0 ? after.slice(at + 1) : after).join('/');
  const toSign = [transformation, source].filter((p) => p !== '').join('/') + apiSecret;
  const sig = signature.slice(3, -2);
  const algo = sig.length === 32 ? 'sha256' : 'sha1';
  const expected = createHash(algo).update(toSign).digest('base64').slice(0, sig.length).replace(/\//g, '_').replace(/\+/g, '-');
  if (sig !== expected) throw new HttpError(401, 'Invalid signature in the delivery URL');
}
