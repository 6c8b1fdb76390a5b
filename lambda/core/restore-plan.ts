import type { UploadedFields } from './upload-params.ts';
import { ENCODED_DIR, HASHED_DIR, decodeEncodedKey, normalizePrefix } from './keys.ts';

/** What restore needs to know about one asset to upload it again. */
export interface RestoreItem extends UploadedFields {
  /** Where its bytes are in the backup. */
  readonly key: string;
  /** Size of the object at `key` (what is uploaded). */
  readonly length: number;
  /** The moderation status the catalog recorded (`pending`, `approved`, `rejected`, ...). */
  readonly moderationStatus?: string;
  /** sha256 recorded at backup time, checked while the bytes stream to Cloudinary. */
  readonly sha256?: string;
  /** Where the identity came from: the catalog, or (without an entry) object metadata / the key. */
  readonly source: 'catalog' | 'object';
  /** The catalog says this version was not copied; the object is an older one. */
  readonly olderVersion?: boolean;
}

/** The identity of an asset in an account: resource type, delivery type and public_id. */
export const identityOf = (a: { readonly resourceType: string; readonly type: string; readonly publicId: string }): string =>
  `${a.resourceType}\u0000${a.type}\u0000${a.publicId}`;

/** The parts of an asset's identity a key (and, on S3, the object's metadata) can give back. */
export interface KeyIdentity {
  readonly resourceType: string;
  readonly type: string;
  readonly publicId: string;
  readonly format: string;
}

const FORMAT_EXT = /\.([A-Za-z0-9_-]{1,32})$/;

/**
 * Reads an asset's identity back from its backup key alone (see keyFor): the first two segments
 * after the prefix are the resource type and delivery type; the rest is the public_id plus
 * `.<format>` — except for raw files, whose extension is part of the public_id. `_encoded` keys
 * decode to the exact public_id. Returns a reason string when the key cannot be mapped: a
 * `_hashed` key needs the catalog (or object metadata), and a key outside `<rt>/<type>/` is not
 * an asset.
 */
export const identityFromKey = (prefix: string, key: string): KeyIdentity | string => {
  const p = normalizePrefix(prefix);
  if (p !== '' && !key.startsWith(`${p}/`)) return 'outside the prefix';
  const rest = p === '' ? key : key.slice(p.length + 1);
  const parts = rest.split('/');
  const resourceType = parts[0] ?? '';
  const type = parts[1] ?? '';
  if (parts.length < 3 || resourceType === '' || type === '') return 'not under <resource_type>/<type>/';
  if (parts[2] === HASHED_DIR) return 'its key is a hash of the public_id, which only the catalog or object metadata can map back';
  if (parts[2] === ENCODED_DIR) {
    const publicId = decodeEncodedKey(p, key);
    if (publicId === undefined || publicId === '') return 'undecodable _encoded key';
    const ext = FORMAT_EXT.exec(parts[parts.length - 1] ?? '');
    return { resourceType, type, publicId, format: resourceType === 'raw' ? '' : (ext?.[1] ?? '') };
  }
  const name = parts.slice(2).join('/');
  if (resourceType === 'raw') return { resourceType, type, publicId: name, format: '' };
  const ext = FORMAT_EXT.exec(name);
  if (!ext || ext.index === 0 || name[ext.index - 1] === '/') return { resourceType, type, publicId: name, format: '' };
  return { resourceType, type, publicId: name.slice(0, ext.index), format: ext[1] ?? '' };
};

/** True when `publicId` is selected by `--only` (a public_id prefix; none selects all). */
export const selected = (publicId: string, only: string | undefined): boolean =>
  only === undefined || only === '' || publicId.startsWith(only);
