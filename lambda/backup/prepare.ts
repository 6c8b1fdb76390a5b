import type { StoredObject } from '../core/asset.ts';
import { typeRoot } from '../core/keys.ts';
import type { Destination } from '../ports/storage.ts';
import type { Catalog, CatalogEntry, CatalogPointer } from '../store/catalog.ts';
import { damagedKeys } from '../store/damage.ts';
import { NO_COPY_RECORDS, readCopyRecords } from '../store/copy-records.ts';
import type { CopyRecords } from '../store/copy-records.ts';
import type { EngineOptions } from './options.ts';
import { KeyIndex } from './key-index.ts';
import type { InventoryView, PreviousView } from './key-index.ts';
import type { RunState } from './run-state.ts';

/** What the engine loads once per process to plan pages: the previous catalog and the inventory. */
export interface Prepared {
  readonly previous: PreviousView;
  /** List mode: what the destination holds, less the keys seen by this run so far. */
  readonly inventory: InventoryView | undefined;
  /**
   * Keys seen by this run so far: kept in head mode, and where the destination can tell two keys
   * are one file (a folding folder, for the prune guard); in list mode otherwise the inventory is
   * what is left unseen, and a Set of every key besides would hold a third copy of each.
   */
  readonly seen: Set<string>;
  readonly trackSeen: boolean;
  /** The keys of the damage record (verify --deep) this run read: copied again, whatever the catalog says. */
  readonly damaged: ReadonlySet<string>;
  /** The copy records of runs that did not commit their catalog (see CopyRecord, adopt.ts). */
  readonly copies: CopyRecords;
}

/** A key this run has listed: not missing from Cloudinary. */
export const markSeen = (p: Prepared, key: string): void => {
  p.inventory?.delete(key);
  if (p.trackSeen) p.seen.add(key);
};

/**
 * Loads the previous catalog (version, state and sha256 per key) and, in list mode, the inventory
 * of the type folders this run lists; a resumed run marks what its earlier pages recorded as seen.
 */
export const prepareRun = async (
  catalog: Catalog,
  destination: Destination,
  options: EngineOptions,
  state: RunState,
  run: { readonly previous: CatalogPointer | undefined; readonly open: readonly CatalogEntry[] },
): Promise<Prepared> => {
  // One table for both: a million assets must fit a Lambda (see KeyIndex).
  const index = new KeyIndex();
  const readPrevious = async (): Promise<Set<string>> => {
    // What `verify --deep` found damaged is not current, whatever the catalog says: copied again.
    const damaged = await damagedKeys(destination, options.prefix);
    for await (const e of run.previous ? catalog.entriesOf(run.previous) : []) {
      index.setPrevious(e.key, { version: e.version, current: e.state === 'current' && !damaged.has(e.key), resourceType: e.resourceType, ...(e.sha256 ? { sha256: e.sha256 } : {}) });
    }
    return damaged;
  };
  const list = options.diff === 'list';
  const inventory = async (rt: string): Promise<void> => {
    for await (const o of destination.list(typeRoot(options.prefix, rt, ''))) index.setStored(o);
  };
  // The catalog and each type folder's listing at once (they were one chain of round
  // trips before the first copy). The index takes either in any order (setPrevious keeps the
  // inventory flag, setStored the catalog's); nothing is buffered beyond each listing's page.
  // Every read ends before an error goes on, the catalog's first, then the folders' in order.
  const records = options.dryRun ? Promise.resolve(NO_COPY_RECORDS) : readCopyRecords(destination, options.prefix, state.runId);
  const results = await Promise.allSettled([readPrevious(), records, ...(list ? options.resourceTypes.map(inventory) : [])]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const damaged = (results[0] as PromiseFulfilledResult<Set<string>>).value;
  const copies = (results[1] as PromiseFulfilledResult<CopyRecords>).value;
  const prepared: Prepared = { previous: index.previous, inventory: list ? index.inventory : undefined, seen: new Set(), trackSeen: !list || destination.fileIdentity !== undefined, damaged, copies };
  // What earlier steps of this run recorded: its closed pages and the page still open.
  for await (const e of catalog.readNamed(state.pageHashes ?? [])) markSeen(prepared, e.key);
  for (const e of run.open) markSeen(prepared, e.key);
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
