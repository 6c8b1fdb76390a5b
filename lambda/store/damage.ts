import { catalogRoot } from '../core/keys.ts';
import type { Destination } from '../ports/storage.ts';
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
 * After a backup whose listing completed: drops from the record the objects written since it
 * (their last-modified time is not earlier than the record's; both times are the destination's
 * own clock, so no clock skew enters). What is still damaged (a copy that failed) stays.
 */
export const settleDamage = async (destination: Destination, prefix: string): Promise<void> => {
  const key = damageKey(prefix);
  const at = await destination.head(key);
  if (!at) return;
  const rec = await readJson<DamageRecord>(destination, key);
  if (!rec || rec.objects.length === 0) return;
  const still: DamagedObject[] = [];
  for (const o of rec.objects) {
    const h = await destination.head(o.key);
    if (!h || h.lastModified.getTime() < at.lastModified.getTime()) still.push(o);
  }
  if (still.length !== rec.objects.length) await writeJson(destination, key, { ...rec, objects: still } satisfies DamageRecord);
};
