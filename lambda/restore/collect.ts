import pLimit from 'p-limit';
import { KeyIndex } from '../backup/key-index.ts';
import type { Catalog, CatalogEntry } from '../store/catalog.ts';
import { CatalogSnapshot } from '../store/catalog-snapshot.ts';
import { RESOURCE_TYPES } from '../core/asset.ts';
import { ConfigError } from '../core/errors.ts';
import { typeRoot } from '../core/keys.ts';
import { readObjectMetadata } from '../core/metadata.ts';
import type { Failure } from '../core/report.ts';
import { identityFromKey, identityOf, selected } from '../core/restore-plan.ts';
import type { KeyIdentity, RestoreItem } from '../core/restore-plan.ts';
import type { Destination } from '../ports/storage.ts';
import type { MetadataReader } from '../ports/upload.ts';
import { placementOf } from '../core/upload-params.ts';

/** What collecting needs from the restore: where the backup is and what `--only` selects. */
export interface CollectSource {
  readonly destination: Destination;
  readonly catalog: Catalog;
  /** The normalized key prefix. */
  readonly prefix: string;
  readonly only: string | undefined;
  /** HeadObject calls in flight at once for objects the catalog does not name. */
  readonly concurrency: number;
  readonly metadataReader?: MetadataReader | undefined;
}

/** What cannot be restored from one selected source is reported as it is found, in selection order. */
export type FailureSink = (f: Failure) => void;

/**
 * The selection, compact (issue 14: a million assets): which catalog entry or object each
 * selected identity came from — the first source of an identity wins, the catalog before any
 * object — and the objects' table, without the items themselves. The catalog entries are read
 * again (`items`) when the plan and the uploads need them, a page at a time.
 */
export interface Selection {
  /** Identity -> the ordinal of the catalog entry that took it, or -1 - n for uncatalogued object n. */
  readonly ids: Map<string, number>;
  /** The objects under image/, video/ and raw/; `previous` marks the keys the catalog names. */
  readonly index: KeyIndex;
  /** The committed catalog, read again by each later pass (none when there is no catalog). */
  readonly snapshot: CatalogSnapshot | undefined;
  /** Catalog entries read. */
  readonly entries: number;
  /** Selected objects the catalog does not name, identified by their metadata or key. */
  readonly orphans: readonly RestoreItem[];
  /** Selected and restorable: catalog items and orphans. */
  readonly items: number;
  /** The resource types of the items, in the order first met. */
  readonly resourceTypes: readonly string[];
}

/** What the backup holds that `--only` selects; what cannot be restored goes to `fail`. */
export const collectRestore = async (src: CollectSource, fail: FailureSink): Promise<Selection> => {
  const index = await readInventory(src);
  const pointer = await src.catalog.pointer();
  if (!pointer && index.inventory.keys().next().done) {
    throw new ConfigError(
      `No backup found in ${src.destination.description}${src.prefix ? ` under "${src.prefix}"` : ''}: ` +
        'no catalog and no objects under image/, video/ or raw/. Check --from (s3://BUCKET/PREFIX or the folder given to backup --to).',
    );
  }
  const snapshot = pointer && new CatalogSnapshot(src.destination, src.catalog, pointer);
  const ids = new Map<string, number>();
  const types = new Set<string>();
  let entries = 0;
  let items = 0;
  if (snapshot) {
    for await (const page of snapshot.pages((e) => e)) {
      for (const e of page) {
        const j = entries++;
        index.setPrevious(e.key, { version: e.version, current: e.state === 'current', resourceType: e.resourceType });
        if (!selected(e.publicId, src.only) || ids.has(identityOf(e))) continue;
        ids.set(identityOf(e), j);
        const item = catalogItem(e, index.inventory.get(e.key)?.size);
        if ('error' in item) fail(item);
        else {
          items += 1;
          types.add(item.resourceType);
        }
      }
    }
  }
  const orphans = await uncatalogued(src, index, ids, fail);
  for (const o of orphans) types.add(o.resourceType);
  return { ids, index, snapshot, entries, orphans, items: items + orphans.length, resourceTypes: [...types] };
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

/**
 * Objects the catalog does not name, identified by their metadata or key. Under --only, a key
 * that already tells its public_id and is not selected is left alone without a HeadObject.
 */
const uncatalogued = async (src: CollectSource, index: KeyIndex, ids: Map<string, number>, fail: FailureSink): Promise<RestoreItem[]> => {
  const orphans: Array<{ key: string; size: number }> = [];
  for (const key of index.inventory.keys()) {
    if (index.previous.has(key)) continue;
    const fromKey = identityFromKey(src.prefix, key);
    if (typeof fromKey === 'string' || selected(fromKey.publicId, src.only)) orphans.push({ key, size: index.inventory.get(key)?.size as number });
  }
  const limit = pLimit(Math.max(1, src.concurrency));
  const resolved = await Promise.all(orphans.map((o) => limit(() => identityOfObject(src, o.key))));
  const items: RestoreItem[] = [];
  orphans.forEach((o, i) => {
    const id = resolved[i] as KeyIdentity | string;
    if (typeof id === 'string') {
      const fromKey = identityFromKey(src.prefix, o.key);
      fail({
        publicId: o.key,
        resourceType: typeof fromKey === 'string' ? '' : fromKey.resourceType,
        type: typeof fromKey === 'string' ? '' : fromKey.type,
        error: `not in the catalog and ${id}`,
      });
      return;
    }
    if (!selected(id.publicId, src.only) || ids.has(identityOf(id))) return;
    ids.set(identityOf(id), -1 - items.length);
    items.push({ key: o.key, length: o.size, ...id, tags: [], context: {}, metadata: {}, source: 'object' });
  });
  return items;
};

/** An uncatalogued object's identity: its `cld-*` metadata where the destination keeps it, else its key. */
const identityOfObject = async (src: CollectSource, key: string): Promise<KeyIdentity | string> => {
  const fromKey = identityFromKey(src.prefix, key);
  const meta = src.metadataReader ? readObjectMetadata((await src.metadataReader.headMetadata(key)) ?? {}) : {};
  const base = typeof fromKey === 'string' ? undefined : fromKey;
  const publicId = meta.publicId ?? base?.publicId;
  const resourceType = meta.resourceType ?? base?.resourceType;
  const type = meta.type ?? base?.type;
  if (publicId === undefined || resourceType === undefined || type === undefined) return fromKey as string;
  return { publicId, resourceType, type, format: meta.format ?? base?.format ?? '' };
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
        if (sel.ids.get(identityOf(e)) !== slot) continue;
        const item = catalogItem(e, sel.index.inventory.get(e.key)?.size);
        if (!('error' in item)) yield { item, slot };
      }
    }
  }
  for (const [n, item] of sel.orphans.entries()) yield { item, slot: sel.entries + n };
}
