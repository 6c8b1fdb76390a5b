import type { MetadataFieldDefinition } from '../store/metadata-fields.ts';
import { messageOf } from '../core/errors.ts';

/** The target account's field definitions: list them, create one (each one Admin API call). */
export interface MetadataFieldAdmin {
  readMetadataFields(): Promise<unknown[] | undefined>;
  createMetadataField(field: MetadataFieldDefinition): Promise<unknown>;
}

/** A saved field that the target account defines differently, and how. */
export interface FieldConflict {
  readonly externalId: string;
  readonly reason: string;
}

/** What preparing the target's fields did (or, in a dry run, would do). */
export interface FieldsOutcome {
  readonly created: string[];
  readonly conflicts: FieldConflict[];
}

const valueIds = (f: MetadataFieldDefinition): string[] => (f.datasource?.values ?? []).map((v) => v.external_id);

/** Why `have` cannot hold what `want` held, or undefined when it can. */
export const fieldConflict = (want: MetadataFieldDefinition, have: MetadataFieldDefinition): string | undefined => {
  if (want.type !== have.type) return `the account defines it as ${have.type}, the backup as ${want.type}`;
  const missing = valueIds(want).filter((id) => !valueIds(have).includes(id));
  if (missing.length > 0) return `the account's list lacks the value(s) ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`;
  return undefined;
};

/**
 * Creates the saved fields the target account lacks, before any asset is uploaded (an upload
 * whose structured metadata names an unknown field is refused). A field the account defines
 * differently is reported as a conflict, never changed. One Admin API call to list, one per
 * field created; a dry run only lists. A refused creation is reported as a conflict too.
 */
export const prepareMetadataFields = async (
  saved: readonly MetadataFieldDefinition[],
  admin: MetadataFieldAdmin,
  dryRun: boolean,
): Promise<FieldsOutcome> => {
  const out: FieldsOutcome = { created: [], conflicts: [] };
  if (saved.length === 0) return out;
  const have = new Map<string, MetadataFieldDefinition>();
  for (const f of (await admin.readMetadataFields()) ?? []) {
    const def = f as MetadataFieldDefinition;
    if (typeof def?.external_id === 'string') have.set(def.external_id, def);
  }
  for (const field of saved) {
    const existing = have.get(field.external_id);
    if (existing) {
      const reason = fieldConflict(field, existing);
      if (reason) out.conflicts.push({ externalId: field.external_id, reason });
      continue;
    }
    if (!dryRun) {
      try {
        await admin.createMetadataField(field);
      } catch (err) {
        out.conflicts.push({ externalId: field.external_id, reason: `Cloudinary refused to create it: ${messageOf(err)}` });
        continue;
      }
    }
    out.created.push(field.external_id);
  }
  return out;
};
