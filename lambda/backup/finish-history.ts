import type { Destination } from '../ports/storage.ts';
import type { CatalogPointer } from '../store/catalog.ts';
import { effectiveHistoryDays, expireHistory, retire } from '../store/history.ts';
import type { PreviousView } from './key-index.ts';
import type { EngineObserver, EngineOptions } from './options.ts';

/**
 * Prunes backups of deleted assets, each retired into history first (docs/history.md): its
 * catalog entry says which version the object is. Resolves with the keys deleted.
 */
export const pruneKeys = async (
  io: { readonly destination: Destination; readonly options: EngineOptions; readonly previous: PreviousView; readonly observer: EngineObserver },
  keys: readonly string[],
): Promise<Set<string>> => {
  const pruned = new Set<string>();
  for (const key of keys) {
    const version = io.previous.get(key)?.version;
    if (io.options.history !== false && version !== undefined) await retire(io.destination, io.options.prefix, key, version);
    await io.destination.delete(key);
    pruned.add(key);
    io.observer.pruned?.(key);
  }
  return pruned;
};

/** The retention this run applies, from its options and what the previous catalog recorded. */
export const historyDaysOf = (options: EngineOptions, previous: CatalogPointer | undefined): number =>
  effectiveHistoryDays(options.historyDays, options.historyDaysExplicit ?? false, previous?.historyDays);

/**
 * Retention after a run's catalog is committed (the pointer no longer lists restore points past
 * it): deletes retired originals older than the retention, only under `_history/`. Resolves with
 * how many; none when history is off.
 */
export const applyRetention = async (destination: Destination, options: EngineOptions, days: number, now: Date): Promise<number> =>
  options.history === false ? 0 : expireHistory(destination, options.prefix, days, now);
