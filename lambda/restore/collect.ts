import pLimit from 'p-limit';
import { KeyIndex } from '../backup/key-index.ts';
import type { Catalog, CatalogEntry } from '../store/catalog.ts';
import { restorePointAsOf } from '../store/as-of.ts';
import { retiredIndex } from '../store/history.ts';
import { CatalogSnapshot } from '../store/catalog-snapshot.ts';
import { RESOURCE_TYPES } from '../core/asset.ts';
import { ConfigError } from '../core/errors.ts';
import { keyFor, typeRoot } from '../core/keys.ts';
import { isSystemFile } from '../core/system-files.ts';
import { readObjectMetadata } from '../core/metadata.ts';
import type { Failure } from '../core/report.ts';
import { identityFromKey, selected } from '../core/restore-plan.ts';
import type { KeyIdentity, RestoreItem } from '../core/restore-plan.ts';
import type { Destination } from '../ports/storage.ts';
import type { MetadataReader } from '../ports/upload.ts';
import { placementOf } from '../core/upload-params.ts';
import { IdentityMap } from './identity-map.ts';

/** What collecting needs from the restore: where the backup is and what `--only` selects. */
export interface CollectSource {
  readonly destination: Destination;
  readonly catalog: Catalog;
  /** The normalized key prefix. */
  readonly prefix: string;
  readonly only: string | undefined;
  /** `--as-of` (RestoreOptions.asOf): that restore point's entries only. */
  readonly asOf?: string | undefined;
  /** HeadObject calls in flight at once for objects the catalog does not name. */
  readonly concurrency: number;
  readonly metadataReader?: MetadataReader | undefined;
  /** Also restore objects the catalog does not name, when the tool's metadata or key rule identifies them (see identityOfObject). */
  readonly includeUncatalogued?: boolean;
}

/** What cannot be restored from one selected source is reported as it is found, in selection order. */
export type FailureSink = (f: Failure) => void;

/**
 * The selection, compact (a million assets): which catalog entry or object each
 * selected identity came from — the first source of an identity wins, the catalog before any
 * object — and the objects' table, without the items themselves. The catalog entries are read
 * again (`items`) when the plan and the uploads need them, a page at a time.
 */
export interface Selection {
  /** Identity -> the ordinal of the catalog entry that took it, or -1 - n for uncatalogued object n. */
  readonly ids: IdentityMap<number>;
  /** The size of the object at catalog entry j's key, -1 when there is none. */
  readonly sizes: Float64Array;
  /** The committed catalog, read again by each later pass (none when there is no catalog). */
  readonly snapshot: CatalogSnapshot | undefined;
  /** Catalog entries read. */
  readonly entries: number;
  /** Selected objects the catalog does not name, identified by their metadata or key. */
  readonly orphans: readonly RestoreItem[];
  /** Selected and restorable: catalog items and orphans. */
  readonly items: number;
  /** Objects the catalog does not name, left out: restored only with includeUncatalogued. */
  readonly leftOut: number;
  /** Dot-files and operating-system files (isSystemFile): never restored. */
  readonly systemFiles: number;
  /** The resource types of the items, in the order first met. */
  readonly resourceTypes: readonly string[];
  /** Where an entry's bytes are: its key, or under `--as-of` its history key when that version was retired. */
  readonly at: (e: CatalogEntry) => CatalogEntry;
}

/**
 * What the backup holds that `--only` selects; what cannot be restored goes to `fail`, catalog
 * entries first. Two passes over the catalog, so that the objects' table (pass 1: which keys the
 * catalog names, the size of each entry's object, the uncatalogued objects) is gone before the
 * identities are held (pass 2: the selection).
 */
export const collectRestore = async (src: CollectSource, fail: FailureSink): Promise<Selection> => {
  const { snapshot, sizes, entries, unnamed, leftOut, systemFiles, at: placed } = await objectsPass(src);
  const ids = new IdentityMap<number>();
  const types = new Set<string>();
  let items = 0;
  let j = 0;
  for await (const page of snapshot ? snapshot.pages((e) => e) : []) {
    for (const e of page) {
      const at = j++;
      if (!selected(e.publicId, src.only) || ids.has(e)) continue;
      ids.set(e, at);
      const item = catalogItem(placed(e), sizeOf(sizes, at));
      if ('error' in item) fail(item);
      else {
        items += 1;
        types.add(item.resourceType);
      }
    }
  }
  const orphans = selectOrphans(src, unnamed, ids, fail);
  for (const o of orphans) types.add(o.resourceType);
  return { ids, sizes, snapshot, entries, orphans, items: items + orphans.length, resourceTypes: [...types], leftOut, systemFiles, at: placed };
};

/**
 * Pass 1 of collectRestore, in a function of its own: the objects' table (KeyIndex) is garbage
 * once it returns, before pass 2 holds the identities. Inline, the suspended async function kept
 * it alive through pass 2 (at 1M assets both at once were restore --dry-run's peak).
 */
const objectsPass = async (src: CollectSource): Promise<{ snapshot: CatalogSnapshot | undefined; sizes: Float64Array; entries: number; at: (e: CatalogEntry) => CatalogEntry } & Uncatalogued> => {
  const index = await readInventory(src);
  const pointer = src.asOf === undefined ? await src.catalog.pointer() : (await restorePointAsOf(src.catalog, src.asOf, src.destination.description)).pointer;
  if (!pointer && index.inventory.keys().next().done) {
    throw new ConfigError(
      `No backup found in ${src.destination.description}${src.prefix ? ` under "${src.prefix}"` : ''}: ` +
        'no catalog and no objects under image/, video/ or raw/. Check --from (s3://BUCKET/PREFIX or the folder given to backup --to).',
    );
  }
  if (!pointer && !src.includeUncatalogued) {
    throw new ConfigError(
      `No catalog in ${src.destination.description}${src.prefix ? ` under "${src.prefix}"` : ''}: a restore uploads what the catalog names. ` +
        'To upload the objects there that cloudinary-backup wrote (named by their cld-* metadata on S3, or by their keys in a folder), add --include-uncatalogued.',
    );
  }
  const snapshot = pointer ? new CatalogSnapshot(src.destination, src.catalog, pointer) : undefined;
  // Under --as-of, a version replaced or pruned since is read from history (docs/history.md).
  const retired = src.asOf === undefined ? undefined : await retiredIndex(src.destination, src.prefix);
  const at = (e: CatalogEntry): CatalogEntry => {
    const key = retired ? retired.keyOf(e.key, e.version) : e.key;
    return key === e.key ? e : { ...e, key };
  };
  let sizes: Float64Array = new Float64Array(1024);
  let entries = 0;
  if (snapshot) {
    // Only the fields this pass reads: a page of whole entries (tags, context, metadata) lives
    // long enough to be promoted to V8's old space, ~10,000 entries a page.
    for await (const page of snapshot.pages(pass1Fields)) {
      for (const e of page) {
        index.setPrevious(e.key, { version: e.version, current: e.state === 'current', resourceType: e.resourceType });
        if (entries >= sizes.length) sizes = grow(sizes);
        const key = retired ? retired.keyOf(e.key, e.version) : e.key;
        sizes[entries++] = index.inventory.get(key)?.size ?? retired?.size(key) ?? -1;
      }
    }
  }
  // A restore point is that night's account: objects its catalog does not name came later.
  return { snapshot, sizes, entries, at, ...(src.asOf === undefined ? await uncatalogued(src, index) : { unnamed: [], leftOut: 0, systemFiles: 0 }) };
};

/** The fields of a catalog entry pass 1 reads. */
const pass1Fields = (e: CatalogEntry): Pick<CatalogEntry, 'key' | 'version' | 'state' | 'resourceType'> => ({ key: e.key, version: e.version, state: e.state, resourceType: e.resourceType });

const grow = (a: Float64Array): Float64Array => {
  const next = new Float64Array(a.length * 2);
  next.set(a);
  return next;
};

/** The size Selection.sizes records for entry j, undefined when its object is missing. */
const sizeOf = (sizes: Float64Array, j: number): number | undefined => {
  const s = sizes[j] as number;
  return s < 0 ? undefined : s;
};

/** Every object under image/, video/ and raw/, in the compact table backup uses (KeyIndex). */
const readInventory = async (src: CollectSource): Promise<KeyIndex> => {
  const index = new KeyIndex();
  for (const rt of RESOURCE_TYPES) {
    for await (const o of src.destination.list(typeRoot(src.prefix, rt, ''))) index.setStored(o);
  }
  return index;
};

/**
 * The item a selected catalog entry restores, given the size of the object at its key
 * (undefined: none), or why its object cannot be restored.
 */
export const catalogItem = (e: CatalogEntry, size: number | undefined): RestoreItem | Failure => {
  const who = { publicId: e.publicId, resourceType: e.resourceType, type: e.type };
  if (size === undefined) {
    return {
      ...who,
      error: e.state === 'stale' ? 'never backed up: the last backup could not copy it' : `its object ${e.key} is missing from the backup (run verify)`,
    };
  }
  if (e.state !== 'stale' && size !== e.bytes) {
    return { ...who, error: `its object ${e.key} is ${size} bytes, the catalog says ${e.bytes}: the backup copy is damaged (run verify --deep)` };
  }
  return {
    key: e.key,
    length: size,
    publicId: e.publicId,
    resourceType: e.resourceType,
    type: e.type,
    format: e.format,
    tags: e.tags,
    context: e.context,
    metadata: e.metadata,
    ...(placementOf(e) ? { placement: placementOf(e) } : {}),
    ...(e.moderationStatus ? { moderationStatus: e.moderationStatus } : {}),
    source: 'catalog',
    ...(e.sha256 && e.state !== 'stale' ? { sha256: e.sha256 } : {}),
    ...(e.state === 'stale' ? { olderVersion: true } : {}),
  };
};

/** An object the catalog does not name, with its identity (or why it has none). */
interface Unnamed {
  readonly key: string;
  readonly size: number;
  readonly id: KeyIdentity | string;
}

/** The objects the catalog does not name: those to identify, and how many were left out. */
interface Uncatalogued {
  readonly unnamed: Unnamed[];
  readonly leftOut: number;
  readonly systemFiles: number;
}

/**
 * Objects the catalog does not name. Dot-files and system files are never restored; the others only
 * with includeUncatalogued, identified by the tool's metadata or key (identityOfObject). Under
 * --only, a key that already tells its public_id and is not selected is left alone without a HeadObject.
 */
const uncatalogued = async (src: CollectSource, index: KeyIndex): Promise<Uncatalogued> => {
  const orphans: Array<{ key: string; size: number }> = [];
  let leftOut = 0;
  let systemFiles = 0;
  for (const key of index.inventory.keys()) {
    if (index.previous.has(key)) continue;
    if (isSystemFile(src.prefix, key)) {
      systemFiles += 1;
      continue;
    }
    const fromKey = identityFromKey(src.prefix, key);
    if (typeof fromKey !== 'string' && !selected(fromKey.publicId, src.only)) continue;
    if (src.includeUncatalogued) orphans.push({ key, size: index.inventory.get(key)?.size as number });
    else leftOut += 1;
  }
  const limit = pLimit(Math.max(1, src.concurrency));
  const resolved = await Promise.all(orphans.map((o) => limit(() => identityOfObject(src, o.key))));
  return { unnamed: orphans.map((o, i) => ({ ...o, id: resolved[i] as KeyIdentity | string })), leftOut, systemFiles };
};

/** The uncatalogued objects selected, after every catalog entry (the catalog's source of an identity wins). */
const selectOrphans = (src: CollectSource, unnamed: readonly Unnamed[], ids: IdentityMap<number>, fail: FailureSink): RestoreItem[] => {
  const items: RestoreItem[] = [];
  for (const { key, size, id } of unnamed) {
    if (typeof id === 'string') {
      const fromKey = identityFromKey(src.prefix, key);
      fail({
        publicId: key,
        resourceType: typeof fromKey === 'string' ? '' : fromKey.resourceType,
        type: typeof fromKey === 'string' ? '' : fromKey.type,
        error: `not in the catalog and ${id}`,
      });
      continue;
    }
    if (!selected(id.publicId, src.only) || ids.has(id)) continue;
    ids.set(id, -1 - items.length);
    items.push({ key, length: size, ...id, tags: [], context: {}, metadata: {}, source: 'object' });
  }
  return items;
};

/**
 * An uncatalogued object's identity, or why it has none. Where the destination keeps metadata (S3),
 * the tool's `cld-*` metadata (core/metadata.ts) must name it: an object without it was written by
 * something else. A folder keeps none: the key must be the one the key rule (keyFor) makes of the
 * identity it spells, so a file dropped in by hand under another name is not taken for an asset.
 */
const identityOfObject = async (src: CollectSource, key: string): Promise<KeyIdentity | string> => {
  const fromKey = identityFromKey(src.prefix, key);
  const base = typeof fromKey === 'string' ? undefined : fromKey;
  if (src.metadataReader) {
    const meta = readObjectMetadata((await src.metadataReader.headMetadata(key)) ?? {});
    if (meta.publicId === undefined || meta.resourceType === undefined || meta.type === undefined) return 'it has no cloudinary-backup metadata (cld-*): another tool wrote it';
    return { publicId: meta.publicId, resourceType: meta.resourceType, type: meta.type, format: meta.format ?? base?.format ?? '' };
  }
  if (base === undefined) return fromKey as string;
  return keyFor(src.prefix, base) === key ? base : `its key is not the one cloudinary-backup writes for ${base.resourceType}/${base.type}/${base.publicId}`;
};

/** Where `have` keeps the flag of the source an `ids` value names (catalog entry j, or orphan n as -1 - n). */
export const slotOf = (sel: Selection, source: number): number => (source >= 0 ? source : sel.entries - 1 - source);

/**
 * The selection's restorable items again, in selection order (catalog entries, then orphans),
 * read from the catalog a page at a time: only the entry that took its identity, and only when
 * its object is restorable (the failures were reported by collectRestore). `slot` is its place
 * in a flag array of `entries + orphans` (see slotOf).
 */
export async function* selectedItems(sel: Selection): AsyncIterable<{ item: RestoreItem; slot: number }> {
  let j = 0;
  if (sel.snapshot) {
    for await (const page of sel.snapshot.pages((e) => e)) {
      for (const e of page) {
        const slot = j++;
        if (sel.ids.get(e) !== slot) continue;
        const item = catalogItem(sel.at(e), sizeOf(sel.sizes, slot));
        if (!('error' in item)) yield { item, slot };
      }
    }
  }
  for (const [n, item] of sel.orphans.entries()) yield { item, slot: sel.entries + n };
}
