import type { AccessRule, Asset } from '../../core/asset.ts';

/**
 * A resource as the Admin API lists it (the fields we read). Sources: Admin API reference,
 * "Get resources" response; cloudinary_npm types/index.d.ts (asset_folder, display_name,
 * access_mode, access_control, moderation); placeholder/status for uploads still processing.
 */
export interface ApiResource {
  asset_id?: string;
  public_id: string;
  format?: string;
  version?: number;
  resource_type: string;
  type: string;
  created_at?: string;
  bytes?: number;
  secure_url?: string;
  url?: string;
  tags?: string[];
  context?: { custom?: Record<string, string> } | Record<string, string>;
  metadata?: Record<string, unknown>;
  asset_folder?: string;
  display_name?: string;
  access_mode?: string;
  access_control?: unknown;
  moderation_status?: string;
  moderation?: unknown;
  placeholder?: boolean;
  status?: string;
}

const accessRules = (raw: unknown): AccessRule[] | undefined => {
  if (!Array.isArray(raw)) return undefined;
  const rules: AccessRule[] = [];
  for (const r of raw as unknown[]) {
    if (typeof r !== 'object' || r === null) continue;
    const o = r as Record<string, unknown>;
    if (typeof o.access_type !== 'string') continue;
    rules.push({
      access_type: o.access_type,
      ...(typeof o.start === 'string' ? { start: o.start } : {}),
      ...(typeof o.end === 'string' ? { end: o.end } : {}),
    });
  }
  return rules.length > 0 ? rules : undefined;
};

/** `moderation_status`, or the status of the last entry of `moderation` (resource details shape). */
const moderationOf = (r: ApiResource): string | undefined => {
  if (typeof r.moderation_status === 'string') return r.moderation_status;
  if (!Array.isArray(r.moderation)) return undefined;
  const last = (r.moderation as unknown[]).at(-1) as { status?: unknown } | undefined;
  return typeof last?.status === 'string' ? last.status : undefined;
};

/** The Asset a listed resource describes; optional fields only when Cloudinary sent them. */
export const toAsset = (r: ApiResource): Asset => {
  const ctx = r.context ?? {};
  const custom = (ctx as { custom?: unknown }).custom;
  const rules = accessRules(r.access_control);
  const moderation = moderationOf(r);
  // An async or eager upload is listed before its bytes exist (placeholder, status "pending").
  const processing = r.placeholder === true || r.status === 'pending' || r.status === 'processing';
  return {
    assetId: r.asset_id ?? '',
    publicId: r.public_id,
    resourceType: r.resource_type,
    type: r.type,
    format: r.format ?? '',
    version: r.version ?? 0,
    bytes: r.bytes ?? 0,
    createdAt: r.created_at ?? '',
    secureUrl: r.secure_url ?? r.url ?? '',
    tags: r.tags ?? [],
    context: (typeof custom === 'object' && custom !== null ? custom : ctx) as Record<string, string>,
    metadata: r.metadata ?? {},
    ...(r.asset_folder ? { assetFolder: r.asset_folder } : {}),
    ...(r.display_name ? { displayName: r.display_name } : {}),
    ...(r.access_mode ? { accessMode: r.access_mode } : {}),
    ...(rules ? { accessControl: rules } : {}),
    ...(moderation ? { moderationStatus: moderation } : {}),
    ...(processing ? { processing: true } : {}),
  };
};
