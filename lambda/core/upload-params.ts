/**
 * How restore writes an asset's metadata into Upload API parameters. Pure: no SDK here, so
 * the encodings are tested with tables.
 */

/** Backslash-escapes the two characters that separate Cloudinary's `k=v|k2=v2` pairs. */
export const escapeKeyValue = (text: string): string => text.replace(/([=|])/g, '\\$1');

const scalar = (value: unknown): string | undefined => {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
};

/**
 * Encodes context or structured metadata as the Upload API's `k=v|k2=v2` string, escaping `=`
 * and `|` in keys and values. A list (a multi-select metadata field) is written as a JSON array
 * of strings, `colors=["red","green"]`, which is Cloudinary's form for set values. We encode
 * ourselves rather than pass an object to the SDK: the SDK leaves keys unescaped and drops
 * the key of a non-integer number. Null and undefined values are left out. Empty input gives
 * undefined, so no empty parameter is sent (and signed).
 */
export const encodeKeyValues = (record: Readonly<Record<string, unknown>>): string | undefined => {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (key === '') continue;
    let encoded: string | undefined;
    if (Array.isArray(value)) encoded = JSON.stringify(value.map((v) => scalar(v) ?? ''));
    else encoded = scalar(value);
    if (encoded === undefined) continue;
    pairs.push(`${escapeKeyValue(key)}=${escapeKeyValue(encoded)}`);
  }
  return pairs.length > 0 ? pairs.join('|') : undefined;
};

/**
 * The file name sent with an upload: the last segment of the public_id plus the format, reduced
 * to ASCII letters, digits, `.`, `_` and `-`. It only informs `original_filename` and format
 * detection; the SDK writes it unescaped into a multipart header, so nothing else may be in it.
 */
export const uploadFilename = (publicId: string, format: string): string => {
  const last = publicId.split('/').pop() ?? '';
  const base = last.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 100) || 'file';
  const ext = /^[A-Za-z0-9]{1,16}$/.test(format) ? `.${format}` : '';
  return base.toLowerCase().endsWith(ext.toLowerCase()) && ext !== '' ? base : `${base}${ext}`;
};

/**
 * Where an asset lives and who may fetch it: what a restore gives back so a protected asset stays
 * protected and a dynamic-folder account gets its folder tree back.
 */
export interface Placement {
  readonly assetFolder?: string;
  readonly displayName?: string;
  readonly accessMode?: string;
  readonly accessControl?: ReadonlyArray<{ readonly access_type: string; readonly start?: string; readonly end?: string }>;
}

/**
 * What an upload gives an asset back, as the backup recorded it: its identity, format, tags,
 * context, structured metadata and placement. Restore plans items with these fields
 * (RestoreItem) and hands them to an Uploader (UploadRequest) unchanged.
 */
export interface UploadedFields {
  readonly publicId: string;
  /** image, video or raw: always explicit (never `auto`), so a file is never re-classified. */
  readonly resourceType: string;
  /** Delivery type: upload, private or authenticated. */
  readonly type: string;
  /** The original's format, used for the file name only (Cloudinary detects it from the bytes). */
  readonly format: string;
  readonly tags: readonly string[];
  readonly context: Readonly<Record<string, string>>;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Media Library folder, shown name and access (dynamic folders, protected assets); absent without a catalog entry. */
  readonly placement?: Placement;
}

/**
 * Upload API parameters for a placement (Upload API reference: `asset_folder`, `display_name`,
 * `access_mode`, `access_control`; cloudinary_npm lib/utils build_upload_params sends
 * access_control as a JSON array). `public` is Cloudinary's default and is not sent. An empty
 * folder is the root and is not sent: on a fixed-folder account `asset_folder` has no meaning,
 * and the folder is part of the public_id anyway.
 */
export const placementParams = (p: Placement | undefined): Record<string, unknown> => {
  if (!p) return {};
  return {
    ...(p.assetFolder ? { asset_folder: p.assetFolder } : {}),
    ...(p.displayName ? { display_name: p.displayName } : {}),
    ...(p.accessMode === 'authenticated' ? { access_mode: 'authenticated' } : {}),
    ...(p.accessControl && p.accessControl.length > 0 ? { access_control: p.accessControl.map((r) => ({ ...r })) } : {}),
  };
};

/** The placement a catalog entry records, or undefined when it records none. */
export const placementOf = (e: Placement): Placement | undefined => {
  const p: Placement = {
    ...(e.assetFolder ? { assetFolder: e.assetFolder } : {}),
    ...(e.displayName ? { displayName: e.displayName } : {}),
    ...(e.accessMode ? { accessMode: e.accessMode } : {}),
    ...(e.accessControl && e.accessControl.length > 0 ? { accessControl: e.accessControl } : {}),
  };
  return Object.keys(p).length > 0 ? p : undefined;
};
