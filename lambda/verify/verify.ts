import { createHash } from 'node:crypto';
import { Catalog } from '../store/catalog.ts';
import { recordDamage } from '../store/damage.ts';
import type { CatalogEntry } from '../store/catalog.ts';
import { listAll } from '../adapters/cloudinary/list-all.ts';
import type { Asset, StoredObject } from '../core/asset.ts';
import { RESOURCE_TYPES, listingsFor } from '../core/asset.ts';
import { ConfigError, messageOf } from '../core/errors.ts';
import { normalizePrefix, typeRoot } from '../core/keys.ts';
import { identityOf } from '../core/restore-plan.ts';
import { checkInventory, checkSource } from '../core/verify-check.ts';
import type { Problem, ProblemKind, VerifiableEntry } from '../core/verify-check.ts';
import type { Destination } from '../ports/storage.ts';
import type { ListingSource } from '../restore/restore.ts';

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
  /** True when nothing is missing, extra, corrupt, or (with --source) not backed up or outdated. */
  ok: boolean;
}

/** Progress callbacks; all optional. */
export interface VerifyObserver {
  /** Called as objects are read by a deep check. */
  progress?(done: number, total: number, bytes: number): void;
}

/** Assets of --source compared at once. */
const SOURCE_BATCH = 500;

/** What objects carry as lastModified here: verify never reads it (see verifyBackup). */
const UNREAD_DATE = new Date(0);

/** The fields of a catalog entry verify reads. */
const slim = (e: CatalogEntry): VerifiableEntry => ({
  key: e.key,
  publicId: e.publicId,
  resourceType: e.resourceType,
  type: e.type,
  version: e.version,
  bytes: e.bytes,
  state: e.state,
  ...(e.sha256 === undefined ? {} : { sha256: e.sha256 }),
});

const count = (problems: readonly Problem[], kind: ProblemKind): number => problems.filter((p) => p.kind === kind).length;

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

/** --deep: re-reads every present object that has a recorded sha256, `concurrency` at a time. */
const deepCheck = async (
  destination: Destination,
  present: readonly VerifiableEntry[],
  concurrency: number,
  observer: VerifyObserver,
): Promise<{ problems: Problem[]; hashed: number; unhashed: number; bytesRead: number }> => {
  const toHash = present.filter((e) => e.sha256 !== undefined);
  const problems: Problem[] = [];
  let hashed = 0;
  let bytesRead = 0;
  let done = 0;
  const total = toHash.length;
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
  // A few workers walking the list, not one pending promise per object (a million at once).
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < toHash.length) {
      const p = await check(toHash[next++] as VerifiableEntry);
      if (p) problems.push(p);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return { problems, hashed, unhashed: present.length - toHash.length, bytesRead };
};

/** --source: compares the live listing with the catalog, a batch at a time (each asset stands alone). */
const sourceCheck = async (source: ListingSource, entries: readonly VerifiableEntry[]): Promise<Problem[]> => {
  const byIdentity = new Map<string, VerifiableEntry>();
  for (const e of entries) {
    const id = identityOf(e);
    const prev = byIdentity.get(id);
    if (!prev || prev.state === 'stale') byIdentity.set(id, e);
  }
  const problems: Problem[] = [];
  let batch: Asset[] = [];
  for (const l of listingsFor(RESOURCE_TYPES)) {
    for await (const a of listAll(source, l.resourceType, l.type)) {
      batch.push(a);
      if (batch.length >= SOURCE_BATCH) {
        problems.push(...checkSource(batch, byIdentity));
        batch = [];
      }
    }
  }
  problems.push(...checkSource(batch, byIdentity));
  return problems;
};

/**
 * Records the objects a deep check found corrupt or overwritten, for the next backup to copy
 * again. A failed write does not fail the check: the report says why it was not recorded.
 */
const recordFound = async (destination: Destination, prefix: string, problems: readonly Problem[]): Promise<Pick<VerifyReport, 'damageRecorded' | 'damageRecordError'>> => {
  const damaged = problems.filter((p) => p.kind === 'corrupt' && p.key !== undefined).map((p) => ({ key: p.key as string, ...(p.publicId ? { publicId: p.publicId } : {}), detail: p.detail }));
  try {
    return { damageRecorded: (await recordDamage(destination, prefix, damaged)) ?? null };
  } catch (err) {
    return { damageRecorded: null, damageRecordError: messageOf(err) };
  }
};

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
  // Issue 14: a million entries must fit. Keep only what the checks read: no tags, context or
  // metadata per entry, no Date per object (verify never reads lastModified).
  const entries: VerifiableEntry[] = [];
  for await (const e of catalog.entries()) entries.push(slim(e));
  const objects: StoredObject[] = [];
  for (const rt of RESOURCE_TYPES) {
    for await (const o of destination.list(typeRoot(prefix, rt, ''))) objects.push({ key: o.key, size: o.size, lastModified: UNREAD_DATE });
  }

  const inventory = checkInventory(entries, objects);
  const problems: Problem[] = [...inventory.problems];
  const deep = options.deep ? await deepCheck(destination, inventory.present, options.concurrency, observer) : { problems: [], hashed: 0, unhashed: 0, bytesRead: 0 };
  for (const p of deep.problems) problems.push(p);
  const { hashed, unhashed, bytesRead } = deep;
  if (source) problems.push(...(await sourceCheck(source, entries)));

  const damage = options.deep ? await recordFound(destination, prefix, problems) : { damageRecorded: null };

  const order: ProblemKind[] = ['missing', 'corrupt', 'extra', 'notBackedUp', 'outdated'];
  problems.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || (a.key ?? a.publicId ?? '').localeCompare(b.key ?? b.publicId ?? ''));
  return {
    against: destination.description,
    prefix,
    deep: options.deep,
    source: source !== undefined,
    catalogRunId: pointer.runId,
    catalogCompletedAt: pointer.completedAt,
    entries: entries.length,
    checked: inventory.checked,
    stale: inventory.stale,
    objects: objects.length,
    hashed,
    unhashed,
    bytesRead,
    missing: count(problems, 'missing'),
    extra: count(problems, 'extra'),
    corrupt: count(problems, 'corrupt'),
    notBackedUp: count(problems, 'notBackedUp'),
    outdated: count(problems, 'outdated'),
    cloudinaryApiCalls: source?.apiCalls ?? 0,
    problems: problems.slice(0, MAX_LISTED_PROBLEMS),
    ...damage,
    ok: problems.length === 0,
  };
};
