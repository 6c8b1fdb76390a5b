import pLimit from 'p-limit';
import type { Catalog, CatalogEntry } from '../store/catalog.ts';
import type { StoredObject } from '../core/asset.ts';
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

/**
 * The selection built from the catalog and then from the objects it does not name. One object so
 * both halves share the duplicate rule (`ids`: the first source of an identity wins, the catalog
 * before any object) without passing six accumulators between them.
 */
interface Selection {
  readonly items: RestoreItem[];
  readonly failures: Failure[];
  /** Identities already selected. */
  readonly ids: Set<string>;
  /** Keys the catalog names, whether selected or not. */
  readonly named: Set<string>;
}

/** What the backup holds that `--only` selects, and what cannot be restored from it. */
export const collectRestore = async (src: CollectSource): Promise<{ items: RestoreItem[]; failures: Failure[] }> => {
  const inventory = await readInventory(src);
  const sel: Selection = { items: [], failures: [], ids: new Set(), named: new Set() };
  for await (const e of src.catalog.entries()) addCatalogEntry(sel, e, inventory.get(e.key), src.only);
  await addUncatalogued(sel, src, inventory);
  return { items: sel.items, failures: sel.failures };
};

/** Every object under image/, video/ and raw/; refuses a place that holds no backup at all. */
const readInventory = async (src: CollectSource): Promise<Map<string, StoredObject>> => {
  const inventory = new Map<string, StoredObject>();
  for (const rt of RESOURCE_TYPES) {
    for await (const o of src.destination.list(typeRoot(src.prefix, rt, ''))) inventory.set(o.key, o);
  }
  const pointer = await src.catalog.pointer();
  if (!pointer && inventory.size === 0) {
    throw new ConfigError(
      `No backup found in ${src.destination.description}${src.prefix ? ` under "${src.prefix}"` : ''}: ` +
        'no catalog and no objects under image/, video/ or raw/. Check --from (s3://BUCKET/PREFIX or the folder given to backup --to).',
    );
  }
  return inventory;
};

/** Selects one catalog entry, or records why its object cannot be restored. */
const addCatalogEntry = (sel: Selection, e: CatalogEntry, o: StoredObject | undefined, only: string | undefined): void => {
  sel.named.add(e.key);
  if (!selected(e.publicId, only) || sel.ids.has(identityOf(e))) return;
  sel.ids.add(identityOf(e));
  const who = { publicId: e.publicId, resourceType: e.resourceType, type: e.type };
  if (!o) {
    sel.failures.push({
      ...who,
      error:
        e.state === 'stale'
          ? 'never backed up: the last backup could not copy it'
          : `its object ${e.key} is missing from the backup (run verify)`,
    });
    return;
  }
  if (e.state !== 'stale' && o.size !== e.bytes) {
    sel.failures.push({ ...who, error: `its object ${e.key} is ${o.size} bytes, the catalog says ${e.bytes}: the backup copy is damaged (run verify --deep)` });
    return;
  }
  sel.items.push({
    key: e.key,
    length: o.size,
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
  });
};

/**
 * Objects the catalog does not name, identified by their metadata or key. Under --only, a key
 * that already tells its public_id and is not selected is left alone without a HeadObject.
 */
const addUncatalogued = async (sel: Selection, src: CollectSource, inventory: Map<string, StoredObject>): Promise<void> => {
  const orphans = [...inventory.values()].filter((o) => {
    if (sel.named.has(o.key)) return false;
    const fromKey = identityFromKey(src.prefix, o.key);
    return typeof fromKey === 'string' || selected(fromKey.publicId, src.only);
  });
  const limit = pLimit(Math.max(1, src.concurrency));
  const resolved = await Promise.all(orphans.map((o) => limit(() => identityOfObject(src, o.key))));
  orphans.forEach((o, i) => {
    const id = resolved[i] as KeyIdentity | string;
    if (typeof id === 'string') {
      const fromKey = identityFromKey(src.prefix, o.key);
      sel.failures.push({
        publicId: o.key,
        resourceType: typeof fromKey === 'string' ? '' : fromKey.resourceType,
        type: typeof fromKey === 'string' ? '' : fromKey.type,
        error: `not in the catalog and ${id}`,
      });
      return;
    }
    if (!selected(id.publicId, src.only) || sel.ids.has(identityOf(id))) return;
    sel.ids.add(identityOf(id));
    sel.items.push({ key: o.key, length: o.size, ...id, tags: [], context: {}, metadata: {}, source: 'object' });
  });
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
