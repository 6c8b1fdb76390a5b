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
  /** Assets restored from object metadata or their key, without tags, context or metadata. */
  notInCatalog: number;
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

/** What a restore planned, from which the report starts. */
export interface RestorePlanSummary {
  /** Where from and where to (the ports' descriptions) and the normalized prefix. */
  readonly from: string;
  readonly prefix: string;
  readonly to: string;
  readonly dryRun: boolean;
  readonly overwrite: boolean;
  readonly only: string | undefined;
  /** Everything selected and restorable from the backup. */
  readonly items: readonly RestoreItem[];
  /** Selected assets that cannot be restored (counted in `listed`, not in `items`). */
  readonly unrestorable: number;
  /** The items the account does not have yet (all of them under --overwrite). */
  readonly planned: number;
  /** The planned items whose names Cloudinary accepts: what is uploaded. */
  readonly uploads: readonly RestoreItem[];
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
  listed: p.items.length + p.unrestorable,
  restored: 0,
  skipped: p.items.length - p.planned,
  failed: 0,
  bytesRestored: 0,
  plannedUploads: p.uploads.length,
  plannedBytes: p.uploads.reduce((n, i) => n + i.length, 0),
  notInCatalog: p.items.filter((i) => i.source === 'object').length,
  olderVersions: p.items.filter((i) => i.olderVersion).length,
  cloudinaryApiCalls: p.apiCalls,
  folders: [...new Set(p.uploads.map((i) => i.placement?.assetFolder ?? '').filter((f) => f !== ''))].sort().slice(0, 1000),
  moderation: moderationCounts(p.uploads),
  metadataFieldsCreated: p.fields.created,
  metadataFieldConflicts: p.fields.conflicts,
  failures: [],
});
