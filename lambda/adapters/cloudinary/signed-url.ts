import type { Asset } from '../../core/asset.ts';
import type { CloudinaryV2 } from './sdk.ts';

/** Where a URL's path starts (after `scheme://userinfo@host:port`), or -1. */
const pathStart = (url: string): number => {
  const scheme = url.indexOf('://');
  return scheme < 0 ? -1 : url.indexOf('/', scheme + 3);
};

/**
 * The format a delivery URL names. Images and videos: the listed format (their public_id has no
 * extension). Raw files: "accessed using only public_id" (cloudinary-cli
 * cloudinary_cli/utils/api_utils.py asset_source), whose extension is part of it; a raw format is
 * added only when the public_id does not already end with it.
 */
const formatFor = (asset: Asset): string | undefined => {
  if (!asset.format) return undefined;
  if (asset.resourceType !== 'raw') return asset.format;
  return asset.publicId.toLowerCase().endsWith(`.${asset.format.toLowerCase()}`) ? undefined : asset.format;
};

/**
 * The signed delivery URL of an original, as Cloudinary's own CLI fetches originals
 * (cloudinary-cli cloudinary_cli/utils/api_utils.py download_file: `cloudinary_url(...,
 * sign_url=True)` then a plain GET; the CLI signs private, authenticated and access_mode
 * authenticated assets, we sign every one so that strict transformations cannot refuse it).
 *
 * The SDK computes the URL and its `s--SIGNATURE--` component (cloudinary_npm lib/utils/index.js
 * `url()` with `sign_url: true`: the first 8 characters of URL-safe base64 of SHA-1 over
 * `<transformation>/<public_id>[.<format>]` + api_secret, the version left out; SHA-256 when the
 * configuration sets `signature_algorithm: sha256`, 32 characters with `long_url_signature`).
 * Images and videos carry the `original` flag (`fl_original`): on "optimize by default" accounts
 * an un-transformed URL is served with automatic format and quality, and the flag "does not count
 * as a transformation and does not invoke default image/video quality" (docs: "Optimize by
 * default settings"); it is inside the signature, so strict transformations let it through
 * ("only signed transformations, pre-generated eager transformations, or those specifically set
 * as allowed ... can be delivered", docs: developer_onboarding_faq_account_security).
 *
 * The host is the listed secure_url's: everything before its `/<resource_type>/<type>/` (scheme,
 * host, port, and the cloud name on the shared CDN) is kept, the rest comes from the SDK, so a
 * private CDN or a custom distribution is used as listed and the host policy (core/hosts.ts)
 * judges the host the listing named. A secure_url without that marker is returned as listed, for
 * the policy to judge: it is not a delivery URL of this asset.
 */
export const signedDeliveryUrl = (utils: Pick<CloudinaryV2['utils'], 'url'>, asset: Asset): string => {
  const transformable = asset.resourceType === 'image' || asset.resourceType === 'video';
  const format = formatFor(asset);
  // The SDK takes its input as possibly URL-encoded (lib/utils/index.js finalize_source:
  // `encodeURIComponent(decodeURIComponent(source))`): a literal `%` (outside Cloudinary's naming
  // rules today, held by older assets) would throw "URI malformed" or name another asset, so it
  // is handed over escaped; every other public_id goes in unchanged.
  const sdkUrl = utils.url(asset.publicId.replace(/%/g, '%25'), {
    resource_type: asset.resourceType,
    type: asset.type,
    version: String(asset.version),
    sign_url: true,
    secure: true,
    // The SDK appends `?_a=<analytics>` by default; a download needs no tracking parameter.
    urlAnalytics: false,
    ...(transformable ? { flags: 'original' } : {}),
    ...(format ? { format } : {}),
  });
  const marker = `/${asset.resourceType}/${asset.type}/`;
  const listed = asset.secureUrl;
  const listedPath = pathStart(listed);
  const sdkPath = pathStart(sdkUrl);
  const at = listedPath < 0 ? -1 : listed.indexOf(marker, listedPath);
  const from = sdkPath < 0 ? -1 : sdkUrl.indexOf(marker, sdkPath);
  if (at < 0 || from < 0) return listed;
  return listed.slice(0, at) + sdkUrl.slice(from);
};
