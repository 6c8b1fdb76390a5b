import { Catalog } from '../store/catalog.ts';
import { listAll } from '../adapters/cloudinary/list-all.ts';
import { listingsFor } from '../core/asset.ts';
import { messageOf } from '../core/errors.ts';
import { normalizePrefix } from '../core/keys.ts';
import type { Failure } from '../core/report.ts';
import { MAX_LISTED_FAILURES } from '../core/report.ts';
import type { RestoreItem } from '../core/restore-plan.ts';
import type { Destination, Source } from '../ports/storage.ts';
import { UploadError } from '../ports/upload.ts';
import type { MetadataReader, Uploader } from '../ports/upload.ts';
import { loadMetadataFields } from '../store/metadata-fields.ts';
import { collectRestore, selectedItems, slotOf } from './collect.ts';
import type { Selection } from './collect.ts';
import { prepareMetadataFields } from './metadata-fields.ts';
import type { FieldsOutcome, MetadataFieldAdmin } from './metadata-fields.ts';
import { restoreModeration } from './moderation.ts';
import type { ModerationAdmin } from './moderation.ts';
import { checkStoredName, refusalOf } from './names.ts';
import { PlanTally, plannedReport } from './report.ts';
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
  /**
   * Also upload objects the catalog does not name that cloudinary-backup wrote (its cld-* metadata
   * on S3, a key the key rule makes in a folder). @default false: catalog entries only
   */
  readonly includeUncatalogued?: boolean;
  /**
   * `--as-of`: restore the restore point this names (see store/as-of.ts) instead of the current
   * catalog, and only its entries (objects it does not name came later). @default the current catalog
   */
  readonly asOf?: string;
}

export type { RestoreReport } from './report.ts';

/** Things a front end may want to show; every callback is optional. */
export interface RestoreObserver {
  /** One upload of the plan (after the existence check), in plan order: what a dry run lists. */
  wouldUpload?(item: RestoreItem): void;
  /** How many uploads are about to start (called once the whole plan is known). */
  planned?(uploads: number): void;
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

  /** What the backup holds that `--only` selects (see collectRestore); what cannot be restored goes to `fail`. */
  collect(fail: (f: Failure) => void): Promise<Selection> {
    return collectRestore(
      {
        destination: this.destination,
        catalog: this.catalog,
        prefix: this.prefix,
        only: this.options.only,
        asOf: this.options.asOf,
        concurrency: this.options.concurrency,
        metadataReader: this.metadataReader,
        includeUncatalogued: this.options.includeUncatalogued === true,
      },
      fail,
    );
  }

  /** Creates the backup's structured metadata fields the account lacks (see prepareMetadataFields). */
  private async prepareFields(): Promise<FieldsOutcome> {
    const lister = this.lister;
    if (!lister.readMetadataFields || !lister.createMetadataField) return { created: [], conflicts: [] };
    const saved = await loadMetadataFields(this.destination, this.prefix);
    if (!saved) return { created: [], conflicts: [] };
    return prepareMetadataFields(saved.fields, lister as MetadataFieldAdmin, this.options.dryRun);
  }

  /**
   * Which selected sources the account already has (a flag per slotOf), from the listings of the
   * resource types selected; identities the selection lacks are not kept.
   */
  private async existing(sel: Selection): Promise<Uint8Array> {
    const have = new Uint8Array(sel.entries + sel.orphans.length);
    if (this.options.overwrite) return have;
    for (const l of listingsFor(sel.resourceTypes)) {
      for await (const a of listAll(this.lister, l.resourceType, l.type)) {
        const source = sel.ids.get(a);
        if (source !== undefined) have[slotOf(sel, source)] = 1;
      }
    }
    return have;
  }

  /** The selected items the account lacks, in plan order, each with the refusal of its name if any. */
  private async *toPlan(sel: Selection, have: Uint8Array, tally?: PlanTally): AsyncIterable<{ item: RestoreItem; refused: Failure | undefined }> {
    for await (const { item, slot } of selectedItems(sel)) {
      tally?.addItem(item);
      if (have[slot]) continue;
      yield { item, refused: refusalOf(item) };
    }
  }

  /**
   * A whole restore. Rejects (with `report` attached) when the account refuses the credentials.
   * Nothing holds the items. The selection is compact (collect.ts); the plan is a pass
   * over the catalog that counts (and lists, for a dry run); the uploads are a second pass,
   * `concurrency` at a time.
   */
  async run(): Promise<RestoreReport> {
    const failures = { count: 0, unrestorable: 0, listed: [] as Failure[] };
    const fail = (f: Failure): void => {
      failures.count += 1;
      if (failures.listed.length < MAX_LISTED_FAILURES) failures.listed.push(f);
      this.observer.failed?.(f, f.error);
    };
    const sel = await this.collect((f) => {
      failures.unrestorable += 1;
      fail(f);
    });
    const fields = await this.prepareFields();
    const have = await this.existing(sel);
    const tally = new PlanTally();
    for await (const { item, refused } of this.toPlan(sel, have, tally)) {
      tally.planned += 1;
      if (refused) fail(refused);
      else {
        tally.addUpload(item);
        this.observer.wouldUpload?.(item);
      }
    }
    const report = plannedReport({
      from: this.destination.description,
      prefix: this.prefix,
      to: this.uploader.description,
      dryRun: this.options.dryRun,
      overwrite: this.options.overwrite,
      only: this.options.only,
      tally,
      unrestorable: failures.unrestorable,
      leftOut: sel.leftOut,
      systemFiles: sel.systemFiles,
      fields,
      apiCalls: this.lister.apiCalls,
    });
    report.failed = failures.count;
    report.failures = failures.listed;
    this.observer.planned?.(tally.uploads);
    if (this.options.dryRun) return report;
    await this.uploadAll(sel, have, report);
    report.cloudinaryApiCalls = this.lister.apiCalls;
    if (this.fatal) throw Object.assign(this.fatal, { report });
    return report;
  }

  /**
   * The uploads of the plan, `concurrency` at a time, counted into `report`. Their failures are
   * listed in plan order (as far as the report lists failures), whatever order they end in.
   */
  private async uploadAll(sel: Selection, have: Uint8Array, report: RestoreReport): Promise<void> {
    const room = MAX_LISTED_FAILURES - report.failures.length;
    const failed: Array<{ n: number; f: Failure }> = [];
    const keepFirst = (): void => {
      failed.sort((a, b) => a.n - b.n);
      if (failed.length > room) failed.length = room;
    };
    const next = this.toPlan(sel, have)[Symbol.asyncIterator]();
    let n = 0;
    const worker = async (): Promise<void> => {
      for (let r = await next.next(); !r.done && !this.fatal; r = await next.next()) {
        if (r.value.refused) continue;
        const { item } = r.value;
        const at = n++;
        const o = await this.uploadGuarded(item);
        if (o === 'restored') {
          report.restored += 1;
          report.bytesRestored += item.length;
        } else if (o === 'existing') report.skipped += 1;
        else if (o !== 'cancelled') {
          report.failed += 1;
          failed.push({ n: at, f: { publicId: item.publicId, resourceType: item.resourceType, type: item.type, error: o.error } });
          if (failed.length >= 2 * Math.max(1, room)) keepFirst();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.options.concurrency) }, worker));
    keepFirst();
    for (const { f } of failed) report.failures.push(f);
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
