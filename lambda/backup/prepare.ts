import type { StoredObject } from '../core/asset.ts';
import { typeRoot } from '../core/keys.ts';
import type { Destination } from '../ports/storage.ts';
import type { Catalog } from '../store/catalog.ts';
import { damagedKeys } from '../store/damage.ts';
import type { EngineOptions } from './options.ts';
import type { PreviousEntry } from './page.ts';
import type { RunState } from './run-state.ts';

/** What the engine loads once per process to plan pages: the previous catalog and the inventory. */
export interface Prepared {
  readonly previous: Map<string, PreviousEntry & { readonly resourceType: string }>;
  /** List mode: what the destination holds, less the keys seen by this run so far. */
  readonly inventory: Map<string, StoredObject> | undefined;
  /** Head mode: keys seen by this run so far. */
  readonly seen: Set<string>;
}

/** A key this run has listed: not missing from Cloudinary. */
export const markSeen = (p: Prepared, key: string): void => {
  p.inventory?.delete(key);
  p.seen.add(key);
};

/**
 * Loads the previous catalog (version, state and sha256 per key) and, in list mode, the inventory
 * of the type folders this run lists; a resumed run marks what its earlier pages recorded as seen.
 */
export const prepareRun = async (catalog: Catalog, destination: Destination, options: EngineOptions, state: RunState): Promise<Prepared> => {
  const previous: Prepared['previous'] = new Map();
  // What `verify --deep` found damaged is not current, whatever the catalog says: copied again.
  const damaged = await damagedKeys(destination, options.prefix);
  for await (const e of catalog.entries()) {
    previous.set(e.key, { version: e.version, current: e.state === 'current' && !damaged.has(e.key), resourceType: e.resourceType, ...(e.sha256 ? { sha256: e.sha256 } : {}) });
  }
  let inventory: Map<string, StoredObject> | undefined;
  if (options.diff === 'list') {
    inventory = new Map();
    for (const rt of options.resourceTypes) for await (const o of destination.list(typeRoot(options.prefix, rt, ''))) inventory.set(o.key, o);
  }
  const prepared: Prepared = { previous, inventory, seen: new Set() };
  for await (const e of catalog.readSlot(state.slot, state.pageNo)) markSeen(prepared, e.key);
  return prepared;
};

/** What the destination holds at each key of a page: the inventory, or one HeadObject each. */
export const lookupFor = async (p: Prepared, destination: Destination, concurrency: number, keys: readonly string[]): Promise<(key: string) => StoredObject | undefined> => {
  if (p.inventory) {
    const inv = p.inventory;
    return (key) => inv.get(key);
  }
  const heads = new Map<string, StoredObject>();
  const queue = [...keys];
  const worker = async (): Promise<void> => {
    for (let k = queue.shift(); k !== undefined; k = queue.shift()) {
      const h = await destination.head(k);
      if (h) heads.set(k, h);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return (key) => heads.get(key);
};

/** Keys under the listed type folders that no listed asset maps to, sorted. */
export const missingKeys = async (p: Prepared, destination: Destination, options: EngineOptions): Promise<string[]> => {
  if (p.inventory) return [...p.inventory.keys()].sort();
  const out: string[] = [];
  for (const rt of options.resourceTypes) {
    for await (const o of destination.list(typeRoot(options.prefix, rt, ''))) if (!p.seen.has(o.key)) out.push(o.key);
  }
  return out.sort();
};

/**
 * On a store that files several keys as one (Destination.fileIdentity: a case-insensitive or
 * normalising folder), whether a key not listed by this run is the file of a key it listed.
 */
export const currentFileTest = (p: Prepared, destination: Destination): ((key: string) => boolean) | undefined => {
  const identity = destination.fileIdentity?.bind(destination);
  if (!identity) return undefined;
  const files = new Set([...p.seen].map(identity));
  return (key) => !p.seen.has(key) && files.has(identity(key));
};
