import { historyKey, historyRoot } from '../core/keys.ts';
import type { Destination } from '../ports/storage.ts';

/** Days a retired original is kept when nothing else is said (docs/history.md, "Retention"). */
export const DEFAULT_HISTORY_DAYS = 90;

const DAY_MS = 86_400_000;

/**
 * Retires the object at `key`, which holds Cloudinary version `version`, into history before it
 * is replaced or deleted (docs/history.md, "Nothing overwritten or deleted in place"): a copy to
 * its history key, server-side where the destination can (Destination.copy), else read and
 * written again. Resolves false when there was nothing to retire: no object at `key`, or the
 * history key is taken already — a repeated step whose first try retired it and then replaced
 * the object must not retire the new bytes under the old version.
 */
export const retire = async (destination: Destination, prefix: string, key: string, version: number): Promise<boolean> => {
  const to = historyKey(prefix, key, version);
  if (await destination.head(to)) return false;
  const from = await destination.head(key);
  if (!from) return false;
  if (destination.copy) await destination.copy(key, to);
  else await destination.put({ key: to, body: await destination.get(key), length: from.size });
  return true;
};

/**
 * Where the bytes of a catalog entry are now: its history key when that version was retired,
 * else its own key (the object there is still that version, or nothing has it any more).
 */
export const storedKeyOf = async (destination: Destination, prefix: string, key: string, version: number): Promise<string> => {
  const h = historyKey(prefix, key, version);
  return (await destination.head(h)) ? h : key;
};

/**
 * The retention a run applies: the days given explicitly (`--keep-history`, the stack's
 * `historyDays`), else the retention recorded in the backup, else the default — a run that was
 * told nothing keeps what another writer chose (docs/history.md, "Two writers").
 */
export const effectiveHistoryDays = (given: number | undefined, explicit: boolean, recorded: number | undefined): number =>
  explicit && given !== undefined ? given : (recorded ?? given ?? DEFAULT_HISTORY_DAYS);

/**
 * Deletes retired originals older than `days` (by the time they were retired: the copy's
 * last-modified time), only under `_history/`; resolves with how many. Never an asset key, never
 * the catalog.
 */
export const expireHistory = async (destination: Destination, prefix: string, days: number, now: Date): Promise<number> => {
  const cutoff = now.getTime() - days * DAY_MS;
  const root = `${historyRoot(prefix)}/`;
  const old: string[] = [];
  for await (const o of destination.list(root)) if (o.key.startsWith(root) && o.lastModified.getTime() < cutoff) old.push(o.key);
  for (const key of old) await destination.delete(key);
  return old.length;
};

/** Whether a restore point completed within the retention (the newest is kept whatever its age). */
export const keptPoint = (completedAt: string, days: number, now: Date): boolean => Date.parse(completedAt) >= now.getTime() - days * DAY_MS;

/**
 * How `--as-of` finds the bytes of a restore point's entries: the sizes of every retired
 * original (one listing of `_history/`), and the key an entry's bytes are at — its history key
 * when that version was retired, else its own.
 */
export const retiredIndex = async (destination: Destination, prefix: string): Promise<{ size(key: string): number | undefined; keyOf(key: string, version: number): string }> => {
  const sizes = new Map<string, number>();
  const root = `${historyRoot(prefix)}/`;
  for await (const o of destination.list(root)) if (o.key.startsWith(root)) sizes.set(o.key, o.size);
  return {
    size: (key) => sizes.get(key),
    keyOf: (key, version) => {
      if (sizes.size === 0) return key;
      const h = historyKey(prefix, key, version);
      return sizes.has(h) ? h : key;
    },
  };
};
