/** The delivery types whose originals are ours to back up (the rest are remote copies). */
export const BACKED_UP_TYPES: ReadonlySet<string> = new Set(['upload', 'private', 'authenticated']);

/**
 * The delivery types a run lists, each explicitly: the Admin API reference gives `type` the
 * default "upload", so a listing without it could miss every private and authenticated asset.
 */
export const LISTED_TYPES = ['upload', 'private', 'authenticated'] as const;

/** One listing a run walks: a resource type and a delivery type. */
export interface Listing {
  readonly resourceType: string;
  readonly type: string;
}

/** The listings of a run over these resource types, in the order it visits them. */
export const listingsFor = (resourceTypes: readonly string[]): Listing[] =>
  resourceTypes.flatMap((resourceType) => LISTED_TYPES.map((type) => ({ resourceType, type })));

/** The resource types Cloudinary lists, in the order a run visits them. */
export const RESOURCE_TYPES = ['image', 'video', 'raw'] as const;

/** One of Cloudinary's resource types. */
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/**
 * One entry of an asset's `access_control` (Cloudinary's shape, kept as listed so a restore can
 * pass it back): `token` needs a signed token; `anonymous` is public between `start` and `end`.
 * Source: Upload API reference, `access_control` parameter.
 */
export interface AccessRule {
  readonly access_type: string;
  readonly start?: string;
  readonly end?: string;
}

/** One asset as Cloudinary's Admin API lists it: its identity, its size and its metadata. */
export interface Asset {
  readonly assetId: string;
  readonly publicId: string;
  readonly resourceType: string;
  /** Delivery type: upload, private, authenticated, fetch, ... */
  readonly type: string;
  /** File extension without the dot; empty for most raw files. */
  readonly format: string;
  /** Upload time in Unix seconds; changes whenever the original is replaced. */
  readonly version: number;
  /** Size of the original in bytes. */
  readonly bytes: number;
  readonly createdAt: string;
  readonly secureUrl: string;
  readonly tags: readonly string[];
  readonly context: Readonly<Record<string, string>>;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Dynamic folders: the Media Library folder (the public_id does not carry it). */
  readonly assetFolder?: string;
  /** Dynamic folders: the name the Media Library shows. */
  readonly displayName?: string;
  /** `public` or `authenticated` (an `upload` asset that needs a signed URL). */
  readonly accessMode?: string;
  /** Time- or token-limited access; absent or empty when the asset is public. */
  readonly accessControl?: readonly AccessRule[];
  /** `pending`, `approved` or `rejected` when the asset went through moderation. */
  readonly moderationStatus?: string;
  /** True while Cloudinary is still processing the upload (listed as a placeholder or pending). */
  readonly processing?: boolean;
}

/** What a destination holds at one key. */
export interface StoredObject {
  readonly key: string;
  readonly size: number;
  readonly lastModified: Date;
}

/** True when this asset's original is backed up (not a remote copy such as `fetch`). */
export const isBackedUpType = (asset: Pick<Asset, 'type'>): boolean => BACKED_UP_TYPES.has(asset.type);

/**
 * True when `access_control` keeps the asset from the public at `now`: access is granted when
 * any rule grants it, and only an `anonymous` rule whose window holds `now` grants it without a
 * token (Upload API reference, `access_control`). No rules: public.
 */
export const accessRestricted = (rules: readonly AccessRule[] | undefined, now: number): boolean => {
  if (!rules || rules.length === 0) return false;
  const open = (r: AccessRule): boolean =>
    r.access_type === 'anonymous' &&
    (r.start === undefined || !(Date.parse(r.start) > now)) &&
    (r.end === undefined || !(Date.parse(r.end) <= now));
  return !rules.some(open);
};

/**
 * Formats free plans do not deliver from the CDN unless the owner unblocks them ("Image
 * optimization and delivery": "ZIP, RAR, TAGZ, and other archive formats" and "PDF" are
 * blocked for delivery for FREE accounts by default; cloudinary_npm#478 and
 * cloudinary_wordpress#361 report 401 and 404). Their originals come from the signed download
 * API once the CDN has refused one (see DownloadApiReason in download-route.ts).
 */
export const FREE_PLAN_BLOCKED_FORMATS: ReadonlySet<string> = new Set([
  'pdf', 'zip', 'rar', 'tar', 'tgz', 'tagz', 'gz', 'bz2', '7z', 'xz', 'tbz', 'txz', 'jar', 'cab', 'iso',
]);

/** The format a blocked-format rule looks at: `format`, or a raw public_id's extension. */
export const deliveredFormat = (asset: Pick<Asset, 'format' | 'publicId'>): string => {
  if (asset.format) return asset.format.toLowerCase();
  const last = asset.publicId.split('/').pop() ?? '';
  const dot = last.lastIndexOf('.');
  return dot > 0 ? last.slice(dot + 1).toLowerCase() : '';
};

/**
 * True when a public_id has a `.` or `..` path segment. Every URL parser resolves those (also
 * spelled %2e), so a secure_url holding one names another asset or none: such an original is
 * fetched through the signed download API, which carries the public_id as a query parameter
 * (`a/../b` would be fetched as `b`: a 404, or another asset's bytes).
 */
export const hasDotSegment = (publicId: string): boolean => publicId.split('/').some((s) => s === '.' || s === '..');

/**
 * Reads a list of resource types (the CLI's --resource-types, the function's RESOURCE_TYPES, the
 * CDK context `resourceTypes`): trimmed, lower-cased, deduplicated, in the canonical order. The one
 * parser of that value; callers turn the error into their own message.
 */
export const parseResourceTypes = (items: readonly string[]): { readonly types: ResourceType[] } | { readonly unknown: string[] } => {
  const wanted = items.map((i) => i.trim().toLowerCase()).filter((i) => i !== '');
  const unknown = wanted.filter((w) => !(RESOURCE_TYPES as readonly string[]).includes(w));
  if (unknown.length > 0 || wanted.length === 0) return { unknown };
  return { types: RESOURCE_TYPES.filter((t) => wanted.includes(t)) };
};
