import { catalogRoot } from '../core/keys.ts';
import type { Destination } from '../ports/storage.ts';
import type { CatalogEntry } from './catalog.ts';
import { readJson, writeJson } from './read-json.ts';

/** One object `verify --deep` found damaged: its bytes are not the ones the catalog recorded. */
export interface DamagedObject {
  readonly key: string;
  readonly publicId?: string;
  readonly detail: string;
}

/** The damage record: what the last deep verify found, less what backups have since rewritten. */
export interface DamageRecord {
  readonly format: 1;
  readonly foundAt: string;
  readonly objects: readonly DamagedObject[];
}

/** `<prefix>/_catalog/damaged.json`. */
export const damageKey = (prefix: string): string => `${catalogRoot(prefix)}/damaged.json`;

/**
 * Records what a deep verify found corrupt or overwritten, so that the next backup copies those
 * assets again (their catalog entry would otherwise say "current" and the size may match).
 * Nothing is written when nothing was found and no record exists. Resolves with the key written.
 */
export const recordDamage = async (destination: Destination, prefix: string, objects: readonly DamagedObject[], now = new Date()): Promise<string | undefined> => {
  const key = damageKey(prefix);
  if (objects.length === 0 && (await destination.head(key)) === undefined) return undefined;
  await writeJson(destination, key, { format: 1, foundAt: now.toISOString(), objects } satisfies DamageRecord);
  return key;
};

/** The keys the last deep verify found damaged (none when there is no record). */
export const damagedKeys = async (destination: Destination, prefix: string): Promise<Set<string>> => {
  const rec = await readJson<DamageRecord>(destination, damageKey(prefix));
  return new Set((rec?.objects ?? []).map((o) => o.key));
};

/**
 * After a backup whose listing completed and whose catalog is committed: drops from the record
 * the objects that run copied again. `treated` is the record the run read when it prepared: it
 * treated those keys as not current, so an entry of a resource type it listed that is `current`
 * in its catalog was copied by it; a copy that failed or was deferred left the entry `stale`, and
 * the key stays recorded. A key recorded since (a `verify --deep` during the run: verify takes no
 * lease) was not treated, so it stays whatever its entry says; and a run that read no damage
 * reads the record no second time (the fixed requests of a no-change night). No clock
 * is compared. `entries` is the committed catalog.
 */
export const settleDamage = async (
  destination: Destination,
  prefix: string,
  entries: AsyncIterable<CatalogEntry>,
  listedTypes: ReadonlySet<string>,
  treated: ReadonlySet<string>,
): Promise<void> => {
  if (treated.size === 0) return;
  const key = damageKey(prefix);
  const rec = await readJson<DamageRecord>(destination, key);
  if (!rec || rec.objects.length === 0) return;
  const recorded = new Set(rec.objects.map((o) => o.key).filter((k) => treated.has(k)));
  const repaired = new Set<string>();
  for await (const e of entries) if (recorded.has(e.key) && e.state === 'current' && listedTypes.has(e.resourceType)) repaired.add(e.key);
  if (repaired.size > 0) await writeJson(destination, key, { ...rec, objects: rec.objects.filter((o) => !repaired.has(o.key)) } satisfies DamageRecord);
};
