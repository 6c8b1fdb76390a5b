import { createHash } from 'node:crypto';
import type { Asset } from './asset.ts';

/** S3's limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;
/**
 * Longest path segment we write as is. File systems (and s3rver, which stores keys as files)
 * refuse names over 255 bytes; one rule for every destination keeps keys identical everywhere.
 */
export const MAX_SEGMENT_BYTES = 200;
/** Folder (under `<resource_type>/<type>/`) of public_ids stored base64url-encoded. */
export const ENCODED_DIR = '_encoded';
/** Folder of public_ids too long even encoded: stored by hash, mapped back by the catalog. */
export const HASHED_DIR = '_hashed';

const CONTROL = /[\u0000-\u001f\u007f]/;
const SAFE_FORMAT = /^[A-Za-z0-9_-]{1,32}$/;

/** Strips leading and trailing slashes: `/a/b/` and `a/b` name the same prefix. */
export const normalizePrefix = (prefix: string): string => prefix.replace(/^\/+|\/+$/g, '');

const join = (prefix: string, rest: string): string => (prefix ? `${prefix}/${rest}` : rest);

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Why a public_id cannot be used as a key as it is, or undefined when it can. */
export const unsafeReason = (publicId: string, format: string): string | undefined => {
  if (publicId === '') return 'empty public_id';
  if (CONTROL.test(publicId)) return 'control character';
  if (publicId.includes('\\')) return 'backslash';
  const segments = publicId.split('/');
  if (segments.some((s) => s === '')) return 'empty path segment';
  if (segments.some((s) => s === '.' || s === '..')) return '"." or ".." path segment';
  if (segments[0] === ENCODED_DIR || segments[0] === HASHED_DIR) return 'reserved folder name';
  const last = segments[segments.length - 1] ?? '';
  if (segments.some((s) => bytes(s) > MAX_SEGMENT_BYTES)) return 'path segment too long';
  if (bytes(last) + (format === '' ? 0 : format.length + 1) > MAX_SEGMENT_BYTES) return 'file name too long';
  if (!publicId.isWellFormed()) return 'lone surrogate';
  if (format !== '' && !SAFE_FORMAT.test(format)) return 'unusual format';
  return undefined;
};

/** The base of every key of one resource type and delivery type. */
export const typeRoot = (prefix: string, resourceType: string, type: string): string =>
  join(normalizePrefix(prefix), `${resourceType}/${type}`);

/**
 * The backup key of an asset: `<prefix>/<resource_type>/<type>/<public_id>.<format>`
 * (no `.<format>` when the format is empty). A public_id that would make an unsafe key
 * is stored as `_encoded/<base64url in 160-char segments>[.<format>]`, reversible from
 * the key alone; one whose encoded key would pass 1,024 bytes is stored as
 * `_hashed/<sha256>[.<format>]`, and the catalog maps it back.
 */
export const keyFor = (
  prefix: string,
  asset: Pick<Asset, 'publicId' | 'resourceType' | 'type' | 'format'>,
): string => {
  const root = typeRoot(prefix, asset.resourceType, asset.type);
  const format = asset.format ?? '';
  const plain = `${root}/${asset.publicId}${format ? `.${format}` : ''}`;
  const reason = unsafeReason(asset.publicId, format);
  if (reason === undefined && bytes(plain) <= MAX_KEY_BYTES) return plain;
  const ext = format !== '' && SAFE_FORMAT.test(format) ? `.${format}` : '';
  const encoded = Buffer.from(asset.publicId, 'utf8').toString('base64url');
  // 160 characters + `.<format>` keeps every segment under the 200-byte rule.
  const chunks = encoded.match(/.{1,160}/g) ?? [''];
  const encodedKey = `${root}/${ENCODED_DIR}/${chunks.join('/')}${ext}`;
  if (bytes(encodedKey) <= MAX_KEY_BYTES && encoded !== '') return encodedKey;
  const hash = createHash('sha256').update(asset.publicId, 'utf8').digest('hex');
  return `${root}/${HASHED_DIR}/${hash}${ext}`;
};

/**
 * The public_id stored in an `_encoded` key, or undefined for any other key
 * (plain keys need the format to split off the extension; hashed keys need the catalog).
 */
export const decodeEncodedKey = (prefix: string, key: string): string | undefined => {
  const p = normalizePrefix(prefix);
  const rest = p ? (key.startsWith(`${p}/`) ? key.slice(p.length + 1) : undefined) : key;
  if (rest === undefined) return undefined;
  const parts = rest.split('/');
  if (parts.length < 4 || parts[2] !== ENCODED_DIR) return undefined;
  const body = parts.slice(3).join('');
  const withoutExt = body.replace(/\.[A-Za-z0-9_-]{1,32}$/, '');
  return Buffer.from(withoutExt, 'base64url').toString('utf8');
};

/** Where the catalog lives under a prefix; never a resource type, so never mistaken for an asset. */
export const catalogRoot = (prefix: string): string => join(normalizePrefix(prefix), '_catalog');

/** Where the copy records of every run live (lambda/store/copy-record.ts): beside the catalog, never an asset. */
export const copyRecordRoot = (prefix: string): string => `${catalogRoot(prefix)}/copies`;

/** Where retired originals live under a prefix (docs/history.md); never a resource type. */
export const historyRoot = (prefix: string): string => join(normalizePrefix(prefix), '_history');

/**
 * Where the bytes `key` held at Cloudinary version `version` go when retired (docs/history.md,
 * "Layout"): `_history/<hh>/<keyhash>/<version>`, keyhash 32 hex digits of the sha256 of the key
 * relative to the prefix, hh its first two. Short whatever the key (which may be 1,024 bytes
 * already), and found again from the catalog entry alone: key and version name the bytes.
 */
export const historyKey = (prefix: string, key: string, version: number): string => {
  const p = normalizePrefix(prefix);
  const rel = p && key.startsWith(`${p}/`) ? key.slice(p.length + 1) : key;
  const h = createHash('sha256').update(rel).digest('hex').slice(0, 32);
  return `${historyRoot(prefix)}/${h.slice(0, 2)}/${h}/${version}`;
};

/** Where run reports live under a prefix. */
export const reportsRoot = (prefix: string): string => join(normalizePrefix(prefix), '_reports');
