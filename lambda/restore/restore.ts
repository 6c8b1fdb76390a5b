import pLimit from 'p-limit';
import { Catalog } from '../store/catalog.ts';
import { listAll } from '../adapters/cloudinary/list-all.ts';
import type { StoredObject } from '../core/asset.ts';
import { RESOURCE_TYPES, listingsFor } from '../core/asset.ts';
import { ConfigError, messageOf } from '../core/errors.ts';
import { normalizePrefix, typeRoot } from '../core/keys.ts';
import { readObjectMetadata } from '../core/metadata.ts';
import type { Failure } from '../core/report.ts';
import { MAX_LISTED_FAILURES } from '../core/report.ts';
import { identityFromKey, identityOf, selected } from '../core/restore-plan.ts';
import type { KeyIdentity, RestoreItem } from '../core/restore-plan.ts';
import type { Destination, Source } from '../ports/storage.ts';
import { UploadError } from '../ports/upload.ts';
import type { MetadataReader, Uploader } from '../ports/upload.ts';
import { placementOf } from '../core/upload-params.ts';
import { loadMetadataFields } from '../store/metadata-fields.ts';
import { prepareMetadataFields } from './metadata-fields.ts';
import type { FieldsOutcome, MetadataFieldAdmin } from './metadata-fields.ts';
import { moderationCounts, moderationSteps, restoreModeration } from './moderation.ts';
import type { ModerationAdmin } from './moderation.ts';
import { checkStoredName, refuseBadNames } from './names.ts';
import type { RestoreReport } from './report.ts';
import { ChecksumMismatchError } from '../transfer/exact-length.ts';
import { transferWithRetry } from '../transfer/retrying.ts';

/** Settings of one restore. */
export interface RestoreOptions {
  /** Key prefix of the backup ('' for none). */
  readonly prefix: string;
  /** Only public_ids starting with this. */
  readonly only?: string;
  /** Replace assets that exist in the account (otherwise they are skipped). */
  readonly overwrite: boolean;
  /** Plan only: list what would be uploaded, upload nothing. */
  readonly dryRun: boolean;
  /** Uploads in flight at once. */
  readonly concurrency: number;
  /** Tries per asset, each with a fresh read of the backup. @default 3 */
  readonly attempts?: number;
  /** Pause before a retry, multiplied by the attempt number. @default 500 */
  readonly retryDelayMs?: number;
  /** A backup read with no byte for this long is abandoned. @default 60000 */
  readonly idleTimeoutMs?: number;
}

export type { RestoreReport } from './report.ts';

/** Things a front end may want to show; every callback is optional. */
export interface RestoreObserver {
  /** The uploads about to start (after the existence check). */
  planned?(items: readonly RestoreItem[]): void;
  restored?(item: RestoreItem): void;
  failed?(asset: Pick<RestoreItem, 'publicId' | 'resourceType' | 'type'>, error: string): void;
  bytes?(n: number): void;
}

/**
 * The listing side restore needs: one Admin API page at a time, counted (see GuardedSource);
 * with the metadata-field calls when it has them (the fields are then prepared first).
 */
export type ListingSource = Pick<Source, 'listPage'> & { readonly apiCalls: number } & Partial<MetadataFieldAdmin> & Partial<ModerationAdmin>;

type Outcome = 'restored' | 'existing' | 'cancelled' | { error: string };

/**
 * Brings a backup back into a Cloudinary account. Reads the catalog (and, for objects the
 * catalog does not name, their metadata or key), asks the account which assets it already has
 * (one Admin API listing page per 500 assets, never one call per asset), and uploads the rest
 * with bounded concurrency. A rerun skips what the previous run uploaded. A refused signature
 * or key stops the run: every other upload would fail the same way.
 */
export class RestoreEngine {
  private readonly catalog: Catalog;
  private readonly prefix: string;
  private fatal: UploadError | undefined;

  constructor(
    private readonly lister: ListingSource,
    private readonly uploader: Uploader,
    private readonly destination: Destination,
    private readonly options: RestoreOptions,
    private readonly observer: RestoreObserver = {},
    private readonly metadataReader?: MetadataReader,
  ) {
    this.prefix = normalizePrefix(options.prefix);
    this.catalog = new Catalog(destination, this.prefix);
  }

  /**
   * What the backup holds that `--only` selects, and what cannot be restored from it.
   * Long (~80 lines) because the catalog's entries and the objects no entry names are one
   * selection with shared duplicate and failure rules; split, the same six accumulators would
   * travel between the halves.
   */
  async collect(): Promise<{ items: RestoreItem[]; failures: Failure[] }> {
    const inventory = new Map<string, StoredObject>();
    for (const rt of RESOURCE_TYPES) {
      for await (const o of this.destination.list(typeRoot(this.prefix, rt, ''))) inventory.set(o.key, o);
    }
    const pointer = await this.catalog.pointer();
    if (!pointer && inventory.size === 0) {
      throw new ConfigError(
        `No backup found in ${this.destination.description}${this.prefix ? ` under "${this.prefix}"` : ''}: ` +
          'no catalog and no objects under image/, video/ or raw/. Check --from (s3://BUCKET/PREFIX or the folder given to backup --to).',
      );
    }
    const items: RestoreItem[] = [];
    const failures: Failure[] = [];
    const ids = new Set<string>();
    const named = new Set<string>();
    const only = this.options.only;
    for await (const e of this.catalog.entries()) {
      named.add(e.key);
      if (!selected(e.publicId, only) || ids.has(identityOf(e))) continue;
      ids.add(identityOf(e));
      const who = { publicId: e.publicId, resourceType: e.resourceType, type: e.type };
      const o = inventory.get(e.key);
      if (!o) {
        failures.push({
          ...who,
          error:
            e.state === 'stale'
              ? 'never backed up: the last backup could not copy it'
              : `its object ${e.key} is missing from the backup (run verify)`,
        });
        continue;
      }
      if (e.state !== 'stale' && o.size !== e.bytes) {
        failures.push({ ...who, error: `its object ${e.key} is ${o.size} bytes, the catalog says ${e.bytes}: the backup copy is damaged (run verify --deep)` });
        continue;
      }
      items.push({
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
    }
    // Objects the catalog does not name. Under --only, a key that already tells its public_id
    // and is not selected is left alone without a HeadObject.
    const orphans = [...inventory.values()].filter((o) => {
      if (named.has(o.key)) return false;
      const fromKey = identityFromKey(this.prefix, o.key);
      return typeof fromKey === 'string' || selected(fromKey.publicId, only);
    });
    const limit = pLimit(Math.max(1, this.options.concurrency));
    const resolved = await Promise.all(orphans.map((o) => limit(() => this.identityOfObject(o.key))));
    orphans.forEach((o, i) => {
      const id = resolved[i] as KeyIdentity | string;
      if (typeof id === 'string') {
        const fromKey = identityFromKey(this.prefix, o.key);
        failures.push({
          publicId: o.key,
          resourceType: typeof fromKey === 'string' ? '' : fromKey.resourceType,
          type: typeof fromKey === 'string' ? '' : fromKey.type,
          error: `not in the catalog and ${id}`,
        });
        return;
      }
      if (!selected(id.publicId, only) || ids.has(identityOf(id))) return;
      ids.add(identityOf(id));
      items.push({ key: o.key, length: o.size, ...id, tags: [], context: {}, metadata: {}, source: 'object' });
    });
    return { items, failures };
  }

  /** An uncatalogued object's identity: its `cld-*` metadata where the destination keeps it, else its key. */
  private async identityOfObject(key: string): Promise<KeyIdentity | string> {
    const fromKey = identityFromKey(this.prefix, key);
    const meta = this.metadataReader ? readObjectMetadata((await this.metadataReader.headMetadata(key)) ?? {}) : {};
    const base = typeof fromKey === 'string' ? undefined : fromKey;
    const publicId = meta.publicId ?? base?.publicId;
    const resourceType = meta.resourceType ?? base?.resourceType;
    const type = meta.type ?? base?.type;
    if (publicId === undefined || resourceType === undefined || type === undefined) return fromKey as string;
    return { publicId, resourceType, type, format: meta.format ?? base?.format ?? '' };
  }

  /** Creates the backup's structured metadata fields the account lacks (see prepareMetadataFields). */
  private async prepareFields(): Promise<FieldsOutcome> {
    const lister = this.lister;
    if (!lister.readMetadataFields || !lister.createMetadataField) return { created: [], conflicts: [] };
    const saved = await loadMetadataFields(this.destination, this.prefix);
    if (!saved) return { created: [], conflicts: [] };
    return prepareMetadataFields(saved.fields, lister as MetadataFieldAdmin, this.options.dryRun);
  }

  /** The identities of the assets the account has, for the resource types given. */
  private async existing(resourceTypes: readonly string[]): Promise<Set<string>> {
    const have = new Set<string>();
    for (const l of listingsFor(resourceTypes)) for await (const a of listAll(this.lister, l.resourceType, l.type)) have.add(identityOf(a));
    return have;
  }

  /** A whole restore. Rejects (with `report` attached) when the account refuses the credentials. */
  async run(): Promise<RestoreReport> {
    const { items, failures } = await this.collect();
    const fields = await this.prepareFields();
    const have = this.options.overwrite ? new Set<string>() : await this.existing([...new Set(items.map((i) => i.resourceType))]);
    const planned = items.filter((i) => !have.has(identityOf(i)));
    const { uploads: toUpload, refused } = refuseBadNames(planned);
    const report: RestoreReport = {
      from: this.destination.description,
      prefix: this.prefix,
      to: this.uploader.description,
      dryRun: this.options.dryRun,
      overwrite: this.options.overwrite,
      only: this.options.only ?? null,
      listed: items.length + failures.length,
      restored: 0,
      skipped: items.length - planned.length,
      failed: 0,
      bytesRestored: 0,
      plannedUploads: toUpload.length,
      plannedBytes: toUpload.reduce((n, i) => n + i.length, 0),
      notInCatalog: items.filter((i) => i.source === 'object').length,
      olderVersions: items.filter((i) => i.olderVersion).length,
      cloudinaryApiCalls: this.lister.apiCalls,
      folders: [...new Set(toUpload.map((i) => i.placement?.assetFolder ?? '').filter((f) => f !== ''))].sort().slice(0, 1000),
      moderation: moderationCounts(toUpload),
      metadataFieldsCreated: fields.created,
      metadataFieldConflicts: fields.conflicts,
      failures: [],
    };
    const fail = (f: Failure): void => {
      report.failed += 1;
      if (report.failures.length < MAX_LISTED_FAILURES) report.failures.push(f);
    };
    for (const f of [...failures, ...refused]) {
      fail(f);
      this.observer.failed?.(f, f.error);
    }
    this.observer.planned?.(toUpload);
    if (this.options.dryRun) return report;

    const limit = pLimit(Math.max(1, this.options.concurrency));
    const outcomes = await Promise.all(toUpload.map((item) => limit(() => this.uploadGuarded(item))));
    toUpload.forEach((item, i) => {
      const o = outcomes[i] as Outcome;
      if (o === 'restored') {
        report.restored += 1;
        report.bytesRestored += item.length;
      } else if (o === 'existing') report.skipped += 1;
      else if (o !== 'cancelled') fail({ publicId: item.publicId, resourceType: item.resourceType, type: item.type, error: o.error });
    });
    report.cloudinaryApiCalls = this.lister.apiCalls;
    if (this.fatal) throw Object.assign(this.fatal, { report });
    return report;
  }

  private async uploadGuarded(item: RestoreItem): Promise<Outcome> {
    if (this.fatal) return 'cancelled';
    try {
      const outcome = await this.uploadOne(item);
      if (outcome === 'restored') this.observer.restored?.(item);
      return outcome;
    } catch (err) {
      if (err instanceof UploadError && err.credentialsRefused) this.fatal ??= err;
      const error = messageOf(err);
      this.observer.failed?.(item, error);
      return { error };
    }
  }

  /**
   * Uploads one asset through the one retrying transfer (a fresh read of the backup per try,
   * exact length, idle timeout), checked against the sha256 recorded at backup time before the
   * upload can complete: the last byte (the last chunk of a chunked upload) is released only once
   * the whole object has read back with that checksum, so a damaged object is never uploaded and
   * `--overwrite` never replaces a good asset with it.
   */
  private async uploadOne(item: RestoreItem): Promise<Outcome> {
    if (this.fatal) return 'cancelled';
    let existing = false;
    let stored = item.publicId;
    await transferWithRetry({
      open: async () => ({ body: await this.destination.get(item.key), length: item.length }),
      write: async (body, length) => {
        const result = await this.uploader.upload({
          publicId: item.publicId,
          resourceType: item.resourceType,
          type: item.type,
          format: item.format,
          tags: item.tags,
          context: item.context,
          metadata: item.metadata,
          ...(item.placement ? { placement: item.placement } : {}),
          ...(moderationSteps(item.moderationStatus).manual ? { manualModeration: true } : {}),
          body,
          length,
          overwrite: this.options.overwrite,
        });
        existing = result.existing;
        stored = result.publicId;
        return result.existing ? 'unread' : undefined;
      },
      ...(this.options.attempts === undefined ? {} : { attempts: this.options.attempts }),
      ...(this.options.retryDelayMs === undefined ? {} : { retryDelayMs: this.options.retryDelayMs }),
      ...(this.options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: this.options.idleTimeoutMs }),
      ...(item.sha256 === undefined ? {} : { expectedSha256: item.sha256 }),
      onBytes: (n) => this.observer.bytes?.(n),
      isFinal: (err) => err instanceof ChecksumMismatchError || (err instanceof UploadError && !err.retryable),
    }).catch((err: unknown) => {
      if (err instanceof ChecksumMismatchError) {
        throw new Error(
          'the backup copy differs from the sha256 recorded at backup time: not uploaded (the backup object is damaged; ' +
            'run verify --deep, and the next backup copies it again)',
          { cause: err },
        );
      }
      throw err;
    });
    if (existing) return 'existing';
    checkStoredName(item, stored);
    await restoreModeration(this.lister, item);
    return 'restored';
  }
}
