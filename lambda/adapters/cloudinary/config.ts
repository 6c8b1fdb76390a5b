import { ConfigError } from '../../core/errors.ts';

/** The parts of a CLOUDINARY_URL. */
export interface CloudinaryConfig {
  readonly cloudName: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  /** API host origin, e.g. https://api.cloudinary.com (also where signed downloads go). */
  readonly uploadPrefix: string;
  readonly secureDistribution?: string;
  readonly cname?: string;
  readonly privateCdn: boolean;
}

const HOW_TO =
  'Set CLOUDINARY_URL to the "API environment variable" from the Cloudinary console, ' +
  'e.g. cloudinary://API_KEY:API_SECRET@CLOUD_NAME';

/**
 * Parses and validates a CLOUDINARY_URL. Throws a ConfigError naming what is wrong;
 * the message never contains the secret.
 */
export const parseCloudinaryUrl = (raw: string | undefined): CloudinaryConfig => {
  if (raw === undefined || raw.trim() === '') throw new ConfigError(`CLOUDINARY_URL is not set. ${HOW_TO}`);
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(`CLOUDINARY_URL is not a valid URL. ${HOW_TO}`);
  }
  if (url.protocol !== 'cloudinary:') {
    throw new ConfigError(`CLOUDINARY_URL must start with cloudinary:// (it starts with ${url.protocol}//). ${HOW_TO}`);
  }
  let apiKey: string;
  let apiSecret: string;
  try {
    apiKey = decodeURIComponent(url.username);
    apiSecret = decodeURIComponent(url.password);
  } catch {
    throw new ConfigError(`CLOUDINARY_URL has a malformed %-escape in the API key or secret; write "%" as %25. ${HOW_TO}`);
  }
  const cloudName = url.hostname;
  if (!cloudName) throw new ConfigError(`CLOUDINARY_URL has no cloud name after "@". ${HOW_TO}`);
  if (!apiKey) throw new ConfigError(`CLOUDINARY_URL has no API key. ${HOW_TO}`);
  if (!apiSecret) throw new ConfigError(`CLOUDINARY_URL has no API secret (expected API_KEY:API_SECRET). ${HOW_TO}`);
  const q = url.searchParams;
  const uploadPrefix = (q.get('upload_prefix') ?? 'https://api.cloudinary.com').replace(/\/+$/, '');
  let prefixUrl: URL;
  try {
    prefixUrl = new URL(uploadPrefix);
  } catch {
    throw new ConfigError('CLOUDINARY_URL has an upload_prefix that is not a URL (expected e.g. https://api.cloudinary.com).');
  }
  if (prefixUrl.protocol !== 'https:' && prefixUrl.protocol !== 'http:') {
    throw new ConfigError('CLOUDINARY_URL has an upload_prefix that is not http(s).');
  }
  const secureDistribution = q.get('secure_distribution') ?? undefined;
  const cname = q.get('cname') ?? undefined;
  return {
    cloudName,
    apiKey,
    apiSecret,
    uploadPrefix: prefixUrl.origin,
    privateCdn: q.get('private_cdn') === 'true',
    ...(secureDistribution ? { secureDistribution } : {}),
    ...(cname ? { cname } : {}),
  };
};
