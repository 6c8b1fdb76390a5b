import type { Asset } from '../../core/asset.ts';
import { parseUsage } from '../../core/budget.ts';
import type { UsageInfo } from '../../core/budget.ts';
import { FREE_PLAN_BLOCKED_FORMATS, deliveredFormat } from '../../core/asset.ts';
import { downloadApiReason } from '../../core/download-route.ts';
import type { DownloadApiReason } from '../../core/download-route.ts';
import { AssetCopyError, AssetDeferredError, AssetNotReadyError, CdnRefusedError } from '../../core/errors.ts';
import type { HostPolicy } from '../../core/hosts.ts';
import type { DownloadRoute, ListPage, OpenedAsset, RateLimitInfo, Source } from '../../ports/storage.ts';
import { AdminApi } from './api-client.ts';
import type { RateLimitFields } from './api-client.ts';
import type { CloudinaryConfig } from './config.ts';
import { DownloadError, fetchOriginal } from './download.ts';
import { toSourceError } from './errors.ts';
import type { ApiResource } from './resource.ts';
import { toAsset } from './resource.ts';
import type { CloudinaryV2 } from './sdk.ts';
import { signedDeliveryUrl } from './signed-url.ts';

/** Largest page the Admin API serves. */
export const MAX_RESULTS = 500;

/** Options of the Cloudinary source. */
export interface CloudinarySourceOptions {
  /** Time allowed for a download's response headers, in ms. @default 60000 */
  readonly responseTimeoutMs?: number;
}

const rateLimitOf = (res: RateLimitFields): RateLimitInfo | undefined =>
  typeof res.rate_limit_allowed === 'number' && typeof res.rate_limit_remaining === 'number' && res.rate_limit_reset_at
    ? { limit: res.rate_limit_allowed, remaining: res.rate_limit_remaining, resetAt: new Date(res.rate_limit_reset_at) }
    : undefined;

/**
 * Cloudinary through its SDK: Admin API listing, and downloads of originals — the CDN through a
 * signed delivery URL (signed-url.ts) for every delivery type and access mode, the signed
 * download API (`private_download_url`, on the API host) only where that cannot serve it:
 * an `access_control` that blocks anonymous delivery now, `.`/`..` public_ids, and formats the
 * plan's CDN refused once this run (see DownloadApiReason). No retry or rate limiting here: see
 * guard.ts.
 */
export class CloudinarySource implements Source {
  private readonly policy: HostPolicy;
  private readonly responseTimeoutMs: number;
  /** `<resource_type>/<format>` pairs whose delivery the CDN refused this run (free-plan blocks). */
  private readonly blocked = new Set<string>();
  /**
   * The Admin API, through the project's own client: the SDK decodes each network chunk of an
   * answer on its own, which corrupts names split between two chunks (see api-client.ts).
   */
  private readonly api: AdminApi;

  constructor(
    private readonly sdk: CloudinaryV2,
    config: CloudinaryConfig,
    options: CloudinarySourceOptions = {},
  ) {
    this.policy = {
      cloudName: config.cloudName,
      apiOrigin: config.uploadPrefix,
      ...(config.secureDistribution ? { secureDistribution: config.secureDistribution } : {}),
      ...(config.cname ? { cname: config.cname } : {}),
    };
    this.responseTimeoutMs = options.responseTimeoutMs ?? 60_000;
    this.api = new AdminApi(config);
  }

  async listPage(resourceType: string, type: string, cursor: string | undefined): Promise<ListPage> {
    let res: RateLimitFields & { resources?: ApiResource[]; next_cursor?: string };
    try {
      res = await this.api.resources(resourceType, type, {
        max_results: MAX_RESULTS,
        tags: true,
        context: true,
        metadata: true,
        moderations: true,
        ...(cursor ? { next_cursor: cursor } : {}),
      });
    } catch (err) {
      throw toSourceError(err, `listing ${resourceType}/${type} resources`);
    }
    if (!Array.isArray(res.resources)) {
      throw toSourceError({ message: 'unexpected listing response (no resources array)', http_code: 200 }, `listing ${resourceType}/${type} resources`);
    }
    const rl = rateLimitOf(res);
    return {
      assets: res.resources.map(toAsset),
      ...(res.next_cursor ? { nextCursor: res.next_cursor } : {}),
      ...(rl ? { rateLimit: rl } : {}),
    };
  }

  /** One Admin API call: the account's usage (`GET /usage`), with the call's rate-limit figures. */
  async usage(): Promise<UsageInfo> {
    let raw: Record<string, unknown>;
    try {
      raw = await this.api.usage();
    } catch (err) {
      throw toSourceError(err, 'reading usage');
    }
    const rl = rateLimitOf(raw as RateLimitFields);
    return { ...parseUsage(raw), ...(rl ? { rateLimit: rl } : {}) };
  }

  /**
   * One Admin API call: the structured metadata field definitions (`GET /metadata_fields`,
   * datasource values included). Rejects like listPage.
   */
  async metadataFields(): Promise<{ fields: unknown[]; rateLimit?: RateLimitInfo }> {
    let raw: RateLimitFields & { metadata_fields?: unknown };
    try {
      raw = await this.api.listMetadataFields();
    } catch (err) {
      throw toSourceError(err, 'reading structured metadata fields');
    }
    if (!Array.isArray(raw.metadata_fields)) {
      throw toSourceError({ message: 'unexpected response (no metadata_fields array)', http_code: 200 }, 'reading structured metadata fields');
    }
    const rl = rateLimitOf(raw);
    return { fields: raw.metadata_fields, ...(rl ? { rateLimit: rl } : {}) };
  }

  /**
   * One Admin API call: creates a field (`POST /metadata_fields`, JSON; cloudinary_npm lib/api.js
   * add_metadata_field). Only the parameters the create call takes are sent; a datasource keeps
   * its active values (external_id and value), as a new field has no history of deleted ones.
   */
  async createMetadataField(field: Readonly<Record<string, unknown>>): Promise<{ rateLimit?: RateLimitInfo }> {
    const keys = ['external_id', 'type', 'label', 'mandatory', 'default_value', 'validation', 'restrictions', 'allow_dynamic_list_values'];
    const body: Record<string, unknown> = {};
    for (const k of keys) if (field[k] !== undefined) body[k] = field[k];
    const ds = field['datasource'] as { values?: Array<{ external_id?: unknown; value?: unknown; state?: unknown }> } | undefined;
    if (Array.isArray(ds?.values)) {
      body['datasource'] = { values: ds.values.filter((v) => v.state !== 'inactive').map((v) => ({ external_id: v.external_id, value: v.value })) };
    }
    let raw: RateLimitFields;
    try {
      raw = await this.api.addMetadataField(body);
    } catch (err) {
      throw toSourceError(err, `creating structured metadata field ${String(field['external_id'])}`);
    }
    const rl = rateLimitOf(raw);
    return rl ? { rateLimit: rl } : {};
  }

  /**
   * One Admin API call: `POST /resources/:resource_type/:type/:public_id` with
   * `moderation_status` (cloudinary_npm lib/api.js update; docs/moderate-upload.md: "A reviewer
   * records the decision"). It is an Admin API call like any other, so it is charged to the
   * hourly limit (see guard.ts).
   */
  async updateModeration(publicId: string, resourceType: string, type: string, status: 'approved' | 'rejected'): Promise<{ rateLimit?: RateLimitInfo }> {
    let raw: RateLimitFields;
    try {
      raw = await this.api.update(publicId, resourceType, type, { moderation_status: status });
    } catch (err) {
      throw toSourceError(err, `setting the moderation status of ${resourceType}/${type}/${publicId}`);
    }
    const rl = rateLimitOf(raw);
    return rl ? { rateLimit: rl } : {};
  }

  routeFor(asset: Asset): DownloadRoute {
    return this.downloadApiReason(asset) ? 'api' : 'cdn';
  }

  /** Why the original takes the download API before any request, or undefined (a signed delivery URL). */
  downloadApiReason(asset: Asset): DownloadApiReason | undefined {
    return downloadApiReason(asset) ?? (this.blocked.has(`${asset.resourceType}/${deliveredFormat(asset)}`) ? 'refused-format' : undefined);
  }

  /** The URL an original is downloaded from on a route: a signed delivery URL (`cdn`) or the signed download API. */
  downloadUrl(asset: Asset, route: DownloadRoute = this.routeFor(asset)): string {
    if (route === 'cdn') return signedDeliveryUrl(this.sdk.utils, asset);
    return this.sdk.utils.private_download_url(asset.publicId, asset.format, {
      resource_type: asset.resourceType,
      type: asset.type,
      expires_at: Math.floor(Date.now() / 1000) + 3600,
    });
  }

  async open(asset: Asset, signal: AbortSignal, route: DownloadRoute = this.routeFor(asset)): Promise<OpenedAsset> {
    if (asset.processing) throw new AssetNotReadyError(asset.publicId, 'Cloudinary lists it as still processing');
    let res;
    try {
      res = await fetchOriginal(this.downloadUrl(asset, route), this.policy, signal, this.responseTimeoutMs);
    } catch (err) {
      throw this.openError(asset, route, err);
    }
    const header = res.headers['content-length'];
    const announced = header === undefined ? undefined : Number(header);
    if (announced !== undefined && announced !== asset.bytes) {
      res.destroy();
      throw new AssetCopyError(
        `Cloudinary served ${announced} bytes but listed ${asset.bytes}: the asset changed since it was listed; the next run copies it`,
        asset.publicId,
        undefined,
        { retryable: false },
      );
    }
    return { body: res, length: asset.bytes };
  }

  private openError(asset: Asset, route: DownloadRoute, err: unknown): AssetCopyError {
    const status = err instanceof DownloadError ? err.status : undefined;
    // 423 Locked while Cloudinary is still processing (not found in the stored docs
    // corpus: a reported behaviour, not a documented one): a failure only in name, the next run copies it.
    if (status === 423) return new AssetNotReadyError(asset.publicId, 'Cloudinary answered 423 (still processing)');
    if (route === 'api' && (status === 420 || status === 429)) {
      return new AssetDeferredError(asset.publicId, `Cloudinary's hourly Admin API limit is spent (HTTP ${status} on the download API)`, { cause: err });
    }
    const format = deliveredFormat(asset);
    const blockedFormat = FREE_PLAN_BLOCKED_FORMATS.has(format);
    if (route === 'cdn' && (status === 401 || (status === 404 && blockedFormat))) {
      if (blockedFormat) this.blocked.add(`${asset.resourceType}/${format}`);
      return new CdnRefusedError(asset.publicId, status, { cause: err });
    }
    const retryable = err instanceof DownloadError ? err.retryable : true;
    return new AssetCopyError((err as Error).message, asset.publicId, undefined, { cause: err, retryable });
  }
}
