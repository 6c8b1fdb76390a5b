import { catalogRoot } from '../core/keys.ts';
import { readJson } from './read-json.ts';
import type { Destination } from '../ports/storage.ts';

/**
 * A structured metadata field definition as `GET /metadata_fields` returns it (Admin API
 * reference, "Structured metadata"): kept whole, so a restore can create it again as it was.
 */
export interface MetadataFieldDefinition {
  readonly external_id: string;
  readonly type: string;
  readonly label: string;
  readonly datasource?: { readonly values?: ReadonlyArray<{ readonly external_id: string; readonly value: string; readonly state?: string }> };
  readonly [key: string]: unknown;
}

/** What `_catalog/metadata-fields.json` holds. */
export interface SavedMetadataFields {
  readonly format: 1;
  readonly savedAt: string;
  readonly fields: readonly MetadataFieldDefinition[];
}

/** Where a backup keeps the account's metadata field definitions. */
export const metadataFieldsKey = (prefix: string): string => `${catalogRoot(prefix)}/metadata-fields.json`;

const isField = (f: unknown): f is MetadataFieldDefinition =>
  typeof f === 'object' && f !== null && typeof (f as { external_id?: unknown }).external_id === 'string' && typeof (f as { type?: unknown }).type === 'string';

/**
 * Saves the field definitions under `<prefix>/_catalog/metadata-fields.json` (one small PUT,
 * replaced each run). Entries without an external_id and a type are left out: a restore could
 * not create them. Rejects like Destination.put.
 */
export const saveMetadataFields = async (
  destination: Destination,
  prefix: string,
  fields: readonly unknown[],
  now: Date = new Date(),
): Promise<SavedMetadataFields> => {
  const saved: SavedMetadataFields = { format: 1, savedAt: now.toISOString(), fields: fields.filter(isField) };
  const body = Buffer.from(JSON.stringify(saved, null, 2), 'utf8');
  await destination.put({ key: metadataFieldsKey(prefix), body, length: body.length, contentType: 'application/json' });
  return saved;
};

/**
 * One backup step for the run: reads the definitions from Cloudinary (one Admin API call, through
 * `readMetadataFields`, e.g. GuardedSource's) and saves them. Resolves with how many were saved,
 * or undefined when the source cannot read them. Rejects with the source's or destination's error.
 */
export const backupMetadataFields = async (
  source: { readMetadataFields(): Promise<unknown[] | undefined> },
  destination: Destination,
  prefix: string,
  now: Date = new Date(),
): Promise<number | undefined> => {
  const fields = await source.readMetadataFields();
  if (fields === undefined) return undefined;
  return (await saveMetadataFields(destination, prefix, fields, now)).fields.length;
};

/** The saved definitions, or undefined when the backup has none (made before they were saved). */
export const loadMetadataFields = async (destination: Destination, prefix: string): Promise<SavedMetadataFields | undefined> => {
  const parsed = await readJson<{ fields?: unknown; savedAt?: unknown }>(destination, metadataFieldsKey(prefix));
  if (parsed === undefined) return undefined;
  const fields = Array.isArray(parsed.fields) ? parsed.fields.filter(isField) : [];
  return { format: 1, savedAt: String((parsed as { savedAt?: unknown }).savedAt ?? ''), fields };
};
