import { messageOf } from '../core/errors.ts';
import type { Catalog, CatalogPointer } from '../store/catalog.ts';
import { pageName } from '../store/catalog.ts';

/** What verify found of the restore points the pointer lists. */
export interface RestorePointsCheck {
  /** Restore points whose manifest and pages were read. */
  readonly checked: number;
  /** One line per problem: a manifest or page missing, a page whose bytes are not its name's, a count that differs. */
  readonly problems: string[];
}

/** Most restore-point problems a report lists. */
const MAX_LISTED = 100;

/**
 * Checks every restore point the pointer lists (docs/history.md, "What a crash leaves"): its
 * manifest is there, each page it names is there with the bytes its name is the hash of (so
 * nothing rewrote it), and the pages hold the number of entries the manifest counts. A page
 * shared by several restore points is read once. Restore points of an older catalog format:
 * none are listed, nothing to check.
 */
export const checkRestorePoints = async (catalog: Catalog, pointer: CatalogPointer): Promise<RestorePointsCheck> => {
  const problems: string[] = [];
  const add = (p: string): void => {
    if (problems.length < MAX_LISTED) problems.push(p);
  };
  const entriesOf = new Map<string, number | undefined>();
  const readPage = async (name: string): Promise<number | undefined> => {
    if (entriesOf.has(name)) return entriesOf.get(name);
    const key = catalog.namedPageKey(name);
    let n: number | undefined;
    try {
      const parts: Buffer[] = [];
      for await (const c of await catalog.readRaw(key)) parts.push(c as Buffer);
      const body = Buffer.concat(parts);
      if (pageName(body) !== name) add(`catalog page ${key} does not hold the bytes its name is the hash of: it was changed or damaged`);
      else n = body.toString('utf8').split('\n').filter((l) => l.trim() !== '').length;
    } catch (err) {
      add(`catalog page ${key} could not be read: ${messageOf(err)}`);
    }
    entriesOf.set(name, n);
    return n;
  };
  let checked = 0;
  for (const point of pointer.points ?? []) {
    let manifest: CatalogPointer;
    try {
      manifest = point.runId === pointer.runId ? pointer : await catalog.manifest(point.runId);
    } catch (err) {
      add(`restore point ${point.runId}: ${messageOf(err)}`);
      continue;
    }
    checked += 1;
    let entries = 0;
    let whole = true;
    for (const name of manifest.hashes ?? []) {
      const n = await readPage(name);
      if (n === undefined) whole = false;
      else entries += n;
    }
    if (whole && entries !== manifest.entries) add(`restore point ${point.runId}: its pages hold ${entries} entries, its manifest counts ${manifest.entries}`);
  }
  return { checked, problems };
};
