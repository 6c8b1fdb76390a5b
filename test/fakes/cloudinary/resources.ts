/**
 * Admin API resource details and update (`GET|POST /v1_1/:cloud/resources/:resource_type/:type/:public_id`)
 * and the resource JSON that listings, details and uploads share.
 */
import type { IncomingMessage } from 'node:http';
import { HttpError, decodeSeg, readBody } from '../http-util.ts';
import type { FakeContext } from './context.ts';
import { encodePublicId } from './params.ts';
import { parseResourceType } from './store.ts';
import type { FakeAsset, MutableAsset } from './types.ts';

/** Which optional parts a resource's JSON carries (listing flags; details and uploads carry all). */
export interface ResourceFlags {
  tags: boolean;
  context: boolean;
  metadata: boolean;
  moderations?: boolean;
}

/** An asset as the Admin API lists it. */
export function resourceJson(ctx: FakeContext, a: FakeAsset, flags: ResourceFlags): Record<string, unknown> {
  const path = `${ctx.cloudName}/${a.resourceType}/${a.type}/v${a.version}/${encodePublicId(a.publicId)}${a.format ? `.${a.format}` : ''}`;
  const body: Record<string, unknown> = { asset_id: a.assetId, public_id: a.publicId };
  if (a.format) body['format'] = a.format;
  Object.assign(body, {
    version: a.version,
    resource_type: a.resourceType,
    type: a.type,
    created_at: a.createdAt,
    bytes: a.bytes,
  });
  if (a.width !== undefined) Object.assign(body, { width: a.width, height: a.height });
  // Dynamic folders (accounts since mid-2024): asset_folder and display_name are their own
  // fields, the public_id carries neither (docs: "Dynamic folders"; cloudinary-cli clone.py).
  Object.assign(body, {
    asset_folder: a.assetFolder,
    display_name: a.displayName,
    access_mode: a.accessMode,
    url: `http://res.cloudinary.com/${path}`,
    secure_url: a.secureUrlOverride ?? `${ctx.origin()}/${path}`,
  });
  if (a.accessControl && a.accessControl.length > 0) body['access_control'] = a.accessControl.map((r) => ({ ...r }));
  if (flags.moderations && a.moderationStatus !== undefined) body['moderation_status'] = a.moderationStatus;
  // An upload still processing is listed as a placeholder with status "pending".
  if (a.processing) Object.assign(body, { placeholder: true, status: 'pending' });
  if (flags.tags) body['tags'] = [...a.tags];
  if (flags.context && Object.keys(a.context).length > 0) body['context'] = { custom: { ...a.context } };
  if (flags.metadata && Object.keys(a.metadata).length > 0) body['metadata'] = { ...a.metadata };
  return body;
}

/** The asset a `/resources/:resource_type/:type/:public_id` path names; 404 when there is none. */
function namedAsset(ctx: FakeContext, rest: string[]): MutableAsset {
  const resourceType = parseResourceType(decodeSeg(rest[1] ?? ''));
  const type = decodeSeg(rest[2] ?? '');
  const publicId = rest.slice(3).map(decodeSeg).join('/');
  const asset = ctx.store.get(publicId, resourceType, type);
  if (!asset) throw new HttpError(404, `Resource not found - ${publicId}`);
  return asset;
}

/** Admin API resource details: every optional part, and `derived` (none here). */
export function resourceDetails(ctx: FakeContext, rest: string[]): Record<string, unknown> {
  const asset = namedAsset(ctx, rest);
  return { ...resourceJson(ctx, asset, { tags: true, context: true, metadata: true }), derived: [] };
}

/**
 * Admin API `update` (`POST /resources/:resource_type/:type/:public_id`, form-encoded: the SDK's
 * default for Admin calls, cloudinary_npm lib/api_client/execute_request.js), for the one
 * parameter restore sends: `moderation_status` = approved | rejected (cloudinary_npm lib/api.js
 * update; docs/moderate-upload.md). The fake refuses it on an asset that is not under
 * moderation: no source says what Cloudinary does then, and the documented flow uploads with
 * `moderation: manual` first, which is what this stricter reading makes a test check.
 */
export async function updateResource(ctx: FakeContext, req: IncomingMessage, rest: string[]): Promise<Record<string, unknown>> {
  const asset = namedAsset(ctx, rest);
  const params = new URLSearchParams((await readBody(req, 1024 * 1024)).toString('utf8'));
  const status = params.get('moderation_status');
  if (status === null) throw new HttpError(400, 'The fake models only the moderation_status parameter of update');
  if (status !== 'approved' && status !== 'rejected') throw new HttpError(400, `Invalid moderation_status ${status}`);
  if (asset.moderationStatus === undefined) throw new HttpError(400, `Resource ${asset.publicId} is not under moderation`);
  asset.moderationStatus = status;
  return { ...resourceJson(ctx, asset, { tags: true, context: true, metadata: true }), moderation: [{ kind: 'manual', status }] };
}
