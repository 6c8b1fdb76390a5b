import type { StoredObject } from '../core/asset.ts';
import type { Recorded } from '../core/plan.ts';
import type { CopyRecords } from '../store/copy-records.ts';
import type { PreviousView } from './key-index.ts';
import type { PreviousEntry } from './page.ts';

/** What a page is planned with: the diff rule's record of a key, and the sha256 an unchanged one keeps. */
export interface RecordLookups {
  recorded(key: string): Recorded | undefined;
  previous(key: string): PreviousEntry | undefined;
}

/**
 * The previous catalog, with what the copy records (see CopyRecord) add: a copy finished by a run
 * that never committed its catalog (stopped, killed, cut off) is recorded as current, with its
 * version and sha256, when the object at its key still has the recorded size and the record is not
 * older than the catalog's entry (versions are upload times: a newer original has a higher one).
 * Without records, the catalog's own lookups (no per-key work: million-asset nights).
 */
export const recordLookups = (previous: PreviousView, copies: CopyRecords, stored: (key: string) => StoredObject | undefined): RecordLookups => {
  if (copies.size === 0) return { recorded: (k) => previous.recorded(k), previous: (k) => previous.get(k) };
  const adopted = (key: string, version: number | undefined): PreviousEntry | undefined => {
    const r = copies.get(key);
    if (r === undefined || (version !== undefined && r.version < version) || stored(key)?.size !== r.bytes) return undefined;
    return { version: r.version, current: true, sha256: r.sha256 };
  };
  return {
    recorded: (key) => {
      const prev = previous.recorded(key);
      const r = adopted(key, prev?.version);
      return r ? { version: r.version, current: true } : prev;
    },
    previous: (key) => {
      const prev = previous.get(key);
      return adopted(key, prev?.version) ?? prev;
    },
  };
};
