import type { Asset, StoredObject } from './asset.ts';
import { isBackedUpType } from './asset.ts';
import { identityOf } from './restore-plan.ts';

/** What verify found wrong with one key or asset. */
export type ProblemKind =
  /** A catalog entry's object is not in the backup. */
  | 'missing'
  /** An object under a resource-type root that no catalog entry names. */
  | 'extra'
  /** The object's size or sha256 differs from the catalog's. */
  | 'corrupt'
  /** (--source) An asset in Cloudinary that the backup does not hold. */
  | 'notBackedUp'
  /** (--source) An asset whose version or size in Cloudinary differs from the backed-up one. */
  | 'outdated';

/** One finding, with enough identity to act on it. */
export interface Problem {
  readonly kind: ProblemKind;
  readonly key?: string;
  readonly publicId?: string;
  readonly resourceType?: string;
  readonly type?: string;
  readonly detail: string;
}

/** The part of a catalog entry verify reads. */
export interface VerifiableEntry {
  readonly key: string;
  readonly publicId: string;
  readonly resourceType: string;
  readonly type: string;
  readonly version: number;
  readonly bytes: number;
  readonly sha256?: string;
  readonly state: 'current' | 'stale' | 'deleted';
}

/** The outcome of comparing the catalog with the objects. */
export interface InventoryCheck {
  readonly problems: Problem[];
  /** Entries whose object is present with the catalog's size: candidates for a deep check. */
  readonly present: VerifiableEntry[];
  /** Entries in state current or deleted (the ones whose object must be there). */
  readonly checked: number;
  /** Entries in state stale (their version was never copied; not checked). */
  readonly stale: number;
}

/**
 * Compares the catalog with the objects under the resource-type roots. Every entry in state
 * `current` or `deleted` must have its key present with the catalog's size; a `stale` entry's
 * key may hold an older version, so its size is not checked (nor called extra). Any other
 * object is extra.
 */
export const checkInventory = (entries: Iterable<VerifiableEntry>, objects: Iterable<StoredObject>): InventoryCheck => {
  const byKey = new Map<string, StoredObject>();
  for (const o of objects) byKey.set(o.key, o);
  const named = new Set<string>();
  const problems: Problem[] = [];
  const present: VerifiableEntry[] = [];
  let checked = 0;
  let stale = 0;
  for (const e of entries) {
    named.add(e.key);
    const who = { key: e.key, publicId: e.publicId, resourceType: e.resourceType, type: e.type };
    if (e.state === 'stale') {
      stale += 1;
      continue;
    }
    checked += 1;
    const o = byKey.get(e.key);
    if (!o) problems.push({ kind: 'missing', ...who, detail: 'the object is not in the backup' });
    else if (o.size !== e.bytes) problems.push({ kind: 'corrupt', ...who, detail: `size is ${o.size} bytes, the catalog says ${e.bytes}` });
    else present.push(e);
  }
  for (const o of byKey.values()) {
    if (!named.has(o.key)) problems.push({ kind: 'extra', key: o.key, detail: `${o.size} bytes that no catalog entry names` });
  }
  return { problems, present, checked, stale };
};

/**
 * Compares the live Cloudinary listing with the catalog: an asset of a backed-up delivery type
 * must have an entry that is not stale, with the same version and size. Assets deleted from
 * Cloudinary are not problems (the backup keeps them on purpose).
 */
export const checkSource = (assets: Iterable<Asset>, entries: ReadonlyMap<string, VerifiableEntry>): Problem[] => {
  const problems: Problem[] = [];
  for (const a of assets) {
    if (!isBackedUpType(a)) continue;
    const who = { publicId: a.publicId, resourceType: a.resourceType, type: a.type };
    const e = entries.get(identityOf(a));
    if (!e) {
      problems.push({ kind: 'notBackedUp', ...who, detail: `in Cloudinary (version ${a.version}, ${a.bytes} bytes) but not in the backup` });
      continue;
    }
    const withKey = { ...who, key: e.key };
    if (e.state === 'stale') {
      problems.push({ kind: 'outdated', ...withKey, detail: `the last backup could not copy version ${e.version}` });
    } else if (e.version !== a.version || e.bytes !== a.bytes) {
      problems.push({
        kind: 'outdated',
        ...withKey,
        detail: `Cloudinary has version ${a.version} (${a.bytes} bytes), the backup version ${e.version} (${e.bytes} bytes)`,
      });
    }
  }
  return problems;
};
