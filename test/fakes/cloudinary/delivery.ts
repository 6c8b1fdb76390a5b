/**
 * Delivery, what `secure_url` points at: `GET|HEAD /:cloud/:resource_type/:type/[s--SIG--/]
 * [<transformation>/][v123/]:public_id[.:format]` (on res.cloudinary.com for real accounts; the
 * fake serves it on its own origin). A signature is checked whenever one is given
 * (delivery-signature.ts); private, authenticated and access_mode authenticated originals need
 * one, and so does a transformation when the account has strict transformations on. Errors also
 * go in `X-Cld-Error`, as the CDN sends them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, decodeSeg } from '../http-util.ts';
import type { FakeContext } from './context.ts';
import { accessControlOpen, formatOf, needsSignature, takeTransformation } from './delivery-rules.ts';
import { checkDeliverySignature, checkStrictTransformation, signatureOf } from './delivery-signature.ts';
import { serve } from './serve.ts';
import { parseResourceType } from './store.ts';
import type { MutableAsset } from './types.ts';

/** Serves one delivery URL (`segs`: the path after the cloud name). */
export async function delivery(ctx: FakeContext, req: IncomingMessage, res: ServerResponse, segs: string[]): Promise<void> {
  const resourceType = parseResourceType(decodeSeg(segs[0] ?? ''));
  const type = decodeSeg(segs[1] ?? '');
  let rest = segs.slice(2);
  const signature = signatureOf(rest[0]);
  if (signature !== undefined) {
    checkDeliverySignature(ctx.apiSecret, signature, rest.slice(1), ctx.settings.urlSignatureAlgorithm);
    rest = rest.slice(1);
  }
  const signed = signature !== undefined;
  const transformation = takeTransformation(rest);
  rest = transformation.rest;
  if (rest.length > 1 && /^v\d+$/.test(rest[0] ?? '')) rest = rest.slice(1);
  const asset = deliveredAsset(ctx, rest.map(decodeSeg).join('/'), resourceType, type);
  if (!asset) throw new HttpError(404, 'Resource not found');
  if (type !== 'upload' && type !== 'private' && type !== 'authenticated') throw new HttpError(404, `The fake does not serve remote delivery type ${type}`);
  if (needsSignature(type, asset) && !signed) throw new HttpError(401, 'Unauthorized: this original needs a signed URL');
  if (ctx.settings.strictTransformations && asset.resourceType !== 'raw') checkStrictTransformation(transformation.components, signed);
  if (asset.processing) throw new HttpError(423, 'Resource is still being processed');
  if (!accessControlOpen(asset, ctx.now())) throw new HttpError(401, 'Resource is access-controlled: needs an access token');
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
