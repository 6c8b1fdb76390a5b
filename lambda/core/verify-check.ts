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
 * What one catalog entry's check found, given the size of the object at its key (undefined when
 * there is none): a problem; 'present' (its object is there with the catalog's size: a candidate
 * for a deep check); or 'stale' (its version was never copied, so its key may hold an older one:
 * not checked). Entries in state `current` or `deleted` must have their object.
 */
export const checkEntry = (e: VerifiableEntry, size: number | undefined): Problem | 'present' | 'stale' => {
  if (e.state === 'stale') return 'stale';
  const who = { key: e.key, publicId: e.publicId, resourceType: e.resourceType, type: e.type };
  if (size === undefined) return { kind: 'missing', ...who, detail: 'the object is not in the backup' };
  if (size !== e.bytes) return { kind: 'corrupt', ...who, detail: `size is ${size} bytes, the catalog says ${e.bytes}` };
  return 'present';
};

/** The problem of an object under a resource-type root that no catalog entry names. */
export const extraObject = (key: string, size: number): Problem => ({ kind: 'extra', key, detail: `${size} bytes that no catalog entry names` });

/**
 * Compares the catalog with the objects under the resource-type roots (checkEntry for each
 * entry; any object no entry names is extra). Holds both sides: verify itself streams the
 * catalog against a compact table of the objects (lambda/verify/inventory-pass.ts).
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
    const found = checkEntry(e, byKey.get(e.key)?.size);
    if (found === 'stale') stale += 1;
    else {
      checked += 1;
      if (found === 'present') present.push(e);
      else problems.push(found);
    }
  }
  for (const o of byKey.values()) if (!named.has(o.key)) problems.push(extraObject(o.key, o.size));
  return { problems, present, checked, stale };
};

/**
 * Compares the live Cloudinary listing with the catalog (`entries`: by identityOf, or a lookup
 * by asset): an asset of a backed-up delivery type
 * must have an entry that is not stale, with the same version and size. Assets deleted from
 * Cloudinary are not problems (the backup keeps them on purpose).
 */
export const checkSource = (
  assets: Iterable<Asset>,
  entries: Pick<ReadonlyMap<string, VerifiableEntry>, 'get'> | ((asset: Asset) => VerifiableEntry | undefined),
): Problem[] => {
  const problems: Problem[] = [];
  for (const a of assets) {
    if (!isBackedUpType(a)) continue;
    const who = { publicId: a.publicId, resourceType: a.resourceType, type: a.type };
    const e = typeof entries === 'function' ? entries(a) : entries.get(identityOf(a));
    if (!e) {
      problems.push({ kind: 'notBackedUp', ...who, detail: `in Cloudinary (version ${a.version}, ${a.bytes} bytes) but not in the backup` });
      continue;
    }
    // The problem objects are built only for a problem: an object spread per asset (a million on a
    // --source pass) was most of what that pass left in V8's old space (source-check.ts).
    if (e.state === 'stale') {
      problems.push({ kind: 'outdated', ...who, key: e.key, detail: `the last backup could not copy version ${e.version}` });
    } else if (e.version !== a.version || e.bytes !== a.bytes) {
      problems.push({
        kind: 'outdated',
        ...who,
        key: e.key,
        detail: `Cloudinary has version ${a.version} (${a.bytes} bytes), the backup version ${e.version} (${e.bytes} bytes)`,
      });
    }
  }
  return problems;
};
