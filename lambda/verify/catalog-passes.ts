import { KeyIndex } from '../backup/key-index.ts';
import { RESOURCE_TYPES } from '../core/asset.ts';
import { typeRoot } from '../core/keys.ts';
import { checkEntry, extraObject } from '../core/verify-check.ts';
import type { Problem, VerifiableEntry } from '../core/verify-check.ts';
import type { Destination } from '../ports/storage.ts';
import type { CatalogEntry } from '../store/catalog.ts';

/** What objects carry as lastModified here: verify never reads it. */
const UNREAD_DATE = new Date(0);

/** The fields of a catalog entry verify reads. */
export const slim = (e: CatalogEntry): VerifiableEntry => ({
  key: e.key,
  publicId: e.publicId,
  resourceType: e.resourceType,
  type: e.type,
  version: e.version,
  bytes: e.bytes,
  state: e.state,
  ...(e.sha256 === undefined ? {} : { sha256: e.sha256 }),
});

/**
 * The objects under the resource-type roots, in the backup engine's compact table (one
 * key string and a few typed columns per object, not an object and a Date each). Its `previous`
 * side is the catalog: the inventory pass records each entry's key there, so an object whose key
 * no entry names is extra. Neither the S3 listing (UTF-8 binary order, per root) nor a folder
 * walk (directory order) comes in the catalog's order (the order of the Cloudinary listing), so a
 * merge of the two would need the catalog sorted first: a table of the smaller side is held.
 */
export const readObjects = async (destination: Destination, prefix: string): Promise<{ index: KeyIndex; objects: number }> => {
  const index = new KeyIndex();
  let objects = 0;
  for (const rt of RESOURCE_TYPES) {
    for await (const o of destination.list(typeRoot(prefix, rt, ''))) {
      index.setStored({ key: o.key, size: o.size, lastModified: UNREAD_DATE });
      objects += 1;
    }
  }
  return { index, objects };
};

/** The size of the object at `key`, or undefined when there is none. */
export const sizeAt = (index: KeyIndex, key: string): number | undefined => index.inventory.get(key)?.size;

/** The figures of the inventory pass. */
export interface InventoryCounts {
  entries: number;
  checked: number;
  stale: number;
  present: number;
  /** Present entries with a recorded sha256: what a deep check reads. */
  toHash: number;
}

/**
 * Checks every entry against the objects (checkEntry), page by page, then reports the objects no
 * entry names. Problems go to `found` in the order the whole-list check found them.
 */
export const inventoryPass = async (pages: AsyncIterable<VerifiableEntry[]>, index: KeyIndex, found: (p: Problem) => void): Promise<InventoryCounts> => {
  const c: InventoryCounts = { entries: 0, checked: 0, stale: 0, present: 0, toHash: 0 };
  for await (const page of pages) {
    for (const e of page) {
      c.entries += 1;
      index.setPrevious(e.key, { version: e.version, current: e.state === 'current', resourceType: e.resourceType });
      const r = checkEntry(e, sizeAt(index, e.key));
      if (r === 'stale') c.stale += 1;
      else if (r === 'present') {
        c.checked += 1;
        c.present += 1;
        if (e.sha256 !== undefined) c.toHash += 1;
      } else {
        c.checked += 1;
        found(r);
      }
    }
  }
  for (const key of index.inventory.keys()) {
    if (!index.previous.has(key)) found(extraObject(key, sizeAt(index, key) as number));
  }
  return c;
};

/** The entries a deep check reads, in catalog order: present with the catalog's size, sha256 recorded. */
export async function* deepCandidates(pages: AsyncIterable<VerifiableEntry[]>, index: KeyIndex): AsyncIterable<VerifiableEntry> {
  for await (const page of pages) {
    for (const e of page) if (e.sha256 !== undefined && checkEntry(e, sizeAt(index, e.key)) === 'present') yield e;
  }
}
