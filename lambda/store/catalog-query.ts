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
