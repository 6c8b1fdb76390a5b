/**
 * Where catalog pages end (docs/history.md, "Catalog pages that change only where the account
 * changed"): after an entry whose key hash meets a condition, once the page holds `min` entries,
 * and at `max` entries whatever the hashes. The condition depends on the key alone, so an
 * insertion, deletion or edit moves no boundary but its own page's: every other page keeps its
 * bytes (and, being named by them, its file). This is content-defined chunking, as backup tools
 * cut files into blobs (restic's chunker: https://restic.readthedocs.io/en/stable/100_references.html#backups-and-deduplication),
 * applied to the catalog's entries.
 */

/** The sizes of pages around an average. */
export interface PageBounds {
  /** A page never ends before this many entries. */
  readonly min: number;
  /** A page always ends at this many entries. */
  readonly max: number;
  /** A key ends a page (past `min`) with a chance of one in `period`. */
  readonly period: number;
}

/**
 * Bounds whose pages hold `average` entries on average (min + period, before the cap): a
 * quarter of the average at least, four times it at most. @default average 10,000: 2,500 to
 * 40,000 entries, a boundary one key in 7,500.
 */
export const pageBounds = (average: number): PageBounds => {
  const avg = Math.max(1, Math.floor(average));
  const min = Math.max(1, Math.floor(avg / 4));
  return { min, max: Math.max(avg * 4, min + 1), period: Math.max(1, avg - min) };
};

/**
 * A 32-bit hash of a key: FNV-1a over its UTF-16 code units, then murmur3's finaliser so the
 * low bits are well mixed (FNV-1a alone leaves them biased for short keys). Cheap: it runs for
 * every entry of every night, where a sha256 each cost measurable time at 1,000,000 assets.
 */
export const keyHash32 = (key: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
};

/** Whether the entry of `key`, the `count`-th of its page, ends the page. */
export const endsPage = (bounds: PageBounds, key: string, count: number): boolean =>
  count >= bounds.max || (count >= bounds.min && keyHash32(key) % bounds.period === 0);
