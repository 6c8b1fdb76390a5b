/**
 * Cloudinary request signing, written independently of the SDK (so the fake can catch an SDK
 * or engine that signs wrongly). Documented algorithm ("signature version 2"):
 *   1. take every parameter except the excluded ones (file, cloud_name, resource_type,
 *      api_key, signature), drop empty values;
 *   2. sort by key (code-point order), render each as `k=v` with `&` in it replaced by `%26`;
 *   3. join with `&`, append the api_secret, hash (SHA-1 hex; SHA-256 when configured).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Parameters that never take part in a signature. */
export const UNSIGNED_PARAMS: ReadonlySet<string> = new Set([
  'file',
  'cloud_name',
  'resource_type',
  'api_key',
  'signature',
]);

export type SignatureAlgorithm = 'sha1' | 'sha256';

/** The exact string Cloudinary signs (before the secret is appended). */
export function stringToSign(params: Readonly<Record<string, string | undefined>>): string {
  const pairs: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(params)) {
    if (UNSIGNED_PARAMS.has(key) || value === undefined || value === '') continue;
    pairs.push([key, value]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`.replace(/&/g, '%26')).join('&');
}

/** Hex signature of `params` with `secret`. */
export function signParams(
  params: Readonly<Record<string, string | undefined>>,
  secret: string,
  algorithm: SignatureAlgorithm = 'sha1',
): string {
  return createHash(algorithm).update(stringToSign(params) + secret).digest('hex');
}

export interface SignatureCheck {
  ok: boolean;
  /** What was signed, for the error message (Cloudinary echoes it; it holds no secret). */
  stringToSign: string;
}

/**
 * Checks `params.signature` against the secret. A 40-hex signature is SHA-1, a 64-hex one is
 * SHA-256 (Cloudinary accepts SHA-256 when the account is configured for it).
 */
export function verifySignature(
  params: Readonly<Record<string, string | undefined>>,
  secret: string,
): SignatureCheck {
  const given = (params['signature'] ?? '').toLowerCase();
  const algorithm: SignatureAlgorithm = given.length === 64 ? 'sha256' : 'sha1';
  const toSign = stringToSign(params);
  const expected = createHash(algorithm).update(toSign + secret).digest('hex');
  const ok =
    given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
  return { ok, stringToSign: toSign };
}
