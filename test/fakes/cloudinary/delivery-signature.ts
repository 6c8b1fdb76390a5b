/**
 * The signature component of a delivery URL (`/<resource_type>/<type>/s--SIG--/...`), checked the
 * way cloudinary_npm's `utils.url` makes it with `sign_url: true` (lib/utils/index.js `url()`),
 * written here independently of the SDK so that a client that signs wrongly is caught:
 *   to_sign = [transformation, source].filter(non-empty).join('/'), where source is the URL-encoded
 *             public_id with its `.format`, and the `v<version>` component is left out;
 *   SIG     = base64(hash(to_sign + api_secret)) cut to 8 characters (32 with
 *             `long_url_signature`, which is SHA-256), then `/` -> `_` and `+` -> `-`.
 * The hash is SHA-1 unless the account signs with SHA-256 (the SDK's `signature_algorithm`).
 * Docs, delivery_url_signatures: "a signature component of the format /s--SIGNATURE--/ that is
 * based on the Public ID and any transformations ... The SIGNATURE is the first 8 characters of a
 * URL-safe base64 message digest (hash value) created with an SHA (Secure Hash Algorithm)".
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from '../http-util.ts';

/** The hash an account signs delivery URLs with (8-character signatures). */
export type UrlSignatureAlgorithm = 'sha1' | 'sha256';

/** The `s--SIG--` segment, if `seg` is one (8 or 32 URL-safe base64 characters). */
export function signatureOf(seg: string | undefined): string | undefined {
  const m = seg === undefined ? null : /^s--([\w-]{8}|[\w-]{32})--$/.exec(seg);
  return m ? m[1] : undefined;
}

/** The signature a delivery URL should carry for the path after its signature segment. */
export function expectedSignature(apiSecret: string, after: readonly string[], length: 8 | 32, algorithm: UrlSignatureAlgorithm): string {
  const at = after.findIndex((seg) => /^v\d+$/.test(seg));
  const transformation = at > 0 ? after.slice(0, at).join('/') : '';
  const source = (at >= 0 ? after.slice(at + 1) : after).join('/');
  const toSign = [transformation, source].filter((p) => p !== '').join('/') + apiSecret;
  const algo = length === 32 ? 'sha256' : algorithm;
  return createHash(algo).update(toSign).digest('base64').slice(0, length).replace(/\//g, '_').replace(/\+/g, '-');
}

/**
 * Checks a signature against the path after it; a wrong one is refused with 401, as Cloudinary
 * refuses a delivery it does not authorize (support article "How do I prevent users for
 * generating image and video transformations...": "Status:401 Unauthorized", with the reason in
 * `X-Cld-Error`, which the router adds).
 */
export function checkDeliverySignature(apiSecret: string, signature: string, after: readonly string[], algorithm: UrlSignatureAlgorithm): void {
  const expected = expectedSignature(apiSecret, after, signature.length === 32 ? 32 : 8, algorithm);
  const ok = expected.length === signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
  if (!ok) throw new HttpError(401, 'Invalid signature in the delivery URL');
}

/**
 * Strict transformations: "When this option is turned on, only signed transformations,
 * pre-generated eager transformations, or those specifically set as allowed ... can be
 * delivered" (docs: developer_onboarding_faq_account_security); "Blocks on-the-fly
 * transformations unless explicitly allowed (via eager, signed, or referral-domain sources)"
 * (docs: control_access_to_media). A refused one answers 401 with "Transformation ... is not
 * allowed" (the support article above). The fake takes the stricter reading for `fl_original`
 * (which "does not count as a transformation" for optimization): unsigned, it is refused too.
 */
export function checkStrictTransformation(components: readonly string[], signed: boolean): void {
  if (signed || components.length === 0) return;
  throw new HttpError(401, `Transformation ${components.join('/')} is not allowed`);
}
