/**
 * Structured metadata field definitions: `GET|POST /v1_1/:cloud/metadata_fields` (Admin API, so
 * charged against the hourly allowance like any other Admin call).
 */
import type { IncomingMessage } from 'node:http';
import { HttpError, readBody } from '../http-util.ts';

/** A structured metadata field definition (Admin API reference, "Structured metadata"). */
export interface FakeMetadataField {
  external_id: string;
  type: string;
  label: string;
  mandatory?: boolean;
  default_value?: unknown;
  validation?: unknown;
  datasource?: { values: Array<{ external_id: string; value: string; state?: string }> };
  [key: string]: unknown;
}

const FIELD_TYPES = new Set(['string', 'integer', 'date', 'enum', 'set']);

/**
 * The account's metadata field definitions: `GET /metadata_fields` lists them,
 * `POST /metadata_fields` creates one (cloudinary_npm lib/api.js add_metadata_field sends JSON
 * with external_id, type, label, mandatory, default_value, validation, datasource). An
 * existing external_id is refused (400) rather than overwritten: updates have their own
 * endpoint (PUT /metadata_fields/:external_id).
 */
export class MetadataFieldStore {
  private readonly fields = new Map<string, FakeMetadataField>();

  list(): FakeMetadataField[] {
    return [...this.fields.values()].map((f) => structuredClone(f));
  }

  add(raw: unknown): FakeMetadataField {
    if (typeof raw !== 'object' || raw === null) throw new HttpError(400, 'Invalid metadata field');
    const f = raw as Partial<FakeMetadataField>;
    if (typeof f.label !== 'string' || f.label === '') throw new HttpError(400, 'Missing required parameter - label');
    if (typeof f.type !== 'string' || !FIELD_TYPES.has(f.type)) throw new HttpError(400, `Invalid type ${String(f.type)}`);
    if ((f.type === 'enum' || f.type === 'set') && !Array.isArray(f.datasource?.values)) {
      throw new HttpError(400, 'Missing required parameter - datasource');
    }
    const id = typeof f.external_id === 'string' && f.external_id !== '' ? f.external_id : f.label.toLowerCase().replace(/\W+/g, '_');
    if (this.fields.has(id)) throw new HttpError(400, `external_id ${id} already exists`);
    const field: FakeMetadataField = { ...(structuredClone(f) as FakeMetadataField), external_id: id, mandatory: f.mandatory ?? false };
    this.fields.set(id, field);
    return structuredClone(field);
  }
}

/** `GET` lists the definitions; `POST` (JSON, as the SDK sends it) creates one. */
export async function metadataFieldsEndpoint(store: MetadataFieldStore, req: IncomingMessage): Promise<unknown> {
  if (req.method !== 'POST') return { metadata_fields: store.list() };
  const body = await readBody(req, 1024 * 1024);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'Invalid JSON body');
  }
  return store.add(parsed);
}
