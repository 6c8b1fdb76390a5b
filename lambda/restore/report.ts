import type { Failure } from '../core/report.ts';
import type { RestoreItem } from '../core/restore-plan.ts';
import type { FieldConflict, FieldsOutcome } from './metadata-fields.ts';
import { moderationCounts } from './moderation.ts';

/** What a restore reports (the JSON of `--json`). */
export interface RestoreReport {
  from: string;
  prefix: string;
  to: string;
  dryRun: boolean;
  overwrite: boolean;
  only: string | null;
  /** Assets in the backup selected for restore (catalog entries plus uncatalogued objects). */
  listed: number;
  restored: number;
  /** Already in the account (not uploaded; see --overwrite). */
  skipped: number;
  failed: number;
  bytesRestored: number;
  /** What a dry run would upload. */
  plannedUploads: number;
  plannedBytes: number;
  /** Assets restored from object metadata or their key, without tags, context or metadata (--include-uncatalogued). */
  notInCatalog: number;
  /** Objects the catalog does not name, not uploaded: a restore uploads catalog entries (see --include-uncatalogued). */
  uncataloguedLeftOut: number;
  /** Dot-files and operating-system files (.DS_Store, Thumbs.db, ...) in the backup: never uploaded. */
  systemFilesIgnored: number;
  /** Assets whose newest version was never backed up; the older backed-up version is used. */
  olderVersions: number;
  /** Admin API calls: the existence check (one per 500 assets), metadata fields (one + one per field created), one per moderation decision set. */
  cloudinaryApiCalls: number;
  /**
   * The moderation status the planned uploads come back in (upload to the manual queue, then one
   * Admin API call per approved or rejected asset).
   */
  moderation: { pending: number; approved: number; rejected: number };
  /** Media Library folders the uploads go into (dynamic folders), sorted; at most 1,000 named. */
  folders: string[];
  /** Structured metadata fields created in the account before the uploads (a dry run: would create). */
  metadataFieldsCreated: string[];
  /** Saved fields the account defines differently: left as they are; assets using them may be refused. */
  metadataFieldConflicts: FieldConflict[];
  failures: Failure[];
}

/**
 * The plan's figures, gathered one item at a time (a restore of a million assets holds
 * no list of them): every restorable item selected, then those planned (the account lacks them)
 * and uploaded (Cloudinary accepts their names).
 */
export class PlanTally {
  items = 0;
  planned = 0;
  uploads = 0;
  bytes = 0;
  notInCatalog = 0;
  olderVersions = 0;
  readonly moderation = { pending: 0, approved: 0, rejected: 0 };
  /** Folders of the uploads: only the first MAX_FOLDERS in sort order are reported, so only they are kept. */
  private readonly folders = new Set<string>();

  /** A restorable item selected (whether or not the account has it). */
  addItem(i: RestoreItem): void {
    this.items += 1;
    if (i.source === 'object') this.notInCatalog += 1;
    if (i.olderVersion) this.olderVersions += 1;
  }

  /** An item that will be uploaded. */
  addUpload(i: RestoreItem): void {
    this.uploads += 1;
    this.bytes += i.length;
    const m = moderationCounts([i]);
    this.moderation.pending += m.pending;
    this.moderation.approved += m.approved;
    this.moderation.rejected += m.rejected;
    const folder = i.placement?.assetFolder ?? '';
    if (folder === '') return;
    this.folders.add(folder);
    if (this.folders.size >= 2 * MAX_FOLDERS) this.trimFolders();
  }

  /** The uploads' folders, sorted, the first MAX_FOLDERS. */
  folderList(): string[] {
    this.trimFolders();
    return [...this.folders];
  }

  private trimFolders(): void {
    const kept = [...this.folders].sort().slice(0, MAX_FOLDERS);
    this.folders.clear();
    for (const f of kept) this.folders.add(f);
  }
}

/** Media Library folders a report names at most. */
const MAX_FOLDERS = 1000;

/** What a restore planned, from which the report starts. */
export interface RestorePlanSummary {
  /** Where from and where to (the ports' descriptions) and the normalized prefix. */
  readonly from: string;
  readonly prefix: string;
  readonly to: string;
  readonly dryRun: boolean;
  readonly overwrite: boolean;
  readonly only: string | undefined;
  /** The selection's figures (see PlanTally). */
  readonly tally: PlanTally;
  /** Selected assets that cannot be restored (counted in `listed`, not in the tally's items). */
  readonly unrestorable: number;
  /** Uncatalogued objects left out, and system files ignored (see Selection). */
  readonly leftOut: number;
  readonly systemFiles: number;
  readonly fields: FieldsOutcome;
  readonly apiCalls: number;
}

/** The report before any upload or failure is counted: what a dry run prints. */
export const plannedReport = (p: RestorePlanSummary): RestoreReport => ({
  from: p.from,
  prefix: p.prefix,
  to: p.to,
  dryRun: p.dryRun,
  overwrite: p.overwrite,
  only: p.only ?? null,
  listed: p.tally.items + p.unrestorable,
  restored: 0,
  skipped: p.tally.items - p.tally.planned,
  failed: 0,
  bytesRestored: 0,
  plannedUploads: p.tally.uploads,
  plannedBytes: p.tally.bytes,
  notInCatalog: p.tally.notInCatalog,
  uncataloguedLeftOut: p.leftOut,
  systemFilesIgnored: p.systemFiles,
  olderVersions: p.tally.olderVersions,
  cloudinaryApiCalls: p.apiCalls,
  folders: p.tally.folderList(),
  moderation: { ...p.tally.moderation },
  metadataFieldsCreated: p.fields.created,
  metadataFieldConflicts: p.fields.conflicts,
  failures: [],
});
