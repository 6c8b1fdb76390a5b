import type { Failure } from '../core/report.ts';
import type { FieldConflict } from './metadata-fields.ts';

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
