/** Cloudinary parameter and wire formats used by the Cloudinary fake. */
import { HttpError } from '../http-util.ts';

/** Deep-partial usage report, merged by `CloudinaryFake.setUsage`. */
export type UsagePatch = { [key: string]: unknown };

/** `YYYY-MM-DD HH:MM:SS UTC`, as in Cloudinary's "Try again on ..." messages. */
export function formatTryAgain(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Percent-encodes each path segment of a public_id, keeping the slashes. */
export function encodePublicId(publicId: string): string {
  return publicId.split('/').map(encodeURIComponent).join('/');
}

export function isoSeconds(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function encodeCursor(fingerprint: string, key: number | [string, number]): string {
  return Buffer.from(JSON.stringify({ f: fingerprint, k: key })).toString('base64url');
}

export function decodeCursor(cursor: string, fingerprint: string, byId: boolean): number | [string, number] {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { f?: unknown; k?: unknown };
    const k = parsed.k;
    const valid = byId
      ? Array.isArray(k) && typeof k[0] === 'string' && typeof k[1] === 'number'
      : typeof k === 'number';
    if (parsed.f === fingerprint && valid) return k as number | [string, number];
  } catch {
    // fall through
  }
  throw new HttpError(400, `Invalid next_cursor ${cursor}`);
}

export function splitList(value: string | undefined): string[] {
  return value ? value.split(',').map((s) => s.trim()).filter((s) => s !== '') : [];
}

/** Parses Cloudinary's `k=v|k2=v2` encoding (`\=` and `\|` escaped); arrays `k=["a","b"]` when asked. */
export function parseKeyValues(value: string | undefined, arrays = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!value) return out;
  for (const pair of value.split(/(?<!\\)\|/)) {
    const eq = pair.search(/(?<!\\)=/);
    if (eq <= 0) continue;
    const key = pair.slice(0, eq).replace(/\\([=|])/g, '$1');
    const raw = pair.slice(eq + 1);
    let parsed: unknown = raw.replace(/\\([=|])/g, '$1');
    if (arrays && raw.startsWith('[') && raw.endsWith(']')) {
      try {
        parsed = JSON.parse(raw.replace(/\\([=|])/g, '$1'));
      } catch {
        // keep the string
      }
    }
    out[key] = parsed;
  }
  return out;
}

export function deepMerge(base: UsagePatch, patch: UsagePatch): UsagePatch {
  const out: UsagePatch = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const prev = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' && !Array.isArray(prev)
        ? deepMerge(prev as UsagePatch, v as UsagePatch)
        : v;
  }
  return out;
}

export function pick(obj: UsagePatch, keys: string[]): UsagePatch {
  const out: UsagePatch = {};
  for (const k of keys) if (k in obj) out[k] = obj[k];
  return out;
}
