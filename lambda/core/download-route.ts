import type { Asset } from './asset.ts';
import { accessRestricted, hasDotSegment } from './asset.ts';

/**
 * Why an original comes from the signed download API (one Admin API call) instead of a signed
 * delivery URL (none):
 * - `access-control`: an `access_control` that keeps the asset from anonymous delivery now. Such
 *   an asset needs a token, not a signature (docs: control_access_to_media, "Access controlled
 *   media assets ... can only be viewed with an access token");
 * - `dot-segment`: a public_id with a `.` or `..` segment, which every URL parser resolves (see
 *   hasDotSegment);
 * - `empty-segment`: a public_id with an empty segment (`a//b`, a leading or trailing `/`), which
 *   the SDK's delivery URL cannot name: it collapses `//` (cloudinary_npm lib/utils/index.js
 *   finalize_source, `source.replace(/([^:])\/\//g, '$1/')`), so the URL would name another asset;
 * - `refused-format`: a format the CDN refused earlier in this run (Free plans block PDF and
 *   archives, see FREE_PLAN_BLOCKED_FORMATS);
 * - `cdn-refused`: the CDN refused this asset's signed URL (401, or 404 for a blocked format).
 */
export type DownloadApiReason = 'access-control' | 'dot-segment' | 'empty-segment' | 'refused-format' | 'cdn-refused';

/**
 * The reason an asset must take the download API, known from the listing alone (`now` for the
 * `access_control` windows), or undefined when a signed delivery URL serves it: every delivery
 * type (`upload`, `private`, `authenticated`) and `access_mode: authenticated` (Cloudinary's CLI
 * fetches these with `sign_url=True`: cloudinary-cli cloudinary_cli/utils/api_utils.py download_file).
 */
export const downloadApiReason = (
  asset: Pick<Asset, 'publicId'> & Partial<Pick<Asset, 'accessControl'>>,
  now = Date.now(),
): DownloadApiReason | undefined => {
  if (hasDotSegment(asset.publicId)) return 'dot-segment';
  if (asset.publicId.split('/').includes('')) return 'empty-segment';
  if (accessRestricted(asset.accessControl, now)) return 'access-control';
  return undefined;
};

/** One original the run fetched through the download API, and why (the report lists them). */
export interface ApiDownload {
  readonly publicId: string;
  readonly resourceType: string;
  readonly type: string;
  readonly reason: DownloadApiReason;
}
