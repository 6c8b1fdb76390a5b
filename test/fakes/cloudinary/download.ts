/**
 * The signed download API, `GET|HEAD /v1_1/:cloud/:resource_type/download?...`: what the SDK's
 * `utils.private_download_url` builds (cloudinary_npm lib/utils/index.js: api_key, public_id,
 * format, type, expires_at, attachment, timestamp, signature). It serves the original whatever
 * the asset's type, access mode or format (docs/commands.md, "How originals are fetched").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, decodeSeg } from '../http-util.ts';
import { checkSignedParams } from './auth.ts';
import { nowSeconds } from './context.ts';
import type { FakeContext } from './context.ts';
import { serve } from './serve.ts';
import { parseResourceType } from './store.ts';

/** Serves one signed download (`rtSeg`: the `:resource_type` path segment). */
export async function download(ctx: FakeContext, req: IncomingMessage, res: ServerResponse, url: URL, rtSeg: string): Promise<void> {
  const resourceType = parseResourceType(decodeSeg(rtSeg));
  const params: Record<string, string> = {};
  for (const [k, v] of url.searchParams) params[k] = v;
  checkSignedParams(ctx, params);
  // Whether the download endpoint counts against the hourly Admin API limit is not settled by
  // the docs (docs/commands.md, "How originals are fetched"); the fake takes the stricter reading: it does,
  // and a spent allowance answers 420. It sends no rate-limit headers: a client cannot rely on them.
  ctx.rate.charge();
  const expiresAt = params['expires_at'];
  if (expiresAt !== undefined && Number(expiresAt) < nowSeconds(ctx)) throw new HttpError(401, 'Download link expired');
  const publicId = params['public_id'] ?? '';
  const asset = ctx.store.get(publicId, resourceType, params['type'] ?? 'upload');
  const format = params['format'];
  if (!asset || (format !== undefined && format !== '' && format.toLowerCase() !== asset.format.toLowerCase())) {
    throw new HttpError(404, `Resource not found - ${publicId}`);
  }
  if (asset.processing) throw new HttpError(423, 'Resource is still being processed');
  const extra: Record<string, string> = {};
  if (params['attachment'] === 'true' || params['attachment'] === '1') {
    extra['Content-Disposition'] = `attachment; filename="${(publicId.split('/').pop() ?? 'file').replace(/"/g, '')}${asset.format ? `.${asset.format}` : ''}"`;
  }
  await serve(ctx, req, res, asset, extra);
}
