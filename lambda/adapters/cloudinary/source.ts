import http from 'node:http';
import https from 'node:https';
import type { Asset } from '../../core/asset.ts';
import { parseUsage } from '../../core/budget.ts';
import type { UsageInfo } from '../../core/budget.ts';
import { hasDotSegment, needsSignedDownload } from '../../core/asset.ts';
import { AssetCopyError } from '../../core/errors.ts';
import type { HostPolicy } from '../../core/hosts.ts';
import type { ListPage, OpenedAsset, Source } from '../../ports/storage.ts';
import type { CloudinaryConfig } from './config.ts';
import { DownloadError, fetchOriginal } from './download.ts';
import { toSourceError } from './errors.ts';
import type { CloudinaryV2 } from './sdk.ts';

/** Largest page the Admin API serves. */
export const MAX_RESULTS = 500;

/** A resource as the Admin API lists it (the fields we read). */
interface ApiResource {
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
}

const toAsset = (r: ApiResource): Asset => {
  const ctx = r.context ?? {};
  const custom = (ctx as { custom?: unknown }).custom;
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
  };
};

/** Options of the Cloudinary source. */
export interface CloudinarySourceOptions {
  /** Time allowed for a download's response headers, in ms. @default 60000 */
  readonly responseTimeoutMs?: number;
}

/**
 * Cloudinary through its SDK: Admin API listing, and downloads of originals — `secure_url` for
 * public assets, a signed `private_download_url` on the API host for private and authenticated
 * ones. No retry or rate limiting here: see guard.ts.
 */
export class CloudinarySource implements Source {
  private readonly policy: HostPolicy;
  private readonly responseTimeoutMs: number;
  /**
   * Admin API calls use a connection each. The SDK never reads the body of a response whose
   * status it does not expect (502, 503, ...); on a kept-alive socket that unread body keeps
   * the process alive until the server drops the connection (found by the fault suite: the CLI
   * lingered 5 s after a 502 from the fake, as long as Cloudinary's keep-alive in real life).
   * At most a few hundred calls an hour, the extra handshakes cost nothing that matters.
   */
  private readonly adminAgent: http.Agent;

  constructor(
    private readonly sdk: CloudinaryV2,
    config: CloudinaryConfig,
    options: CloudinarySourceOptions = {},
  ) {
    this.policy = {
      cloudName: config.cloudName,
      apiOrigin: config.uploadPrefix,
      privateCdn: config.privateCdn,
      ...(config.secureDistribution ? { secureDistribution: config.secureDistribution } : {}),
      ...(config.cname ? { cname: config.cname } : {}),
    };
    this.responseTimeoutMs = options.responseTimeoutMs ?? 60_000;
    this.adminAgent = config.uploadPrefix.startsWith('http:') ? new http.Agent({ keepAlive: false }) : new https.Agent({ keepAlive: false });
  }

  async listPage(resourceType: string, type: string, cursor: string | undefined): Promise<ListPage> {
    let res: {
      resources?: ApiResource[];
      next_cursor?: string;
      rate_limit_allowed?: number;
      rate_limit_remaining?: number;
      rate_limit_reset_at?: Date;
    };
    try {
      res = await this.sdk.api.resources({
        resource_type: resourceType,
        type,
        max_results: MAX_RESULTS,
        tags: true,
        context: true,
        metadata: true,
        agent: this.adminAgent,
        ...(cursor ? { next_cursor: cursor } : {}),
      });
    } catch (err) {
      throw toSourceError(err, `listing ${resourceType}/${type} resources`);
    }
    if (!Array.isArray(res.resources)) {
      throw toSourceError({ message: 'unexpected listing response (no resources array)', http_code: 200 }, `listing ${resourceType}/${type} resources`);
    }
    const rl =
      typeof res.rate_limit_allowed === 'number' && typeof res.rate_limit_remaining === 'number' && res.rate_limit_reset_at
        ? { limit: res.rate_limit_allowed, remaining: res.rate_limit_remaining, resetAt: new Date(res.rate_limit_reset_at) }
        : undefined;
    return {
      assets: res.resources.map(toAsset),
      ...(res.next_cursor ? { nextCursor: res.next_cursor } : {}),
      ...(rl ? { rateLimit: rl } : {}),
    };
  }

  /** One Admin API call: the account's usage (`GET /usage`). Rejects like listPage. */
  async usage(): Promise<UsageInfo> {
    try {
      return parseUsage((await this.sdk.api.usage({ agent: this.adminAgent })) as Record<string, unknown>);
    } catch (err) {
      throw toSourceError(err, 'reading usage');
    }
  }

  /** The URL an original is downloaded from. */
  downloadUrl(asset: Asset): string {
    if (!needsSignedDownload(asset) && !hasDotSegment(asset.publicId)) return asset.secureUrl;
    return this.sdk.utils.private_download_url(asset.publicId, asset.format, {
      resource_type: asset.resourceType,
      type: asset.type,
      expires_at: Math.floor(Date.now() / 1000) + 3600,
    });
  }

  async open(asset: Asset, signal: AbortSignal): Promise<OpenedAsset> {
    let res;
    try {
      res = await fetchOriginal(this.downloadUrl(asset), this.policy, signal, this.responseTimeoutMs);
    } catch (err) {
      const retryable = err instanceof DownloadError ? err.retryable : true;
      throw new AssetCopyError((err as Error).message, asset.publicId, undefined, { cause: err, retryable });
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
}
