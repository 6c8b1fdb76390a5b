/**
 * What real accounts do to public delivery that the fake models: formats a Free plan blocks,
 * access control, "optimize by default", and the transformation component of a URL. Each cites
 * the page or source it follows.
 */
import { HttpError } from '../http-util.ts';
import type { FakeAccessRule } from './types.ts';

/**
 * Formats a Free plan blocks from delivery by default. Docs, "Image optimization and
 * delivery": "the following file formats are, by default, blocked for delivery for FREE
 * accounts: ZIP, RAR, TAGZ, and other archive formats; PDF". The delivery answers 401
 * (cloudinary_npm#478 and later user reports; cloudinary_wordpress#361 saw 404 in 2021).
 */
export const FREE_PLAN_BLOCKED = ['pdf', 'zip', 'rar', 'tar', 'tgz', 'tagz', 'gz', '7z'] as const;

/**
 * Whether `access_control` lets anyone fetch an asset now: Upload API reference,
 * `access_control` ("access is granted if any of the rules allows it"; `anonymous` with optional
 * start/end, `token` needs a token). A signature does not stand in for the token: "Access
 * controlled media assets ... can only be viewed with an access token, except during an optional
 * time-limited date range when the asset is defined as publicly accessible" (docs:
 * control_access_to_media).
 */
export function accessControlOpen(asset: { accessControl?: readonly FakeAccessRule[] }, nowMs: number): boolean {
  const rules = asset.accessControl ?? [];
  if (rules.length === 0) return true;
  return rules.some(
    (r) =>
      r.access_type === 'anonymous' &&
      (r.start === undefined || Date.parse(r.start) <= nowMs) &&
      (r.end === undefined || Date.parse(r.end) > nowMs),
  );
}

/**
 * Whether the original needs a signed URL: the `private` type ("Requires a signed URL to access
 * the original asset"), the `authenticated` type ("Requires a signed URL to access both original
 * and derived assets"; docs: control_access_to_media, "Restrictive delivery types"), and
 * `access_mode: authenticated`, an `upload` asset that behaves as the authenticated type
 * (Upload API reference, `access_mode`; Cloudinary's CLI signs it: cloudinary-cli
 * cloudinary_cli/utils/api_utils.py download_file).
 */
export function needsSignature(type: string, asset: { accessMode?: string }): boolean {
  return type === 'private' || type === 'authenticated' || asset.accessMode === 'authenticated';
}

/** The format a delivery URL names: the listed format, or a raw public_id's extension. */
export function formatOf(asset: { format: string; publicId: string }): string {
  if (asset.format) return asset.format.toLowerCase();
  const last = asset.publicId.split('/').pop() ?? '';
  const dot = last.lastIndexOf('.');
  return dot > 0 ? last.slice(dot + 1).toLowerCase() : '';
}

/**
 * What an "optimize by default" account serves on an un-transformed image or video URL: docs,
 * "Optimize by default settings" — automatic format and quality apply to every delivered image
 * or video unless the URL carries the `original` flag (`fl_original`). Modelled as different,
 * shorter bytes (a re-encoding), deterministic from the original.
 */
export function* reencoded(chunks: Iterable<Buffer>): Generator<Buffer> {
  for (const chunk of chunks) {
    const half = Buffer.from(chunk.subarray(0, Math.ceil(chunk.length / 2)));
    for (let i = 0; i < half.length; i += 1) half[i] = (half[i] as number) ^ 0x5a;
    yield half;
  }
}

/**
 * The transformation component of a delivery URL path (after `<resource_type>/<type>/` and an
 * optional signature), read only before a `v<version>` segment: without a version a folder
 * named like `ab_cd` would be taken for a transformation, which Cloudinary resolves the same way
 * (docs, "Transformation URL structure": version after the transformations). Supported: the
 * `fl_original` flag. Any other component is refused with 400, as Cloudinary refuses an
 * unknown one (support article "Why is my asset returning a 40X error": invalid transformation
 * -> 400).
 */
export function takeTransformation(segs: string[]): { original: boolean; components: string[]; rest: string[] } {
  const at = segs.findIndex((s) => /^v\d+$/.test(s));
  if (at <= 0 || at === segs.length - 1) return { original: false, components: [], rest: segs };
  let original = false;
  for (const seg of segs.slice(0, at)) {
    for (const p of seg.split(',')) {
      if (p === 'fl_original') original = true;
      else throw new HttpError(400, `Invalid transformation component ${p}`);
    }
  }
  return { original, components: segs.slice(0, at), rest: segs.slice(at) };
}
