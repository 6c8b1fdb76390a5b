/** What a Cloudinary account may download from. */
export interface HostPolicy {
  readonly cloudName: string;
  /** The API origin (upload_prefix), where signed downloads go; its own scheme is allowed. */
  readonly apiOrigin: string;
  readonly secureDistribution?: string;
  readonly cname?: string;
  readonly privateCdn?: boolean;
}

/**
 * Why a URL is not a Cloudinary download URL for this account, or undefined when it is.
 * Allowed: https on res.cloudinary.com, the account's private CDN host, its secure_distribution
 * or cname, and the API origin exactly (scheme, host and port). Anything else — another host,
 * an IP literal, a metadata address, a file: URL, credentials in the URL — is refused.
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
  const allowed = new Set<string>(['res.cloudinary.com']);
  if (policy.privateCdn) allowed.add(`${policy.cloudName.toLowerCase()}-res.cloudinary.com`);
  if (policy.secureDistribution) allowed.add(policy.secureDistribution.toLowerCase());
  if (policy.cname) allowed.add(policy.cname.toLowerCase());
  return allowed.has(host) ? undefined : `host ${host} is not a Cloudinary host of this account`;
};
