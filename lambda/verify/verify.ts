import { checkRestorePoints } from './restore-points.ts';
import { createHash } from 'node:crypto';
import { Catalog } from '../store/catalog.ts';
import { recordDamage } from '../store/damage.ts';
import type { DamagedObject } from '../store/damage.ts';
import { ConfigError, messageOf } from '../core/errors.ts';
import { normalizePrefix } from '../core/keys.ts';
import type { Problem, VerifiableEntry } from '../core/verify-check.ts';
import type { Destination } from '../ports/storage.ts';
import type { ListingSource } from '../restore/restore.ts';
import { CatalogSnapshot } from '../store/catalog-snapshot.ts';
import { deepCandidates, inventoryPass, readObjects, slim } from './catalog-passes.ts';
import type { InventoryCounts } from './catalog-passes.ts';
import { ProblemList } from './problem-list.ts';
import { sourceFields, sourcePass } from './source-check.ts';

/** Most problems a report lists by name; the counts stay exact beyond it. */
export const MAX_LISTED_PROBLEMS = 1000;

/** Settings of one verification. */
export interface VerifyOptions {
  /** Key prefix of the backup ('' for none). */
  readonly prefix: string;
  /** Re-read every object and compare its sha256 with the catalog's. */
  readonly deep: boolean;
  /** Objects read at once by a deep check. */
  readonly concurrency: number;
}

/** What verify reports (the JSON of `--json`). */
export interface VerifyReport {
  against: string;
  prefix: string;
  deep: boolean;
  source: boolean;
  /** The backup run whose catalog was checked. */
  catalogRunId: string;
  catalogCompletedAt: string;
  /** Catalog entries read. */
  entries: number;
  /** Entries in state current or deleted (their object must be there). */
  checked: number;
  /** Entries in state stale (their version was never copied; not checked). */
  stale: number;
  /** Objects under the resource-type roots. */
  objects: number;
  /** Objects whose sha256 was recomputed (--deep). */
  hashed: number;
  /** Objects a deep check could not compare: their entry has no sha256 (backed up before checksums). */
  unhashed: number;
  bytesRead: number;
  missing: number;
  extra: number;
  corrupt: number;
  notBackedUp: number;
  outdated: number;
  /** Admin API calls of --source (one per 500 assets). */
  cloudinaryApiCalls: number;
  problems: Problem[];
  /**
   * With --deep: where the damaged objects were recorded for the next backup to copy again
   * (`<prefix>/_catalog/damaged.json`), or null when there was nothing to record.
   */
  damageRecorded: string | null;
  /** Why the damage record could not be written (read-only credentials, say); the check itself stands. */
  damageRecordError?: string;
  /** What to do about what made `ok` false without being a problem of an object (`unhashed`). */
  remedy?: string;
  /** Restore points listed by the pointer whose manifest and pages were checked (restore-points.ts). */
  restorePoints: number;
  /** What is wrong with them: a manifest or page missing or changed, a count that differs. */
  restorePointProblems: string[];
  /**
   * True when nothing is missing, extra, corrupt, or (with --source) not backed up or outdated,
   * every restore point is whole, and (with --deep) every object present had a checksum to
   * compare: an object never hashed is unverified.
   */
  ok: boolean;
}

/** Progress callbacks; all optional. */
export interface VerifyObserver {
  /** Called as objects are read by a deep check. */
  progress?(done: number, total: number, bytes: number): void;
}

/** Re-reads one object; resolves with its size and sha256. */
const hashObject = async (destination: Destination, key: string, onBytes: (n: number) => void): Promise<{ size: number; sha256: string }> => {
  const body = await destination.get(key);
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of body) {
    const b = chunk as Buffer;
    size += b.length;
    h.update(b);
    onBytes(b.length);
  }
  return { size, sha256: h.digest('hex') };
};

/**
 * --deep: re-reads the `total` candidates (present, sha256 recorded; in catalog order),
 * `concurrency` at a time. Corrupt findings also go to `damaged` (for the damage record).
 */
const deepCheck = async (
  destination: Destination,
  candidates: AsyncIterable<VerifiableEntry>,
  total: number,
  concurrency: number,
  observer: VerifyObserver,
  found: (p: Problem) => void,
): Promise<{ hashed: number; bytesRead: number }> => {
  let hashed = 0;
  let bytesRead = 0;
  let done = 0;
  const check = async (e: VerifiableEntry): Promise<Problem | undefined> => {
    const who = { key: e.key, publicId: e.publicId, resourceType: e.resourceType, type: e.type };
    try {
      const got = await hashObject(destination, e.key, (n) => {
        bytesRead += n;
        observer.progress?.(done, total, bytesRead);
      });
      hashed += 1;
      if (got.size !== e.bytes) return { kind: 'corrupt', ...who, detail: `read ${got.size} bytes, the catalog says ${e.bytes}` };
      if (got.sha256 !== e.sha256) return { kind: 'corrupt', ...who, detail: `sha256 is ${got.sha256}, the catalog says ${e.sha256}` };
      return undefined;
    } catch (err) {
      if ((err as { notFound?: boolean }).notFound) return { kind: 'missing', ...who, detail: 'the object disappeared during the check' };
      return { kind: 'corrupt', ...who, detail: `could not be read: ${messageOf(err)}` };
    } finally {
      done += 1;
      observer.progress?.(done, total, bytesRead);
    }
  };
  // A few workers pulling from one stream of candidates, not one pending promise per object (a
  // million at once); an async generator hands each next() its own entry, in order.
  const next = candidates[Symbol.asyncIterator]();
  const worker = async (): Promise<void> => {
    for (let r = await next.next(); !r.done; r = await next.next()) {
      const p = await check(r.value);
      if (p) found(p);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return { hashed, bytesRead };
};

/**
 * The checks against the objects (inventory, then --deep's reads), in a function of their own:
 * the objects' table is garbage once it returns, before --source holds the catalog by identity.
 */
const checkObjects = async (
  destination: Destination,
  snapshot: CatalogSnapshot,
  prefix: string,
  options: VerifyOptions,
  observer: VerifyObserver,
  found: (p: Problem) => void,
): Promise<{ objects: number; counts: InventoryCounts; deep: { hashed: number; bytesRead: number } }> => {
  const pages = (): AsyncIterable<VerifiableEntry[]> => snapshot.pages(slim);
  const { index, objects } = await readObjects(destination, prefix);
  const counts = await inventoryPass(pages(), index, found);
  const deep = options.deep ? await deepCheck(destination, deepCandidates(pages(), index), counts.toHash, options.concurrency, observer, found) : { hashed: 0, bytesRead: 0 };
  return { objects, counts, deep };
};

/**
 * Records the objects a deep check found corrupt or overwritten, for the next backup to copy
 * again. A failed write does not fail the check: the report says why it was not recorded.
 */
const recordFound = async (destination: Destination, prefix: string, damaged: readonly DamagedObject[]): Promise<Pick<VerifyReport, 'damageRecorded' | 'damageRecordError'>> => {
  try {
    return { damageRecorded: (await recordDamage(destination, prefix, damaged)) ?? null };
  } catch (err) {
    return { damageRecorded: null, damageRecordError: messageOf(err) };
  }
};

/** What to do when a deep check found objects catalogued without a sha256 (see docs/checksums.md). */
export const unhashedRemedy = (n: number, prefix: string): string =>
  `${n} object(s) have no recorded checksum, so --deep could not compare them: run a backup to this destination${prefix ? ` (prefix ${prefix})` : ''}, ` +
  'which hashes them from the backup (up to --hash-max per run; no Cloudinary credit), then verify again';

/**
 * Checks a backup against its catalog: every entry in state current or deleted has its object,
 * with the catalog's size (and, with `deep`, its sha256); objects no entry names are extra.
 * With a `source`, also compares against the live Cloudinary listing. Throws a ConfigError when
 * there is no catalog at all.
 */
export const verifyBackup = async (
  destination: Destination,
  options: VerifyOptions,
  source?: ListingSource,
  observer: VerifyObserver = {},
): Promise<VerifyReport> => {
  const prefix = normalizePrefix(options.prefix);
  const catalog = new Catalog(destination, prefix);
  const pointer = await catalog.pointer();
  if (!pointer) {
    throw new ConfigError(
      `No catalog in ${destination.description}${prefix ? ` under "${prefix}"` : ''} (${catalog.pointerKey} is missing). ` +
        'Check --against (the location given to backup --to), or run a backup first.',
    );
  }
  // A million entries in bounded memory. The catalog is read page by page, once per
  // pass, against a compact table of the objects (catalog-passes.ts); only the problems a report
  // can list are kept; --source holds the catalog by identity once the objects' table is gone.
  const problems = new ProblemList(MAX_LISTED_PROBLEMS);
  const damaged: DamagedObject[] = [];
  const found = (p: Problem): void => {
    problems.add(p);
    if (p.kind === 'corrupt' && p.key !== undefined) damaged.push({ key: p.key, ...(p.publicId ? { publicId: p.publicId } : {}), detail: p.detail });
  };
  const snapshot = new CatalogSnapshot(destination, catalog, pointer);
  const { objects, counts, deep } = await checkObjects(destination, snapshot, prefix, options, observer, found);
  if (source) await sourcePass(source, snapshot.pages(sourceFields), prefix, found);
  const points = await checkRestorePoints(catalog, pointer);
  const damage = options.deep ? await recordFound(destination, prefix, damaged) : { damageRecorded: null };
  const { hashed, bytesRead } = deep;
  const unhashed = options.deep ? counts.present - counts.toHash : 0;

  return {
    against: destination.description,
    prefix,
    deep: options.deep,
    source: source !== undefined,
    catalogRunId: pointer.runId,
    catalogCompletedAt: pointer.completedAt,
    entries: counts.entries,
    checked: counts.checked,
    stale: counts.stale,
    objects,
    hashed,
    unhashed,
    bytesRead,
    missing: problems.count('missing'),
    extra: problems.count('extra'),
    corrupt: problems.count('corrupt'),
    notBackedUp: problems.count('notBackedUp'),
    outdated: problems.count('outdated'),
    cloudinaryApiCalls: source?.apiCalls ?? 0,
    problems: problems.listed(),
    ...damage,
    restorePoints: points.checked,
    restorePointProblems: points.problems,
    ...(unhashed > 0 ? { remedy: unhashedRemedy(unhashed, prefix) } : {}),
    ok: problems.total === 0 && unhashed === 0 && points.problems.length === 0,
  };
};
