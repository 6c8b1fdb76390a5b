/** What a Cloudinary account may download from. */
export interface HostPolicy {
  readonly cloudName: string;
  /** The API origin (upload_prefix), where signed downloads go; its own scheme is allowed. */
  readonly apiOrigin: string;
  /** A custom delivery host the configuration names (CLOUDINARY_URL `secure_distribution`). */
  readonly secureDistribution?: string;
  /** A CNAME the configuration names (CLOUDINARY_URL `cname`). */
  readonly cname?: string;
}

/**
 * Why a URL is not a Cloudinary download URL for this account, or undefined when it is.
 * Allowed: https on res.cloudinary.com, on the account's private-CDN host
 * `<cloud>-res.cloudinary.com` (always: the console's "API environment variable" never carries
 * `private_cdn=true`, and the host belongs to this cloud by its name — cloudinary_npm
 * lib/utils/index.js unsigned_url_prefix builds it as `cloud_name + "-res.cloudinary.com"`), on
 * the secure_distribution or cname only when the configuration names it, and the API origin
 * exactly (scheme, host and port). A host is never trusted because a response names it: the
 * policy comes from configuration alone. Anything else — another host, an IP literal, a
 * metadata address, a file: URL, credentials in the URL — is refused.
 */
export const refuseUrl = (raw: string, policy: HostPolicy): string | undefined => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not a valid URL';
  }
  if (url.username || url.password) return 'URL carries credentials';
  const api = new URL(policy.apiOrigin);
  if (url.protocol === api.protocol && url.host === api.host) return undefined;
  if (url.protocol !== 'https:') return `scheme ${url.protocol} is not allowed (only https)`;
  if (url.port !== '') return `port ${url.port} is not allowed`;
  const host = url.hostname.toLowerCase();
  const allowed = new Set<string>(['res.cloudinary.com', `${policy.cloudName.toLowerCase()}-res.cloudinary.com`]);
  if (policy.secureDistribution) allowed.add(policy.secureDistribution.toLowerCase());
  if (policy.cname) allowed.add(policy.cname.toLowerCase());
  return allowed.has(host) ? undefined : `host ${host} is not a Cloudinary host of this account`;
};
