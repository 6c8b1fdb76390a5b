import type { PruneLimit } from '../core/prune-limit.ts';
import type { CatalogEntry } from '../store/catalog.ts';
import { CARRIED_ORD } from './catalog-pages.ts';
import type { CatalogPages } from './catalog-pages.ts';
import type { RunState } from './run-state.ts';


/** What the previous catalog holds, as finish needs it. */
export interface PreviousCatalog {
  /** Keys of every entry (any state): the objects this tool wrote. */
  has(key: string): boolean;
  /** Current (not deleted) entries per resource type. */
  readonly currentByType: ReadonlyMap<string, number>;
  readonly currentTotal: number;
}

/**
 * Which missing keys may be pruned, or why none may. Prune deletes only objects this tool wrote
 * (a catalog entry names them), never after a listing of a resource type that came back empty
 * while the backup holds assets of that type (a key restricted to some folders, another
 * account's CLOUDINARY_URL, an API hiccup answering `resources: []`), and never more than the
 * limit: above it nothing is pruned and the run says why.
 */
export const prunePlan = (
  missing: readonly string[],
  previous: PreviousCatalog,
  listedByType: Readonly<Record<string, number>>,
  resourceTypes: readonly string[],
  limit: PruneLimit,
): { readonly keys: readonly string[]; readonly refused: string | null } => {
  for (const rt of resourceTypes) {
    const held = previous.currentByType.get(rt) ?? 0;
    if ((listedByType[rt] ?? 0) === 0 && held > 0) {
      return {
        keys: [],
        refused: `the listing of ${rt} assets was empty while the backup holds ${held}; nothing was pruned (check that CLOUDINARY_URL names the right account and that its key may list every folder)`,
      };
    }
  }
  const owned = missing.filter((k) => previous.has(k));
  const max = 'count' in limit ? limit.count : Math.ceil(previous.currentTotal * limit.fraction);
  if (owned.length > max) {
    return {
      keys: [],
      refused:
        `${owned.length} backups of deleted assets exceed the prune limit of ${max}` +
        `${'fraction' in limit ? ` (${Math.round(limit.fraction * 100)}% of ${previous.currentTotal})` : ''}; nothing was pruned. ` +
        'If so many assets really were deleted, run again with a higher --max-prune (a count or a percentage).',
    };
  }
  return { keys: owned, refused: null };
};

/**
 * Adds to the run's catalog the entries it carries forward from the previous catalog: entries of
 * resource types this run did not list (a subset run keeps the others whole, with their
 * checksums), and backups of deleted assets that stay (as `deleted`); then closes its last page.
 * `previous` is read only when `anyKept` says some entry may be kept: a night on which every
 * type was listed and nothing is missing reads the previous catalog no second time.
 * Resolves with the state recording the pages.
 */
export const carryForward = async (
  pages: CatalogPages,
  state: RunState,
  previous: () => AsyncIterable<CatalogEntry>,
  anyKept: boolean,
  keep: (e: CatalogEntry) => CatalogEntry | undefined,
): Promise<RunState> => {
  let next = state;
  if (anyKept) {
    for await (const e of previous()) {
      const kept = keep(e);
      if (kept) next = await pages.add(next, [{ ord: CARRIED_ORD, entry: kept }]);
    }
  }
  return pages.add(next, [], true);
};
