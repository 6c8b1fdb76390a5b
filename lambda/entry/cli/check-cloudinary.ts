import { AdminApi } from '../../adapters/cloudinary/api-client.ts';
import { parseCloudinaryUrl } from '../../adapters/cloudinary/config.ts';
import { ConfigError, messageOf } from '../../core/errors.ts';

/** What setup learned from the one Admin API call. */
export interface CheckedAccount {
  readonly cloudName: string;
  /** The last 4 characters of the API key (enough to tell keys apart; the key itself is not shown). */
  readonly keyHint: string;
  readonly creditsUsed?: number;
  readonly creditLimit?: number;
  readonly plan?: string;
}

/**
 * Which part of a CLOUDINARY_URL a 401 names. Real Cloudinary answers an unknown cloud with
 * "Invalid cloud_name X" (seen in urre/kap-cloudinary#5, jerocosio/autoform-cloudinary#20), an
 * unknown key with "Unknown API key X" (cloudinary/cloudinary_npm#214, #288), and a wrong
 * secret on the Admin API's Basic auth with "api_secret mismatch" (the Upload API says
 * "Invalid Signature" instead, cloudinary_npm#59). The project's fake says "Invalid api_key X"
 * and "Invalid api_key or api_secret ..." (test/fakes/cloudinary/auth.ts checkBasicAuth);
 * both wordings are read.
 */
export const refusedPart = (message: string): 'cloud' | 'key' | 'secret' | undefined => {
  if (/cloud_name|cloud name/i.test(message)) return 'cloud';
  if (/api_secret|signature/i.test(message)) return 'secret';
  if (/unknown api key|invalid api_key/i.test(message)) return 'key';
  return undefined;
};

const refusal = (part: ReturnType<typeof refusedPart>, cloud: string, hint: string, message: string): ConfigError => {
  const console = 'the Cloudinary console (Settings > API Keys)';
  if (part === 'cloud') return new ConfigError(`Cloudinary does not know the cloud name "${cloud}": copy it from ${console} into CLOUDINARY_URL after "@".`);
  if (part === 'key') return new ConfigError(`Cloudinary does not know the API key ending ${hint} on cloud "${cloud}": copy the key from ${console}.`);
  if (part === 'secret') {
    return new ConfigError(`Cloudinary refused the API secret for the key ending ${hint} on cloud "${cloud}": copy the secret again from ${console} (if it is right, check the cloud name).`);
  }
  return new ConfigError(`Cloudinary refused these credentials (401: ${message}): check the cloud name, API key and API secret in ${console}.`);
};

/**
 * Checks a CLOUDINARY_URL with one Admin API call (GET /usage, which also tells the plan's
 * credits). Throws a ConfigError naming the wrong part; nothing it throws contains the secret.
 */
export const checkCloudinary = async (url: string): Promise<CheckedAccount> => {
  const config = parseCloudinaryUrl(url);
  const keyHint = config.apiKey.slice(-4);
  let usage: Record<string, unknown>;
  try {
    // The project's own client, as for every Admin API call (api-client.ts): same request and
    // same rejection shapes as the SDK's `api.usage()`.
    usage = await new AdminApi(config).usage();
  } catch (err) {
    const e = err as { error?: { http_code?: number }; http_code?: number };
    const code = e.error?.http_code ?? e.http_code;
    const message = messageOf(err).split(config.apiSecret).join('***');
    if (code === 401) throw refusal(refusedPart(message), config.cloudName, keyHint, message);
    throw new Error(`could not check the credentials with Cloudinary (${code ? `HTTP ${code}: ` : ''}${message}); try again, or check your network.`);
  }
  const credits = usage.credits as { usage?: number; limit?: number } | undefined;
  return {
    cloudName: config.cloudName,
    keyHint,
    ...(typeof credits?.usage === 'number' ? { creditsUsed: credits.usage } : {}),
    ...(typeof credits?.limit === 'number' ? { creditLimit: credits.limit } : {}),
    ...(typeof usage.plan === 'string' ? { plan: usage.plan } : {}),
  };
};
