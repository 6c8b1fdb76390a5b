import type { CatalogEntry } from './catalog.ts';

/**
 * A catalog entry with the dynamic-folder fields read optionally: catalogs written before
 * they were recorded lack them, and accounts with fixed folders have none.
 */
export type FolderedEntry = CatalogEntry & { readonly assetFolder?: string; readonly displayName?: string };

/** Which entries `ls` and `get` select. */
export interface EntryFilter {
  /** The public_id starts with this (a path prefix such as `products/2024/`). */
  readonly prefix?: string;
  /** Exactly this public_id. */
  readonly publicId?: string;
  readonly tag?: string;
  /** The Media Library folder (or a subfolder of it). */
  readonly folder?: string;
  readonly resourceType?: string;
  readonly type?: string;
}

/**
 * The Media Library folder of an entry: `asset_folder` on dynamic-folder accounts; on
 * fixed-folder accounts the folder is the public_id's path.
 */
export const folderOf = (e: FolderedEntry): string =>
  e.assetFolder ?? (e.publicId.includes('/') ? e.publicId.slice(0, e.publicId.lastIndexOf('/')) : '');

/** The name the Media Library shows: `display_name`, or the public_id's last segment. */
export const displayNameOf = (e: FolderedEntry): string => e.displayName ?? e.publicId.slice(e.publicId.lastIndexOf('/') + 1);

const trimSlashes = (s: string): string => s.replace(/^\/+|\/+$/g, '');

/** True when an entry passes every part of the filter. */
export const matches = (e: FolderedEntry, f: EntryFilter): boolean => {
  if (f.publicId !== undefined && e.publicId !== f.publicId) return false;
  if (f.prefix !== undefined && !e.publicId.startsWith(f.prefix)) return false;
  if (f.tag !== undefined && !e.tags.includes(f.tag)) return false;
  if (f.resourceType !== undefined && e.resourceType !== f.resourceType) return false;
  if (f.type !== undefined && e.type !== f.type) return false;
  if (f.folder !== undefined) {
    const want = trimSlashes(f.folder);
    const have = trimSlashes(folderOf(e));
    if (have !== want && !have.startsWith(`${want}/`)) return false;
  }
  return true;
};

const loose = (s: string): string => s.trim().toLowerCase().replace(/[\s_-]+/g, '_');
const withoutExtension = (s: string): string => s.replace(/\.[a-z0-9]{1,5}$/i, '');

/**
 * True when `name` looks like a file name or shown name of the entry rather than its public_id:
 * "Dog photo 1.png" for public_id "pets/dog_photo_1_x8kq" (format png) or display name "Dog
 * photo 1". Cloudinary's `use_filename` builds public_ids from the file name with spaces as
 * underscores and, unless `unique_filename` is false, a random suffix (Upload API reference,
 * https://cloudinary.com/documentation/image_upload_api_reference#upload_optional_parameters),
 * so a name is compared loosely and as a prefix of the public_id's last segment.
 */
export const nameSuggests = (name: string, e: FolderedEntry): boolean => {
  const want = loose(withoutExtension(name));
  if (want === '') return false;
  const last = loose(e.publicId.slice(e.publicId.lastIndexOf('/') + 1));
  const shown = loose(withoutExtension(displayNameOf(e)));
  return shown === want || last === want || (want.length >= 3 && last.startsWith(`${want}_`)) || loose(e.publicId) === want;
};
