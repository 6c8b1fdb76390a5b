import { createInterface } from 'node:readline';
import pLimit from 'p-limit';
import type { Destination } from '../ports/storage.ts';
import { copyRecordRoot } from './copy-record.ts';
import type { CopyRecordEntry } from './copy-record.ts';

/** What the copy records (every run's, see CopyRecord) say the destination holds. */
export interface CopyRecords {
  /** The newest record of `key` (the highest version; of equal ones, the last written). */
  get(key: string): Omit<CopyRecordEntry, 'key'> | undefined;
  /** The record files read. */
  readonly files: readonly string[];
  readonly size: number;
}

/** No records (a dry run, or a destination without any). */
export const NO_COPY_RECORDS: CopyRecords = { get: () => undefined, files: [], size: 0 };

const isEntry = (v: unknown): v is [string, number, number, string] =>
  Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'number' && typeof v[2] === 'number' && typeof v[3] === 'string';

/**
 * Reads every copy record under the prefix (runs stopped before their catalog was committed leave
 * theirs) but run `ownRun`'s: what a run's own earlier steps copied is in its checkpoints, and a
 * durable run's later invocations would otherwise read its whole first backup again, a million
 * records at a million assets, in every invocation. A line that does not parse (a file another tool wrote, a torn write) is passed over: a
 * record only saves work, it never decides alone what is current (the stored size must match too).
 */
export const readCopyRecords = async (destination: Destination, prefix: string, ownRun?: string): Promise<CopyRecords> => {
  const files: string[] = [];
  const own = ownRun === undefined ? undefined : `${copyRecordRoot(prefix)}/${ownRun}/`;
  for await (const o of destination.list(`${copyRecordRoot(prefix)}/`)) if (o.key.endsWith('.jsonl') && (own === undefined || !o.key.startsWith(own))) files.push(o.key);
  if (files.length === 0) return NO_COPY_RECORDS;
  files.sort();
  const limit = pLimit(8);
  const contents = await Promise.all(
    files.map((key) =>
      limit(async () => {
        const rows: [string, number, number, string][] = [];
        const body = await destination.get(key);
        for await (const line of createInterface({ input: body, crlfDelay: Infinity })) {
          try {
            const v: unknown = JSON.parse(line);
            if (isEntry(v)) rows.push(v);
          } catch {
            // a torn or foreign line: see above
          }
        }
        return rows;
      }),
    ),
  );
  const byKey = new Map<string, Omit<CopyRecordEntry, 'key'>>();
  for (const rows of contents) {
    for (const [key, version, bytes, sha256] of rows) {
      const had = byKey.get(key);
      if (had === undefined || had.version <= version) byKey.set(key, { version, bytes, sha256 });
    }
  }
  return { get: (key) => byKey.get(key), files, size: byKey.size };
};
