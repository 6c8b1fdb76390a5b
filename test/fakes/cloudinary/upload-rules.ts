/**
 * The Upload API's rules on what it stores: public_id naming, the plan's media limits, and the
 * placement and moderation parameters. Each cites the page or source it follows.
 */
import { HttpError } from '../http-util.ts';
import type { FakeAccessRule, FakeAssetSpec } from './types.ts';

/**
 * Cloudinary's public_id rules at upload (docs, "Permitted naming conventions",
 * cloudinary.com/documentation/ts_permitted_naming_conventions): 1 to 255 characters;
 * `?&#\\%<>+` "utterly forbidden"; leading and trailing whitespace and `/` "will be omitted"
 * (trimmed here, so the asset is stored under another name, as the page says); no folder named
 * `v` + digits. Refusals use the wording users quote, "public_id (...) is invalid"
 * (paperclip-cloudinary issues #7 and #10), with the rule added. Where the page says "other
 * special characters will be replaced with underscores" the fake replaces nothing: real public_ids
 * keep spaces and commas (cloudinary_php #77, #361), and which others are meant is not said.
 * Returns the public_id Cloudinary stores.
 */
export function checkPublicId(requested: string): string {
  const publicId = requested.replace(/^[\s/]+|[\s/]+$/gu, '');
  const invalid = (why: string): HttpError => new HttpError(400, `public_id (${requested}) is invalid: ${why}`);
  const length = [...publicId].length;
  if (length < 1 || length > 255) throw invalid(`it must have 1 to 255 characters, not ${length}`);
  const bad = /[?&#\\%<>+]/u.exec(publicId);
  if (bad) throw invalid(`the character ${bad[0]} is forbidden`);
  const folder = publicId.split('/').slice(0, -1).find((seg) => /^v\d+$/.test(seg));
  if (folder !== undefined) throw invalid(`a folder may not be named ${folder}`);
  return publicId;
}

/**
 * The plan's `media_limits` (the fake's `GET /usage`; Free plan: 10 MB images and raw files,
 * 100 MB videos, docs "Upload limits"): a larger file is refused with Cloudinary's message.
 */
export function checkMediaLimit(usage: Record<string, unknown>, rtParam: string, size: number): void {
  const limits = (usage['media_limits'] ?? {}) as Record<string, unknown>;
  const limit = limits[`${rtParam === 'auto' ? 'image' : rtParam}_max_size_bytes`];
  if (typeof limit === 'number' && size > limit) throw new HttpError(400, `File size too large. Got ${size}. Maximum is ${limit}.`);
}

/**
 * Where and how an upload is kept: Upload API reference — `asset_folder` and `display_name`
 * (dynamic folders), `access_mode` ("public" or "authenticated"), `access_control` (a JSON array
 * of rules; the SDK serializes it with JSON.stringify, cloudinary_npm lib/utils build_upload_params).
 */
export function uploadPlacement(fields: Record<string, string>): Partial<FakeAssetSpec> {
  const out: Partial<FakeAssetSpec> = {};
  if (fields['asset_folder'] !== undefined) out.assetFolder = fields['asset_folder'];
  if (fields['display_name'] !== undefined) out.displayName = fields['display_name'];
  const mode = fields['access_mode'];
  if (mode !== undefined) {
    if (mode !== 'public' && mode !== 'authenticated') throw new HttpError(400, `Invalid access_mode ${mode}`);
    out.accessMode = mode;
  }
  const ac = fields['access_control'];
  if (ac !== undefined) {
    let rules: unknown;
    try {
      rules = JSON.parse(ac);
    } catch {
      throw new HttpError(400, 'Invalid access_control: not JSON');
    }
    const list = Array.isArray(rules) ? rules : [rules];
    for (const r of list) {
      const t = (r as { access_type?: unknown } | null)?.access_type;
      if (t !== 'token' && t !== 'anonymous') throw new HttpError(400, `Invalid access_control access_type ${String(t)}`);
    }
    out.accessControl = list as FakeAccessRule[];
  }
  return out;
}

/**
 * Upload API `moderation`: `manual` puts the asset in the manual queue as `pending` and needs no
 * add-on; any other value names an add-on that must be registered first, refused here as in an
 * account without it ("You don't have an active subscription for <add-on name>"). Source:
 * cloudinary_npm docs/moderate-upload.md.
 */
export function uploadModeration(fields: Record<string, string>): Partial<FakeAssetSpec> {
  const kind = fields['moderation'];
  if (kind === undefined) return {};
  if (kind !== 'manual') throw new HttpError(400, `You don't have an active subscription for ${kind}`);
  return { moderationStatus: 'pending' };
}
