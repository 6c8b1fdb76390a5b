import pLimit from 'p-limit';
import { Catalog } from '../store/catalog.ts';
import { listAll } from '../adapters/cloudinary/list-all.ts';
import { listingsFor } from '../core/asset.ts';
import { messageOf } from '../core/errors.ts';
import { normalizePrefix } from '../core/keys.ts';
import type { Failure } from '../core/report.ts';
import { MAX_LISTED_FAILURES } from '../core/report.ts';
import { identityOf } from '../core/restore-plan.ts';
import type { RestoreItem } from '../core/restore-plan.ts';
import type { Destination, Source } from '../ports/storage.ts';
import { UploadError } from '../ports/upload.ts';
import type { MetadataReader, Uploader } from '../ports/upload.ts';
import { loadMetadataFields } from '../store/metadata-fields.ts';
import { collectRestore } from './collect.ts';
import { prepareMetadataFields } from './metadata-fields.ts';
import type { FieldsOutcome, MetadataFieldAdmin } from './metadata-fields.ts';
import { restoreModeration } from './moderation.ts';
import type { ModerationAdmin } from './moderation.ts';
import { checkStoredName, refuseBadNames } from './names.ts';
import { plannedReport } from './report.ts';
import type { RestoreReport } from './report.ts';
import { uploadItem } from './upload-one.ts';

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

  /** What the backup holds that `--only` selects, and what cannot be restored from it (see collectRestore). */
  collect(): Promise<{ items: RestoreItem[]; failures: Failure[] }> {
    return collectRestore({
      destination: this.destination,
      catalog: this.catalog,
      prefix: this.prefix,
      only: this.options.only,
      concurrency: this.options.concurrency,
      metadataReader: this.metadataReader,
    });
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
    const report = plannedReport({
      from: this.destination.description,
      prefix: this.prefix,
      to: this.uploader.description,
      dryRun: this.options.dryRun,
      overwrite: this.options.overwrite,
      only: this.options.only,
      items,
      unrestorable: failures.length,
      planned: planned.length,
      uploads: toUpload,
      fields,
      apiCalls: this.lister.apiCalls,
    });
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

  /** Uploads one asset (see uploadItem), then checks the name it got and sets its moderation decision. */
  private async uploadOne(item: RestoreItem): Promise<Outcome> {
    if (this.fatal) return 'cancelled';
    const { existing, stored } = await uploadItem(item, this.destination, this.uploader, this.options, (n) => this.observer.bytes?.(n));
    if (existing) return 'existing';
    checkStoredName(item, stored);
    await restoreModeration(this.lister, item);
    return 'restored';
  }
}
