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
 * - `refused-format`: a format the CDN refused earlier in this run (Free plans block PDF and
 *   archives, see FREE_PLAN_BLOCKED_FORMATS);
 * - `cdn-refused`: the CDN refused this asset's signed URL (401, or 404 for a blocked format).
 */
export type DownloadApiReason = 'access-control' | 'dot-segment' | 'refused-format' | 'cdn-refused';

/** What each reason means, for reports and logs. */
export const DOWNLOAD_API_REASONS: Readonly<Record<DownloadApiReason, string>> = {
  'access-control': 'access_control keeps it from anonymous delivery now (a token is needed, not a signature)',
  'dot-segment': 'its public_id has a "." or ".." segment, which a delivery URL cannot name',
  'refused-format': 'the CDN refused this format earlier in the run (a Free plan blocks PDF and archive delivery)',
  'cdn-refused': 'the CDN refused its signed delivery URL',
};

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
