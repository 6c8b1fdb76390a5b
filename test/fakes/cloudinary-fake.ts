/**
 * An HTTP fake of the Cloudinary APIs the backup uses, for integration tests driven through
 * the real `cloudinary` SDK (point the SDK at it with `CLOUDINARY_URL = fake.cloudinaryUrl`
 * before the SDK is first imported).
 *
 * Served on one loopback origin:
 *   GET  /v1_1/:cloud/resources/:resource_type[/:type]        Admin listing (paged, rate-limited)
 *   GET  /v1_1/:cloud/resources/:resource_type/:type/:public_id  Admin resource details
 *   GET  /v1_1/:cloud/usage[/:date]                            Admin usage report
 *   GET  /v1_1/:cloud/metadata_fields, POST (JSON)             structured metadata field definitions
 *   GET  /v1_1/:cloud/:resource_type/download?...              signed download (private_download_url)
 *   POST /v1_1/:cloud/:resource_type/upload                    Upload API (multipart, chunked)
 *   GET  /:cloud/:resource_type/:type/[v123/]:public_id.:fmt   public delivery (what secure_url points at)
 *
 * Errors are always `{"error":{"message":...}}` JSON. Fault injection is deterministic.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { bufferChunks, collect, mulberry32, seededChunks, sha256Of } from './content.ts';
import { multipartBoundary, parseMultipart } from './multipart.ts';
import { verifySignature } from './signing.ts';
import { HttpError, decodeSeg, drained, endSocket, header, readBody, safeDecode, sendJson } from './http-util.ts';
import {
  decodeCursor,
  deepMerge,
  encodeCursor,
  encodePublicId,
  formatTryAgain,
  isoSeconds,
  parseKeyValues,
  pick,
  splitList,
} from './cloudinary-params.ts';
import type { UsagePatch } from './cloudinary-params.ts';
import { FREE_PLAN_BLOCKED, MetadataFieldStore, formatOf, publiclyDeliverable, reencoded, takeTransformation } from './cloudinary-behaviours.ts';
import type { FakeAccessRule } from './cloudinary-behaviours.ts';

export { encodePublicId, formatTryAgain } from './cloudinary-params.ts';
export type { UsagePatch } from './cloudinary-params.ts';

export type ResourceType = 'image' | 'video' | 'raw';
export const RESOURCE_TYPES: readonly ResourceType[] = ['image', 'video', 'raw'];

/** What a test gives `addAsset`. */
export interface FakeAssetSpec {
  publicId: string;
  /** Default 'image'. */
  resourceType?: ResourceType;
  /** Delivery type. Default 'upload'; also 'private', 'authenticated', 'fetch', ... */
  type?: string;
  /** Default 'jpg' for images, 'mp4' for videos, '' for raw (then no `format` is listed). */
  format?: string;
  /** Listed size in bytes, default 1000. With `content` too, the listing may lie about the size. */
  bytes?: number;
  /** Upload time in Unix seconds. Default: the fake's clock. */
  version?: number;
  /** ISO date; default the version's time. */
  createdAt?: string;
  tags?: string[];
  context?: Record<string, string>;
  metadata?: Record<string, unknown>;
  width?: number;
  height?: number;
  /** Stored bytes; otherwise deterministic bytes are generated lazily (any size, no memory). */
  content?: Buffer;
  /** Listed secure_url instead of the fake's own delivery URL (attack tests). */
  secureUrlOverride?: string;
  /** Dynamic folders: the Media Library folder. Default '' (the root). */
  assetFolder?: string;
  /** Dynamic folders: the shown name. Default: the last segment of the public_id. */
  displayName?: string;
  /** 'public' (default) or 'authenticated'. */
  accessMode?: string;
  accessControl?: FakeAccessRule[];
  /** Listed as `moderation_status` when the listing asks for moderations. */
  moderationStatus?: string;
  /** Still processing: listed as a placeholder with status "pending", delivery answers 423. */
  processing?: boolean;
}

/** An asset in the fake's store. Change it only through the fake's methods. */
export interface FakeAsset {
  readonly assetId: string;
  readonly publicId: string;
  readonly resourceType: ResourceType;
  readonly type: string;
  readonly format: string;
  /** The size the Admin API lists. */
  readonly bytes: number;
  readonly version: number;
  readonly createdAt: string;
  readonly tags: readonly string[];
  readonly context: Readonly<Record<string, string>>;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly width?: number;
  readonly height?: number;
  readonly content?: Buffer;
  readonly secureUrlOverride?: string;
  readonly assetFolder: string;
  readonly displayName: string;
  readonly accessMode: string;
  readonly accessControl?: readonly FakeAccessRule[];
  readonly moderationStatus?: string;
  readonly processing?: boolean;
  /** Creation order (listing order). */
  readonly seq: number;
  /** Bumped by every replace: seeds the generated content. */
  readonly generation: number;
}

type MutableAsset = { -readonly [K in keyof FakeAsset]: FakeAsset[K] };

export type RequestKind = 'listing' | 'resource' | 'usage' | 'metadata' | 'download' | 'delivery' | 'upload' | 'other';

export interface FakeStats {
  /** Admin API requests received (listing, resource, usage), whatever their outcome. */
  adminCalls: number;
  listingCalls: number;
  /** Downloads started with a 200 (signed downloads and public delivery). */
  downloads: number;
  /** Body bytes actually written by downloads. */
  downloadBytes: number;
  /** Uploads that stored an asset (a chunked upload counts once). */
  uploads: number;
  requests: Record<RequestKind, number>;
}

export interface CloudinaryFakeOptions {
  cloudName?: string;
  apiKey?: string;
  apiSecret?: string;
  /** Admin API calls allowed per hour (Cloudinary free plan: 500). */
  rateLimit?: number;
  /** Clock in epoch milliseconds (rate-limit windows, versions, signature freshness). */
  now?: () => number;
  /**
   * How far a signed request's `timestamp` may be from `now()` (Cloudinary: 1 hour). The SDK
   * stamps real time, so a test whose injected clock is far from real time sets Infinity.
   */
  signatureMaxAgeSeconds?: number;
  /** Length of a rate-limit window in ms (Cloudinary: one hour). Short windows let a CLI test wait for a real reset. */
  rateWindowMs?: number;
  /**
   * Most resources one listing page holds, below what max_results asks (Cloudinary may return
   * fewer): lets a test have many pages with few assets. Default: max_results.
   */
  pageSize?: number;
  /**
   * Formats whose CDN delivery answers 401 (a Free plan's default, see FREE_PLAN_BLOCKED).
   * Default: FREE_PLAN_BLOCKED; [] for an account where the owner unblocked them.
   */
  blockedFormats?: readonly string[];
  /** "Optimize by default": un-transformed image/video URLs serve re-encoded bytes. Default false. */
  optimizeByDefault?: boolean;
  /**
   * An older per-quota plan: `GET /usage` has no `credits` object, only per-metric limits
   * (Admin API reference, usage response). Default false.
   */
  legacyQuotaPlan?: boolean;
  /**
   * Uploads whose structured `metadata` names a field the account does not define are refused
   * with 400, as Cloudinary refuses them (issue 12: a restore into another account fails for
   * every such asset). Default false: most tests upload metadata without defining fields.
   */
  requireMetadataFields?: boolean;
  /**
   * The Upload API applies Cloudinary's public_id rules (see checkPublicId). Default true, as
   * Cloudinary does; false only to seed an account through uploads with names it would refuse.
   * Assets added with addAsset are never checked: they stand for what an account already holds,
   * and the rules page says "These requirements may change from time to time", so names made
   * under older rules (or by routes other than this upload) can be listed and must be backed up.
   */
  enforcePublicIdRules?: boolean;
}

export interface ListingFaultOptions {
  /** How many consecutive listings fail. Default 1. */
  times?: number;
  message?: string;
  /** For 420/429: the "Try again on" time (epoch ms). Default: the rate-limit window reset. */
  retryAt?: number;
  /** For 420/429: the "Try again on" time as this many ms after the fault fires (wins over retryAt). */
  retryInMs?: number;
  /** Listings that succeed before the first failure (a fault in the middle of a listing). Default 0. */
  after?: number;
}

export interface DownloadFaultOptions {
  /** Apply to every download of the asset, not only the next one. */
  persistent?: boolean;
}

interface DownloadFault {
  kind: 'cut' | 'stall' | 'overlong' | 'fail' | 'reset' | 'redirect';
  afterBytes?: number;
  extraBytes?: number;
  status?: number;
  location?: string;
  chunked?: boolean;
  persistent: boolean;
}

/** A seeded failure rate: drawn in request order, or per asset and attempt (order-independent). */
interface FailureRate {
  rate: number;
  rng: () => number;
  seed: number;
  byAsset: boolean;
  attempts: Map<string, number>;
}

const HOUR_MS = 3_600_000;
const MIN_CHUNK_BYTES = 5 * 1024 * 1024;
const MAX_BODY_BYTES = 512 * 1024 * 1024;
const MAX_LOG = 10_000;
const UPLOAD_TYPES = new Set(['upload', 'private', 'authenticated']);
const IMAGE_FORMATS = new Set(['jpg', 'jpeg', 'png', 'gif', 'webp', 'avif', 'svg', 'bmp', 'tiff', 'tif', 'ico', 'heic', 'pdf']);
const VIDEO_FORMATS = new Set(['mp4', 'mov', 'webm', 'avi', 'mkv', 'm4v', 'mp3', 'wav', 'ogg', 'flac', 'm4a']);
const MIME: Record<string, string> = {
  jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp',
  avif: 'image/avif', svg: 'image/svg+xml', pdf: 'application/pdf', mp4: 'video/mp4',
  mov: 'video/quicktime', webm: 'video/webm', mp3: 'audio/mpeg', txt: 'text/plain', json: 'application/json',
};

export class CloudinaryFake {
  readonly cloudName: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly rateLimit: number;
  stats: FakeStats = emptyStats();
  /** The last requests (method, kind, path with query), oldest first; capped at 10,000. */
  readonly requestLog: Array<{ method: string; kind: RequestKind; path: string }> = [];

  private readonly now: () => number;
  private readonly signatureMaxAge: number;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly assets = new Map<string, MutableAsset>();
  /** Every asset, ascending `seq` (the listing order). */
  private readonly ordered: MutableAsset[] = [];
  private seqCounter = 0;
  private readonly shaCache = new Map<string, string>();
  private rateWindowStart = 0;
  private readonly rateWindowMs: number;
  private rateUsed = 0;
  /** Queued listing outcomes; null lets one listing through (see ListingFaultOptions.after). */
  private listingFaults: Array<{ status: number; message?: string; retryAt?: number; retryInMs?: number } | null> = [];
  private malformedOnce = false;
  private repeatCursor = false;
  private readonly downloadFaults = new Map<string, DownloadFault>();
  private failureRate: FailureRate | undefined;
  private readonly pageSize: number | undefined;
  private readonly stalled = new Set<ServerResponse>();
  private readonly chunkSessions = new Map<string, Array<{ start: number; data: Buffer }>>();
  private usageBase: UsagePatch = {};
  private deliveredBytes = 0;
  private usageLagged = false;
  private snapshotDelivered = 0;
  private readonly blockedFormats: ReadonlySet<string>;
  private readonly optimizeByDefault: boolean;
  private readonly legacyQuotaPlan: boolean;
  private readonly requireMetadataFields: boolean;
  private readonly enforcePublicIdRules: boolean;
  /** Structured metadata field definitions of the account. */
  readonly metadataFields = new MetadataFieldStore();

  constructor(opts: CloudinaryFakeOptions = {}) {
    this.cloudName = opts.cloudName ?? 'fake-cloud';
    this.apiKey = opts.apiKey ?? '123456789012345';
    this.apiSecret = opts.apiSecret ?? 'fake-api-secret-0123456789';
    this.rateLimit = opts.rateLimit ?? 500;
    this.now = opts.now ?? Date.now;
    this.signatureMaxAge = opts.signatureMaxAgeSeconds ?? 3600;
    this.rateWindowMs = opts.rateWindowMs ?? HOUR_MS;
    this.pageSize = opts.pageSize;
    this.blockedFormats = new Set(opts.blockedFormats ?? FREE_PLAN_BLOCKED);
    this.optimizeByDefault = opts.optimizeByDefault ?? false;
    this.legacyQuotaPlan = opts.legacyQuotaPlan ?? false;
    this.requireMetadataFields = opts.requireMetadataFields ?? false;
    this.enforcePublicIdRules = opts.enforcePublicIdRules ?? true;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Listens on 127.0.0.1, port chosen by the OS. */
  async start(): Promise<void> {
    if (this.server) throw new Error('CloudinaryFake already started');
    const server = createServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Closes the server and every open socket (stalled downloads included). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.stalled.clear();
    await closed;
  }

  get port(): number {
    const address = this.server?.address();
    if (!address || typeof address === 'string') throw new Error('CloudinaryFake not started');
    return address.port;
  }

  /** `http://127.0.0.1:PORT` */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** `cloudinary://KEY:SECRET@CLOUD?upload_prefix=http://127.0.0.1:PORT` */
  get cloudinaryUrl(): string {
    return `cloudinary://${this.apiKey}:${this.apiSecret}@${this.cloudName}?upload_prefix=${this.origin}`;
  }

  // ---------------------------------------------------------------- asset store

  /** Adds (or overwrites, keeping nothing) an asset. */
  addAsset(spec: FakeAssetSpec): FakeAsset {
    const resourceType = spec.resourceType ?? 'image';
    const type = spec.type ?? 'upload';
    const key = assetKey(spec.publicId, resourceType, type);
    if (this.assets.has(key)) this.deleteAsset(spec.publicId, resourceType, type);
    const version = spec.version ?? this.nowSeconds();
    const seq = ++this.seqCounter;
    const asset: MutableAsset = {
      assetId: createHash('md5').update(`${this.cloudName}:${key}:${seq}`).digest('hex'),
      publicId: spec.publicId,
      resourceType,
      type,
      format: spec.format ?? defaultFormat(resourceType),
      bytes: spec.bytes ?? spec.content?.length ?? 1000,
      version,
      createdAt: spec.createdAt ?? isoSeconds(version * 1000),
      tags: [...(spec.tags ?? [])],
      context: { ...(spec.context ?? {}) },
      metadata: { ...(spec.metadata ?? {}) },
      seq,
      generation: 0,
      assetFolder: spec.assetFolder ?? '',
      displayName: spec.displayName ?? (spec.publicId.split('/').pop() ?? spec.publicId),
      accessMode: spec.accessMode ?? 'public',
    };
    if (spec.accessControl) asset.accessControl = spec.accessControl.map((r) => ({ ...r }));
    if (spec.moderationStatus !== undefined) asset.moderationStatus = spec.moderationStatus;
    if (spec.processing) asset.processing = true;
    const dims = spec.width !== undefined || resourceType !== 'raw' ? defaultDims(resourceType) : undefined;
    if (dims) {
      asset.width = spec.width ?? dims[0];
      asset.height = spec.height ?? dims[1];
    }
    if (spec.content) asset.content = spec.content;
    if (spec.secureUrlOverride !== undefined) asset.secureUrlOverride = spec.secureUrlOverride;
    this.assets.set(key, asset);
    this.ordered.push(asset);
    return asset;
  }

  /**
   * A new version of an existing asset (same asset_id, listing position kept). Content is new
   * deterministic bytes unless `content` is given. Default version: max(now, old version + 1).
   */
  replaceAsset(
    publicId: string,
    resourceType: ResourceType,
    type: string,
    changes: { bytes?: number; content?: Buffer; version?: number; format?: string } = {},
  ): FakeAsset {
    const asset = this.mustGet(publicId, resourceType, type);
    asset.version = changes.version ?? Math.max(this.nowSeconds(), asset.version + 1);
    asset.generation += 1;
    if (changes.content) asset.content = changes.content;
    else delete asset.content;
    asset.bytes = changes.bytes ?? changes.content?.length ?? asset.bytes;
    if (changes.format !== undefined) asset.format = changes.format;
    return asset;
  }

  /** Edits tags / context / structured metadata (each replaced when given); the version stays. */
  updateMetadata(
    publicId: string,
    resourceType: ResourceType,
    type: string,
    changes: { tags?: string[]; context?: Record<string, string>; metadata?: Record<string, unknown> },
  ): FakeAsset {
    const asset = this.mustGet(publicId, resourceType, type);
    if (changes.tags) asset.tags = [...changes.tags];
    if (changes.context) asset.context = { ...changes.context };
    if (changes.metadata) asset.metadata = { ...changes.metadata };
    return asset;
  }

  /** Marks an asset as still processing (listed pending, delivery 423) or as ready. */
  updateProcessing(publicId: string, resourceType: ResourceType, type: string, processing: boolean): void {
    const asset = this.mustGet(publicId, resourceType, type);
    if (processing) asset.processing = true;
    else delete asset.processing;
  }

    /** Sets (or with undefined, clears) the listed secure_url override. */
  setSecureUrl(publicId: string, resourceType: ResourceType, type: string, url: string | undefined): void {
    const asset = this.mustGet(publicId, resourceType, type);
    if (url === undefined) delete asset.secureUrlOverride;
    else asset.secureUrlOverride = url;
  }

  /** Removes an asset; false when it was not there. */
  deleteAsset(publicId: string, resourceType: ResourceType = 'image', type = 'upload'): boolean {
    const key = assetKey(publicId, resourceType, type);
    const asset = this.assets.get(key);
    if (!asset) return false;
    this.assets.delete(key);
    const at = this.lowerBound(asset.seq);
    if (this.ordered[at] === asset) this.ordered.splice(at, 1);
    return true;
  }

  getAsset(publicId: string, resourceType: ResourceType = 'image', type = 'upload'): FakeAsset | undefined {
    return this.assets.get(assetKey(publicId, resourceType, type));
  }

  /** Every asset in creation order. */
  listAssets(): FakeAsset[] {
    return [...this.ordered];
  }

  /** The bytes delivery and download serve, in chunks (use this for big assets). */
  contentChunks(asset: FakeAsset): Generator<Buffer> {
    return asset.content
      ? bufferChunks(asset.content)
      : seededChunks(`${asset.assetId}:${asset.generation}`, asset.bytes);
  }

  /** The served bytes as one buffer (small assets only). */
  contentOf(asset: FakeAsset): Buffer {
    return collect(this.contentChunks(asset));
  }

  /** Size of what is served (differs from the listed `bytes` only when a test made it lie). */
  servedSize(asset: FakeAsset): number {
    return asset.content ? asset.content.length : asset.bytes;
  }

  /** Hex SHA-256 of the served bytes (computed by streaming, cached per version). */
  expectedSha256(asset: FakeAsset): string {
    const key = `${asset.assetId}:${asset.generation}:${asset.content ? 'c' : asset.bytes}`;
    let sha = asset.content ? undefined : this.shaCache.get(key);
    if (sha === undefined) {
      sha = sha256Of(this.contentChunks(asset));
      if (!asset.content) this.shaCache.set(key, sha);
    }
    return sha;
  }

  // ---------------------------------------------------------------- rate limit, usage, stats

  /** Starts a fresh hourly window with the whole allowance. */
  resetRateLimit(): void {
    this.rollWindow(true);
    this.rateUsed = 0;
  }

  /** Sets how many Admin API calls remain in the current window. */
  setRateLimitRemaining(remaining: number): void {
    this.rollWindow(false);
    this.rateUsed = Math.max(0, this.rateLimit - remaining);
  }

  /** When the current window resets (epoch ms). */
  rateLimitResetAt(): number {
    this.rollWindow(false);
    return this.rateWindowStart + this.rateWindowMs;
  }

  /**
   * Deep-merges a patch into the usage report's base, e.g. `{ credits: { usage: 24, limit: 25 } }`.
   * Bytes delivered after that are added on top (bandwidth and credits).
   */
  setUsage(patch: UsagePatch): void {
    this.usageBase = deepMerge(this.usageBase, patch);
  }

  /**
   * Makes `GET /usage` a daily snapshot, as Cloudinary's is (Admin API reference, usage:
   * `last_updated` is a date, the figures are the previous day's): bytes delivered after the
   * last takeUsageSnapshot() do not show until the next one. Off by default (live counters).
   */
  lagUsage(on = true): void {
    this.usageLagged = on;
    this.takeUsageSnapshot();
  }

  /** Takes the usage snapshot: what was delivered so far shows in `GET /usage` from now on. */
  takeUsageSnapshot(): void {
    this.snapshotDelivered = this.deliveredBytes;
  }

  /** Clears the usage base and the delivered-bytes counter. */
  resetUsage(): void {
    this.usageBase = {};
    this.deliveredBytes = 0;
    this.snapshotDelivered = 0;
  }

  /** The report `GET /usage` returns now (Cloudinary's documented shape). */
  usage(): Record<string, unknown> {
    const base = this.usageBase;
    const num = (path: string[]): number | undefined => {
      let v: unknown = base;
      for (const p of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
      return typeof v === 'number' ? v : undefined;
    };
    let stored = 0;
    for (const a of this.ordered) stored += a.bytes;
    const delivered = this.usageLagged ? this.snapshotDelivered : this.deliveredBytes;
    const bandwidthBytes = (num(['bandwidth', 'usage']) ?? 0) + delivered;
    const storageBytes = num(['storage', 'usage']) ?? stored;
    const transformationCredits = num(['transformations', 'credits_usage']) ?? 0;
    const baseCredits = num(['credits', 'usage']);
    const creditsUsed = round(
      baseCredits !== undefined
        ? baseCredits + delivered / 1e9
        : bandwidthBytes / 1e9 + storageBytes / 1e9 + transformationCredits,
    );
    const limit = num(['credits', 'limit']) ?? 25;
    const computed = {
      plan: 'Free',
      last_updated: new Date(this.now()).toISOString().slice(0, 10),
      date_requested: isoSeconds(this.now()),
      transformations: { usage: 0, credits_usage: transformationCredits },
      objects: { usage: this.ordered.length },
      bandwidth: { usage: bandwidthBytes, credits_usage: round(bandwidthBytes / 1e9) },
      storage: { usage: storageBytes, credits_usage: round(storageBytes / 1e9) },
      credits: { usage: creditsUsed, limit, used_percent: round((creditsUsed / limit) * 100) },
      requests: this.stats.requests.delivery + this.stats.requests.download,
      resources: this.ordered.length,
      derived_resources: 0,
      media_limits: {
        image_max_size_bytes: 10_485_760,
        video_max_size_bytes: 104_857_600,
        raw_max_size_bytes: 10_485_760,
        image_max_px: 25_000_000,
        asset_max_total_px: 50_000_000,
      },
    };
    if (this.legacyQuotaPlan) {
      // Older per-quota plans: no `credits` object; each metric has its own `limit` (bytes).
      const { credits: _credits, ...rest } = computed;
      const bandwidthLimit = num(['bandwidth', 'limit']) ?? 25e9;
      const legacy = { ...rest, bandwidth: { ...rest.bandwidth, limit: bandwidthLimit, used_percent: round((bandwidthBytes / bandwidthLimit) * 100) } };
      const { credits: _c, ...baseRest } = base;
      return deepMerge(deepMerge(baseRest, legacy), pick(baseRest, ['plan', 'last_updated', 'requests', 'resources', 'derived_resources', 'media_limits']));
    }
    // Explicit values other than the counters computed above win.
    return deepMerge(deepMerge(base, computed), pick(base, ['plan', 'last_updated', 'requests', 'resources', 'derived_resources', 'media_limits']));
  }

  resetStats(): void {
    this.stats = emptyStats();
    this.requestLog.length = 0;
  }

  // ---------------------------------------------------------------- fault injection

  /** The next `times` listings (default 1) answer `status` with a Cloudinary error body. */
  failNextListing(status: 420 | 429 | 500 | 502 | 503, opts: ListingFaultOptions = {}): void {
    for (let i = 0; i < (opts.after ?? 0); i++) this.listingFaults.push(null);
    for (let i = 0; i < (opts.times ?? 1); i++) {
      const fault: { status: number; message?: string; retryAt?: number; retryInMs?: number } = { status };
      if (opts.message !== undefined) fault.message = opts.message;
      if (opts.retryAt !== undefined) fault.retryAt = opts.retryAt;
      if (opts.retryInMs !== undefined) fault.retryInMs = opts.retryInMs;
      this.listingFaults.push(fault);
    }
  }

  /** The next listing answers 200 with truncated JSON (it is charged as an Admin call). */
  malformedListingOnce(): void {
    this.malformedOnce = true;
  }

  /**
   * The next listing requested *with* a next_cursor answers its page but returns the same
   * cursor again (a pagination loop a client must detect).
   */
  repeatCursorOnce(): void {
    this.repeatCursor = true;
  }

  /** Sends the full Content-Length, then closes the connection after `afterBytes` body bytes. */
  cutDownload(publicId: string, afterBytes: number, opts: DownloadFaultOptions = {}): void {
    this.downloadFaults.set(publicId, { kind: 'cut', afterBytes, persistent: opts.persistent ?? false });
  }

  /** Sends headers (and `afterBytes` body bytes, default 0), then nothing until the client gives up or `stop()`. */
  stallDownload(publicId: string, opts: DownloadFaultOptions & { afterBytes?: number } = {}): void {
    this.downloadFaults.set(publicId, { kind: 'stall', afterBytes: opts.afterBytes ?? 0, persistent: opts.persistent ?? false });
  }

  /** Sends the full Content-Length and `afterBytes` body bytes, then resets the connection (TCP RST). */
  resetDownload(publicId: string, afterBytes: number, opts: DownloadFaultOptions = {}): void {
    this.downloadFaults.set(publicId, { kind: 'reset', afterBytes, persistent: opts.persistent ?? false });
  }

  /** The download answers 302 with `location` (attack tests: a redirect off Cloudinary). */
  redirectDownload(publicId: string, location: string, opts: DownloadFaultOptions = {}): void {
    this.downloadFaults.set(publicId, { kind: 'redirect', location, persistent: opts.persistent ?? false });
  }

  /**
   * Sends the whole body plus `extraBytes` (default 1024) more than Content-Length says; with
   * `chunked`, no Content-Length at all (chunked encoding), so only the listed size can tell.
   */
  overlongDownload(publicId: string, opts: DownloadFaultOptions & { extraBytes?: number; chunked?: boolean } = {}): void {
    this.downloadFaults.set(publicId, {
      kind: 'overlong',
      extraBytes: opts.extraBytes ?? 1024,
      chunked: opts.chunked ?? false,
      persistent: opts.persistent ?? false,
    });
  }

  /** The download answers `status` (e.g. 404, 500) with an error body. */
  failDownload(publicId: string, status: number, opts: DownloadFaultOptions = {}): void {
    this.downloadFaults.set(publicId, { kind: 'fail', status, persistent: opts.persistent ?? false });
  }

  /**
   * Cuts a seeded fraction of all downloads at a seeded offset (deterministic for a given
   * request order). `rate` 0 turns it off. Per-asset faults take precedence. With `byAsset`,
   * whether the n-th download of an asset fails depends only on the seed, the asset and n, so
   * the outcome does not depend on the order concurrent requests arrive in.
   */
  downloadFailureRate(rate: number, seed = 1, opts: { byAsset?: boolean } = {}): void {
    this.failureRate =
      rate > 0 ? { rate, rng: mulberry32(seed), seed, byAsset: opts.byAsset ?? false, attempts: new Map() } : undefined;
  }

  /** Removes every armed fault. */
  clearFaults(): void {
    this.listingFaults = [];
    this.malformedOnce = false;
    this.repeatCursor = false;
    this.downloadFaults.clear();
    this.failureRate = undefined;
  }

  // ---------------------------------------------------------------- routing

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let kind: RequestKind = 'other';
    try {
      const url = new URL(req.url ?? '/', 'http://fake.invalid');
      const segs = url.pathname.split('/').slice(1);
      kind = routeKind(segs, this.cloudName);
      this.stats.requests[kind] += 1;
      this.requestLog.push({ method: req.method ?? 'GET', kind, path: url.pathname + url.search });
      if (this.requestLog.length > MAX_LOG) this.requestLog.splice(0, this.requestLog.length - MAX_LOG);
      const method = req.method ?? 'GET';
      if (segs[0] === 'v1_1') {
        if (decodeSeg(segs[1] ?? '') !== this.cloudName) {
          throw new HttpError(401, `Invalid cloud_name ${decodeSeg(segs[1] ?? '')}`);
        }
        const rest = segs.slice(2);
        if (kind === 'listing' || kind === 'resource' || kind === 'usage') {
          if (method !== 'GET' && !(method === 'POST' && kind === 'resource')) throw new HttpError(404, `Unsupported method ${method}`);
          await this.admin(req, res, kind, url, rest);
        } else if (kind === 'metadata') {
          if (method !== 'GET' && method !== 'POST') throw new HttpError(404, `Unsupported method ${method}`);
          await this.admin(req, res, kind, url, rest);
        } else if (kind === 'download') {
          if (method !== 'GET' && method !== 'HEAD') throw new HttpError(404, `Unsupported method ${method}`);
          await this.download(req, res, url, rest[0] ?? '');
        } else if (kind === 'upload') {
          if (method !== 'POST') throw new HttpError(404, `Unsupported method ${method}`);
          await this.upload(req, res, rest[0] ?? '');
        } else {
          throw new HttpError(404, `Unknown API path ${url.pathname}`);
        }
      } else if (kind === 'delivery') {
        if (method !== 'GET' && method !== 'HEAD') throw new HttpError(404, `Unsupported method ${method}`);
        await this.delivery(req, res, segs.slice(1));
      } else {
        throw new HttpError(404, `Not found: ${url.pathname}`);
      }
    } catch (err) {
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof HttpError ? err.message : `Internal fake error: ${String(err)}`;
      const headers = err instanceof HttpError ? err.headers : {};
      if (kind === 'delivery') headers['X-Cld-Error'] = message;
      sendJson(res, status, { error: { message } }, headers);
    }
  }

  // ---------------------------------------------------------------- Admin API

  private async admin(
    req: IncomingMessage,
    res: ServerResponse,
    kind: 'listing' | 'resource' | 'usage' | 'metadata',
    url: URL,
    rest: string[],
  ): Promise<void> {
    this.stats.adminCalls += 1;
    if (kind === 'listing') this.stats.listingCalls += 1;
    this.checkBasicAuth(req);
    if (kind === 'listing') {
      const fault = this.listingFaults.shift();
      if (fault) {
        const retryAt = fault.retryInMs !== undefined ? this.now() + fault.retryInMs : (fault.retryAt ?? this.rateLimitResetAt());
        const message =
          fault.message ??
          (fault.status === 420 || fault.status === 429
            ? `Rate Limit Exceeded. Try again on ${formatTryAgain(retryAt)}`
            : fault.status === 500
              ? 'Internal server error'
              : fault.status === 502
                ? 'Bad Gateway'
                : 'Service Unavailable');
        const headers = fault.status >= 502 ? {} : this.rateHeaders();
        sendJson(res, fault.status, { error: { message } }, headers);
        return;
      }
    }
    const headers = this.chargeRateLimit();
    try {
      if (kind === 'usage') {
        sendJson(res, 200, this.usage(), headers);
      } else if (kind === 'metadata') {
        if (req.method === 'POST') {
          const body = await readBody(req, 1024 * 1024);
          let parsed: unknown;
          try {
            parsed = JSON.parse(body.toString('utf8'));
          } catch {
            throw new HttpError(400, 'Invalid JSON body');
          }
          sendJson(res, 200, this.metadataFields.add(parsed), headers);
        } else {
          sendJson(res, 200, { metadata_fields: this.metadataFields.list() }, headers);
        }
      } else if (kind === 'resource') {
        sendJson(res, 200, req.method === 'POST' ? await this.updateResource(req, rest) : this.resourceDetails(rest), headers);
      } else if (this.malformedOnce) {
        this.malformedOnce = false;
        res.writeHead(200, { ...headers, 'Content-Type': 'application/json' });
        res.end('{"resources":[{"asset_id":"0f3c');
      } else {
        sendJson(res, 200, this.listing(url, rest), headers);
      }
    } catch (err) {
      if (err instanceof HttpError) throw new HttpError(err.status, err.message, { ...headers, ...err.headers });
      throw err;
    }
  }

  private checkBasicAuth(req: IncomingMessage): void {
    const header = req.headers.authorization ?? '';
    const match = /^Basic\s+(\S+)$/i.exec(header);
    if (!match) throw new HttpError(401, 'Must supply api_key');
    const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const key = colon < 0 ? decoded : decoded.slice(0, colon);
    const secret = colon < 0 ? '' : decoded.slice(colon + 1);
    if (key !== this.apiKey) throw new HttpError(401, `Invalid api_key ${key}`);
    if (secret !== this.apiSecret) throw new HttpError(401, `Invalid api_key or api_secret (api_secret mismatch for ${key})`);
  }

  private rollWindow(force: boolean): void {
    const start = Math.floor(this.now() / this.rateWindowMs) * this.rateWindowMs;
    if (force || start !== this.rateWindowStart) {
      this.rateWindowStart = start;
      this.rateUsed = 0;
    }
  }

  private rateHeaders(): Record<string, string> {
    this.rollWindow(false);
    return {
      'X-FeatureRateLimit-Limit': String(this.rateLimit),
      'X-FeatureRateLimit-Remaining': String(Math.max(0, this.rateLimit - this.rateUsed)),
      'X-FeatureRateLimit-Reset': new Date(this.rateWindowStart + this.rateWindowMs).toUTCString(),
    };
  }

  /** Charges one Admin call; throws the 420 when the window's allowance is spent. */
  private chargeRateLimit(): Record<string, string> {
    this.rollWindow(false);
    if (this.rateUsed >= this.rateLimit) {
      const message = `Rate Limit Exceeded. Try again on ${formatTryAgain(this.rateWindowStart + this.rateWindowMs)}`;
      throw new HttpError(420, message, this.rateHeaders());
    }
    this.rateUsed += 1;
    return this.rateHeaders();
  }

  private listing(url: URL, rest: string[]): Record<string, unknown> {
    const resourceType = parseResourceType(decodeSeg(rest[1] ?? ''));
    // Admin API reference, "Get resources": `type` is optional with "Default: upload". Older SDK
    // docs said an omitted type lists every type; the fake takes the stricter, current reading.
    const type = rest[2] !== undefined && rest[2] !== '' ? decodeSeg(rest[2]) : 'upload';
    const q = url.searchParams;
    const maxRaw = q.get('max_results');
    const asked = maxRaw === null ? 10 : Number(maxRaw);
    if (!Number.isInteger(asked) || asked < 1) throw new HttpError(400, `Invalid max_results ${maxRaw}`);
    if (asked > 500) throw new HttpError(400, `max_results should be at most 500 (got ${asked})`);
    const max = Math.min(asked, this.pageSize ?? asked);
    const prefix = q.get('prefix') ?? '';
    const direction = /^(asc|1)$/i.test(q.get('direction') ?? '') ? 'asc' : 'desc';
    const fingerprint = createHash('sha1')
      .update(`${resourceType}|${type}|${prefix}|${prefix ? 'id' : direction}`)
      .digest('hex')
      .slice(0, 12);
    const cursorIn = q.get('next_cursor') ?? undefined;
    const after = cursorIn === undefined ? undefined : decodeCursor(cursorIn, fingerprint, prefix !== '');
    const matches = (a: MutableAsset): boolean =>
      a.resourceType === resourceType && a.type === type && a.publicId.startsWith(prefix);

    const page: MutableAsset[] = [];
    let more = false;
    if (prefix) {
      // Cloudinary sorts prefix listings by public_id.
      const all = this.ordered.filter(matches).sort(byIdThenSeq);
      let start = 0;
      if (after) {
        const [id, seq] = after as [string, number];
        start = all.findIndex((a) => byIdThenSeq(a, { publicId: id, seq }) > 0);
        if (start < 0) start = all.length;
      }
      page.push(...all.slice(start, start + max));
      more = start + max < all.length;
    } else {
      const step = direction === 'asc' ? 1 : -1;
      let i: number;
      if (after === undefined) i = step === 1 ? 0 : this.ordered.length - 1;
      else if (step === 1) i = this.lowerBound((after as number) + 1);
      else i = this.lowerBound(after as number) - 1;
      for (; i >= 0 && i < this.ordered.length; i += step) {
        const a = this.ordered[i] as MutableAsset;
        if (!matches(a)) continue;
        if (page.length === max) {
          more = true;
          break;
        }
        page.push(a);
      }
    }
    const flags = {
      tags: q.get('tags') === 'true',
      context: q.get('context') === 'true',
      metadata: q.get('metadata') === 'true',
      moderations: q.get('moderations') === 'true',
    };
    const body: Record<string, unknown> = { resources: page.map((a) => this.resourceJson(a, flags)) };
    const last = page[page.length - 1];
    if (more && last) {
      let next = encodeCursor(fingerprint, prefix ? [last.publicId, last.seq] : last.seq);
      if (this.repeatCursor && cursorIn !== undefined) {
        this.repeatCursor = false;
        next = cursorIn;
      }
      body['next_cursor'] = next;
    }
    return body;
  }

  /**
   * Admin API `update` (`POST /resources/:resource_type/:type/:public_id`, form-encoded: the SDK's
   * default for Admin calls, cloudinary_npm lib/api_client/execute_request.js), for the one
   * parameter restore sends: `moderation_status` = approved | rejected (cloudinary_npm lib/api.js
   * update; docs/moderate-upload.md). The fake refuses it on an asset that is not under
   * moderation: no source says what Cloudinary does then, and the documented flow uploads with
   * `moderation: manual` first, which is what this stricter reading makes a test check.
   */
  private async updateResource(req: IncomingMessage, rest: string[]): Promise<Record<string, unknown>> {
    const resourceType = parseResourceType(decodeSeg(rest[1] ?? ''));
    const type = decodeSeg(rest[2] ?? '');
    const publicId = rest.slice(3).map(decodeSeg).join('/');
    const asset = this.assets.get(assetKey(publicId, resourceType, type));
    if (!asset) throw new HttpError(404, `Resource not found - ${publicId}`);
    const params = new URLSearchParams((await readBody(req, 1024 * 1024)).toString('utf8'));
    const status = params.get('moderation_status');
    if (status === null) throw new HttpError(400, 'The fake models only the moderation_status parameter of update');
    if (status !== 'approved' && status !== 'rejected') throw new HttpError(400, `Invalid moderation_status ${status}`);
    if (asset.moderationStatus === undefined) throw new HttpError(400, `Resource ${publicId} is not under moderation`);
    asset.moderationStatus = status;
    return { ...this.resourceJson(asset, { tags: true, context: true, metadata: true }), moderation: [{ kind: 'manual', status }] };
  }

  private resourceDetails(rest: string[]): Record<string, unknown> {
    const resourceType = parseResourceType(decodeSeg(rest[1] ?? ''));
    const type = decodeSeg(rest[2] ?? '');
    const publicId = rest.slice(3).map(decodeSeg).join('/');
    const asset = this.assets.get(assetKey(publicId, resourceType, type));
    if (!asset) throw new HttpError(404, `Resource not found - ${publicId}`);
    return { ...this.resourceJson(asset, { tags: true, context: true, metadata: true }), derived: [] };
  }

  private resourceJson(
    a: FakeAsset,
    flags: { tags: boolean; context: boolean; metadata: boolean; moderations?: boolean },
  ): Record<string, unknown> {
    const path = `${this.cloudName}/${a.resourceType}/${a.type}/v${a.version}/${encodePublicId(a.publicId)}${a.format ? `.${a.format}` : ''}`;
    const body: Record<string, unknown> = { asset_id: a.assetId, public_id: a.publicId };
    if (a.format) body['format'] = a.format;
    Object.assign(body, {
      version: a.version,
      resource_type: a.resourceType,
      type: a.type,
      created_at: a.createdAt,
      bytes: a.bytes,
    });
    if (a.width !== undefined) Object.assign(body, { width: a.width, height: a.height });
    // Dynamic folders (accounts since mid-2024): asset_folder and display_name are their own
    // fields, the public_id carries neither (docs: "Dynamic folders"; cloudinary-cli clone.py).
    Object.assign(body, {
      asset_folder: a.assetFolder,
      display_name: a.displayName,
      access_mode: a.accessMode,
      url: `http://res.cloudinary.com/${path}`,
      secure_url: a.secureUrlOverride ?? `${this.origin}/${path}`,
    });
    if (a.accessControl && a.accessControl.length > 0) body['access_control'] = a.accessControl.map((r) => ({ ...r }));
    if (flags.moderations && a.moderationStatus !== undefined) body['moderation_status'] = a.moderationStatus;
    // An upload still processing is listed as a placeholder with status "pending" (issue 12).
    if (a.processing) Object.assign(body, { placeholder: true, status: 'pending' });
    if (flags.tags) body['tags'] = [...a.tags];
    if (flags.context && Object.keys(a.context).length > 0) body['context'] = { custom: { ...a.context } };
    if (flags.metadata && Object.keys(a.metadata).length > 0) body['metadata'] = { ...a.metadata };
    return body;
  }

  // ---------------------------------------------------------------- downloads

  private async download(req: IncomingMessage, res: ServerResponse, url: URL, rtSeg: string): Promise<void> {
    const resourceType = parseResourceType(decodeSeg(rtSeg));
    const params: Record<string, string> = {};
    for (const [k, v] of url.searchParams) params[k] = v;
    if (params['api_key'] === undefined) throw new HttpError(401, 'Must supply api_key');
    if (params['api_key'] !== this.apiKey) throw new HttpError(401, `Invalid api_key ${params['api_key']}`);
    this.checkSignature(params);
    // Whether the download endpoint counts against the hourly Admin API limit is not settled by
    // the docs (DESIGN.md, "Scarce resources"); the fake takes the stricter reading: it does,
    // and a spent allowance answers 420. It sends no rate-limit headers: a client cannot rely on them.
    this.chargeRateLimit();
    const expiresAt = params['expires_at'];
    if (expiresAt !== undefined && Number(expiresAt) < this.nowSeconds()) throw new HttpError(401, 'Download link expired');
    const publicId = params['public_id'] ?? '';
    const asset = this.assets.get(assetKey(publicId, resourceType, params['type'] ?? 'upload'));
    const format = params['format'];
    if (!asset || (format !== undefined && format !== '' && format.toLowerCase() !== asset.format.toLowerCase())) {
      throw new HttpError(404, `Resource not found - ${publicId}`);
    }
    if (asset.processing) throw new HttpError(423, 'Resource is still being processed');
    const extra: Record<string, string> = {};
    if (params['attachment'] === 'true' || params['attachment'] === '1') {
      extra['Content-Disposition'] = `attachment; filename="${(publicId.split('/').pop() ?? 'file').replace(/"/g, '')}${asset.format ? `.${asset.format}` : ''}"`;
    }
    await this.serve(req, res, asset, extra);
  }

  private async delivery(req: IncomingMessage, res: ServerResponse, segs: string[]): Promise<void> {
    const resourceType = parseResourceType(decodeSeg(segs[0] ?? ''));
    const type = decodeSeg(segs[1] ?? '');
    let rest = segs.slice(2);
    if (rest[0] !== undefined && /^s--[\w-]{8,}--$/.test(rest[0])) {
      this.checkDeliverySignature(rest[0], rest.slice(1));
      rest = rest.slice(1);
    }
    const transformation = takeTransformation(rest);
    rest = transformation.rest;
    if (rest.length > 1 && /^v\d+$/.test(rest[0] ?? '')) rest = rest.slice(1);
    const path = rest.map(decodeSeg).join('/');
    let asset = this.assets.get(assetKey(path, resourceType, type));
    if (!asset || asset.format) {
      const dot = path.lastIndexOf('.');
      const candidate = dot > 0 ? this.assets.get(assetKey(path.slice(0, dot), resourceType, type)) : undefined;
      asset = candidate && candidate.format.toLowerCase() === path.slice(dot + 1).toLowerCase() ? candidate : undefined;
    }
    if (!asset) throw new HttpError(404, 'Resource not found');
    if (type === 'private' || type === 'authenticated') {
      throw new HttpError(401, 'Unauthorized: this original needs a signed URL');
    }
    if (type !== 'upload') throw new HttpError(404, `The fake does not serve remote delivery type ${type}`);
    if (asset.processing) throw new HttpError(423, 'Resource is still being processed');
    if (!publiclyDeliverable(asset, this.now())) throw new HttpError(401, 'Resource is access-controlled: needs a token or a signed URL');
    if (this.blockedFormats.has(formatOf(asset))) {
      throw new HttpError(401, `Delivery of ${formatOf(asset)} files is blocked for this account (Settings > Security)`);
    }
    const optimized = this.optimizeByDefault && !transformation.original && asset.resourceType !== 'raw';
    await this.serve(req, res, asset, {}, optimized);
  }

  /**
   * A signed delivery URL (`/<type>/s--SIG--/<transformation>/v<version>/<public_id>`), checked as
   * cloudinary_npm's utils.url builds it (lib/utils/index.js, `sign_url`): SIG is the first 8
   * characters of base64(sha1(to_sign + api_secret)) with `/`→`_` and `+`→`-`, where to_sign is the
   * transformation and the URL-encoded source joined by `/`, the version left out; `long_url_signature`
   * uses sha256 and 32 characters. Cloudinary answers a wrong signature with 401.
   */
  private checkDeliverySignature(signature: string, after: readonly string[]): void {
    const at = after.findIndex((seg) => /^v\d+$/.test(seg));
    const transformation = at > 0 ? after.slice(0, at).join('/') : '';
    const source = (at >= 0 ? after.slice(at + 1) : after).join('/');
    const toSign = [transformation, source].filter((p) => p !== '').join('/') + this.apiSecret;
    const sig = signature.slice(3, -2);
    const algo = sig.length === 32 ? 'sha256' : 'sha1';
    const expected = createHash(algo).update(toSign).digest('base64').slice(0, sig.length).replace(/\//g, '_').replace(/\+/g, '-');
    if (sig !== expected) throw new HttpError(401, 'Invalid signature in the delivery URL');
  }

  private checkSignature(params: Record<string, string>): void {
    if (!params['signature']) throw new HttpError(401, 'Missing required parameter - signature');
    const check = verifySignature(params, this.apiSecret);
    if (!check.ok) {
      throw new HttpError(401, `Invalid Signature ${params['signature']}. String to sign - '${check.stringToSign}'.`);
    }
    const ts = Number(params['timestamp']);
    if (!Number.isFinite(ts)) throw new HttpError(401, 'Missing required parameter - timestamp');
    if (Math.abs(ts - this.nowSeconds()) > this.signatureMaxAge) {
      throw new HttpError(401, `Stale request - reported time is ${isoSeconds(ts * 1000)} which is more than 1 hour away`);
    }
  }

  /** Streams an asset's served bytes, applying any armed download fault. */
  private async serve(
    req: IncomingMessage,
    res: ServerResponse,
    asset: FakeAsset,
    extra: Record<string, string>,
    optimized = false,
  ): Promise<void> {
    const chunksOf = (): Iterable<Buffer> => (optimized ? reencoded(this.contentChunks(asset)) : this.contentChunks(asset));
    let size = this.servedSize(asset);
    if (optimized) {
      size = 0;
      for (const c of chunksOf()) size += c.length;
    }
    const fault = req.method === 'HEAD' ? undefined : this.takeDownloadFault(asset.publicId, size);
    if (fault?.kind === 'fail') throw new HttpError(fault.status ?? 500, `Injected download failure (${fault.status})`);
    if (fault?.kind === 'redirect') {
      res.writeHead(302, { Location: fault.location ?? '/', 'Content-Length': '0' });
      res.end();
      return;
    }
    const headers: Record<string, string> = {
      'Content-Type': MIME[asset.format.toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': String(size),
      ETag: `"${asset.assetId}-${asset.generation}"`,
      'Last-Modified': new Date(asset.version * 1000).toUTCString(),
      ...extra,
    };
    if (req.method === 'HEAD') {
      res.writeHead(200, headers);
      res.end();
      return;
    }
    this.stats.downloads += 1;
    if (fault?.kind === 'stall') {
      res.writeHead(200, headers);
      res.flushHeaders();
      if (fault.afterBytes) await this.pump(res, chunksOf(), Math.min(fault.afterBytes, size));
      this.stalled.add(res);
      res.on('close', () => this.stalled.delete(res));
      return;
    }
    if (fault?.kind === 'overlong' && fault.chunked) {
      const { 'Content-Length': _announced, ...unannounced } = headers;
      res.writeHead(200, unannounced);
      await this.pump(res, chunksOf(), size);
      const extraBytes = Buffer.alloc(fault.extraBytes ?? 1024, 0x5a);
      if (!res.destroyed) res.write(extraBytes);
      this.count(extraBytes.length);
      if (!res.destroyed) res.end();
      return;
    }
    if (fault?.kind === 'cut' || fault?.kind === 'overlong' || fault?.kind === 'reset') {
      // Raw socket: full Content-Length promised, then fewer (cut) or more (overlong) bytes.
      const socket = res.socket;
      if (!socket) return;
      const head = [`HTTP/1.1 200 OK`, ...Object.entries({ ...headers, Connection: 'close' }).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${head.join('\r\n')}\r\n\r\n`);
      const limit = fault.kind === 'overlong' ? size : Math.min(fault.afterBytes ?? 0, size);
      await this.pump(socket, chunksOf(), limit);
      if (fault.kind === 'reset') {
        // Let the bytes leave first, then RST instead of FIN: the client sees ECONNRESET.
        await new Promise((r) => setTimeout(r, 20));
        socket.resetAndDestroy();
        return;
      }
      if (fault.kind === 'overlong' && !socket.destroyed) {
        const extraBytes = Buffer.alloc(fault.extraBytes ?? 1024, 0x5a);
        socket.write(extraBytes);
        this.count(extraBytes.length);
      }
      await endSocket(socket);
      return;
    }
    res.writeHead(200, headers);
    await this.pump(res, chunksOf(), size);
    if (!res.destroyed) res.end();
  }

  private takeDownloadFault(publicId: string, size: number): DownloadFault | undefined {
    const fault = this.downloadFaults.get(publicId);
    if (fault) {
      if (!fault.persistent) this.downloadFaults.delete(publicId);
      return fault;
    }
    const fr = this.failureRate;
    if (fr && size > 0) {
      let rng = fr.rng;
      if (fr.byAsset) {
        const n = (fr.attempts.get(publicId) ?? 0) + 1;
        fr.attempts.set(publicId, n);
        rng = mulberry32(createHash('sha256').update(`${fr.seed}:${publicId}:${n}`).digest().readUInt32LE(0));
      }
      if (rng() < fr.rate) return { kind: 'cut', afterBytes: Math.floor(rng() * size), persistent: false };
    }
    return undefined;
  }

  /** Writes up to `limit` bytes with backpressure; returns the bytes written. */
  private async pump(out: Socket | ServerResponse, chunks: Iterable<Buffer>, limit: number): Promise<number> {
    let sent = 0;
    for (const chunk of chunks) {
      if (sent >= limit || out.destroyed) break;
      const piece = chunk.length > limit - sent ? chunk.subarray(0, limit - sent) : chunk;
      sent += piece.length;
      this.count(piece.length);
      if (!out.write(piece)) await drained(out);
    }
    return sent;
  }

  private count(bytes: number): void {
    this.stats.downloadBytes += bytes;
    this.deliveredBytes += bytes;
  }

  // ---------------------------------------------------------------- upload

  private async upload(req: IncomingMessage, res: ServerResponse, rtSeg: string): Promise<void> {
    const rtParam = decodeSeg(rtSeg);
    if (rtParam !== 'auto') parseResourceType(rtParam);
    const body = await readBody(req, MAX_BODY_BYTES);
    const fields: Record<string, string> = {};
    let file: Buffer | undefined;
    let filename: string | undefined;
    const boundary = multipartBoundary(req.headers['content-type']);
    const addField = (name: string, value: string): void => {
      const key = name.endsWith('[]') ? name.slice(0, -2) : name;
      fields[key] = name.endsWith('[]') && fields[key] !== undefined ? `${fields[key]},${value}` : value;
    };
    if (boundary) {
      let parts;
      try {
        parts = parseMultipart(body, boundary);
      } catch (err) {
        throw new HttpError(400, `Malformed multipart body: ${(err as Error).message}`);
      }
      for (const part of parts) {
        if (part.name === 'file' && part.filename !== undefined) {
          file = part.data;
          filename = part.filename;
        } else addField(part.name, part.data.toString('utf8'));
      }
    } else if (/^application\/x-www-form-urlencoded/i.test(req.headers['content-type'] ?? '')) {
      for (const [k, v] of new URLSearchParams(body.toString('utf8'))) addField(k, v);
    } else {
      throw new HttpError(400, 'Upload must be multipart/form-data');
    }

    if (fields['api_key'] === undefined) throw new HttpError(401, 'Must supply api_key');
    if (fields['api_key'] !== this.apiKey) throw new HttpError(401, `Invalid api_key ${fields['api_key']}`);
    this.checkSignature(fields);

    if (file === undefined) {
      const text = fields['file'];
      if (text === undefined) throw new HttpError(400, 'Missing required parameter - file');
      const dataUri = /^data:([\w.+-]+\/[\w.+-]+)?(?:;[\w.-]+=[\w.-]+)*;base64,(.*)$/s.exec(text);
      if (!dataUri) throw new HttpError(400, 'The fake accepts only files and base64 data URIs, not remote URLs');
      file = Buffer.from(dataUri[2] ?? '', 'base64');
      const subtype = (dataUri[1] ?? '').split('/')[1] ?? '';
      filename = `file.${subtype.replace(/^jpeg$/, 'jpg').replace(/\+.*$/, '').replace(/^plain$/, 'txt')}`;
    }

    // Chunked upload (upload_large): collect parts until the one that states the total.
    const uploadId = header(req, 'x-unique-upload-id');
    const range = header(req, 'content-range');
    if (uploadId !== undefined && range !== undefined) {
      const m = /^bytes (\d+)-(-?\d+)\/(-?\d+)$/.exec(range.trim());
      if (!m) throw new HttpError(400, `Invalid Content-Range ${range}`);
      const start = Number(m[1]);
      const end = Number(m[2]);
      const total = Number(m[3]);
      if (end - start + 1 !== file.length) throw new HttpError(400, `Content-Range ${range} does not match a chunk of ${file.length} bytes`);
      // Chunks are at least 5 MB except the last (Upload API reference, upload_large / chunk_size).
      if (total < 0 && file.length < MIN_CHUNK_BYTES) throw new HttpError(400, `Chunk of ${file.length} bytes is below the 5 MB minimum`);
      const session = this.chunkSessions.get(uploadId) ?? [];
      this.chunkSessions.set(uploadId, session);
      session.push({ start, data: Buffer.from(file) });
      if (total < 0) {
        sendJson(res, 200, { done: false, bytes: session.reduce((n, p) => n + p.data.length, 0) });
        return;
      }
      this.chunkSessions.delete(uploadId);
      session.sort((a, b) => a.start - b.start);
      let at = 0;
      for (const part of session) {
        if (part.start !== at) throw new HttpError(400, `Chunked upload ${uploadId}: missing bytes at ${at}`);
        at += part.data.length;
      }
      if (at !== total) throw new HttpError(400, `Chunked upload ${uploadId}: got ${at} of ${total} bytes`);
      file = Buffer.concat(session.map((p) => p.data));
    }

    this.checkMediaLimit(rtParam, file.length);
    const stored = this.storeUpload(rtParam, fields, file, filename);
    if (!stored.existing) this.stats.uploads += 1;
    sendJson(res, 200, stored.response);
  }

  /**
   * The plan's `media_limits` (the fake's `GET /usage`; Free plan: 10 MB images and raw files,
   * 100 MB videos, docs "Upload limits"): a larger file is refused with Cloudinary's message.
   */
  private checkMediaLimit(rtParam: string, size: number): void {
    const limits = (this.usage()['media_limits'] ?? {}) as Record<string, unknown>;
    const limit = limits[`${rtParam === 'auto' ? 'image' : rtParam}_max_size_bytes`];
    if (typeof limit === 'number' && size > limit) throw new HttpError(400, `File size too large. Got ${size}. Maximum is ${limit}.`);
  }

  private storeUpload(
    rtParam: string,
    fields: Record<string, string>,
    file: Buffer,
    filename: string | undefined,
  ): { response: Record<string, unknown>; existing?: true } {
    const base = filename && filename !== 'file' && filename !== 'blob' ? filename : undefined;
    const ext = base && base.includes('.') ? (base.split('.').pop() ?? '').toLowerCase() : '';
    const resourceType: ResourceType =
      rtParam === 'auto'
        ? IMAGE_FORMATS.has(ext) ? 'image' : VIDEO_FORMATS.has(ext) ? 'video' : ext ? 'raw' : 'image'
        : (rtParam as ResourceType);
    const type = fields['type'] ?? 'upload';
    if (!UPLOAD_TYPES.has(type)) throw new HttpError(400, `Invalid type ${type}`);
    const format =
      fields['format'] ?? (resourceType === 'raw' ? '' : (ext.replace(/^jpeg$/, 'jpg') || defaultFormat(resourceType)));
    let publicId =
      fields['public_id'] ?? `${randomBytes(10).toString('hex')}${resourceType === 'raw' && ext ? `.${ext}` : ''}`;
    if (this.enforcePublicIdRules) publicId = checkPublicId(publicId);
    const overwrite = !/^(false|0)$/i.test(fields['overwrite'] ?? 'true');
    const existing = this.assets.get(assetKey(publicId, resourceType, type));
    const extra = {
      original_filename: base ? base.replace(/\.[^.]*$/, '') : 'file',
      api_key: this.apiKey,
      placeholder: false,
    };
    if (existing && !overwrite) {
      return { response: { ...this.uploadJson(existing), ...extra, existing: true }, existing: true };
    }
    const changes = {
      tags: splitList(fields['tags']),
      context: parseKeyValues(fields['context']) as Record<string, string>,
      metadata: parseKeyValues(fields['metadata'], true),
    };
    if (this.requireMetadataFields) {
      const known = new Set(this.metadataFields.list().map((f) => f.external_id));
      for (const id of Object.keys(changes.metadata)) {
        if (!known.has(id)) throw new HttpError(400, `Metadata field ${id} does not exist`);
      }
    }
    const placement = { ...uploadPlacement(fields), ...uploadModeration(fields) };
    let asset: FakeAsset;
    if (existing) {
      asset = this.replaceAsset(publicId, resourceType, type, { content: file, format });
      asset = this.updateMetadata(publicId, resourceType, type, changes);
      Object.assign(this.mustGet(publicId, resourceType, type), placement);
    } else {
      asset = this.addAsset({ publicId, resourceType, type, format, content: file, ...changes, ...placement });
    }
    return { response: { ...this.uploadJson(asset), ...extra } };
  }

  private uploadJson(asset: FakeAsset): Record<string, unknown> {
    const content = asset.content ?? Buffer.alloc(0);
    return {
      ...this.resourceJson(asset, { tags: true, context: true, metadata: true }),
      // The upload answer carries the moderation array (cloudinary_npm docs/moderate-upload.md).
      ...(asset.moderationStatus !== undefined ? { moderation: [{ kind: 'manual', status: asset.moderationStatus }] } : {}),
      version_id: createHash('md5').update(`${asset.assetId}:${asset.version}:${asset.generation}`).digest('hex'),
      signature: createHash('sha1').update(content).digest('hex'),
      etag: createHash('md5').update(content).digest('hex'),
    };
  }

  // ---------------------------------------------------------------- helpers

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  private mustGet(publicId: string, resourceType: ResourceType, type: string): MutableAsset {
    const asset = this.assets.get(assetKey(publicId, resourceType, type));
    if (!asset) throw new Error(`CloudinaryFake: no asset ${assetKey(publicId, resourceType, type)}`);
    return asset;
  }

  /** First index in `ordered` whose seq >= `seq`. */
  private lowerBound(seq: number): number {
    let lo = 0;
    let hi = this.ordered.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.ordered[mid] as MutableAsset).seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

// -------------------------------------------------------------------- module helpers

/**
 * Where and how an upload is kept: Upload API reference — `asset_folder` and `display_name`
 * (dynamic folders), `access_mode` ("public" or "authenticated"), `access_control` (a JSON array
 * of rules; the SDK serializes it with JSON.stringify, cloudinary_npm lib/utils build_upload_params).
 */
function uploadPlacement(fields: Record<string, string>): Partial<FakeAssetSpec> {
  const out: Partial<FakeAssetSpec> = {};
  if (fields['asset_folder'] !== undefined) out.assetFolder = fields['asset_folder'];
  if (fields['display_name'] !== undefined) out.displayName = fields['display_name'];
  const mode = fields['access_mode'];
  if (mode !== undefined) {
    if (mode !== 'public' && mode !== 'authenticated') throw new HttpError(400, `Invalid access_mode ${mode}`);
    out.accessMode = mode;
  }
  const ac = fields['access_control'];
  if (ac !== undefined) {
    let rules: unknown;
    try {
      rules = JSON.parse(ac);
    } catch {
      throw new HttpError(400, 'Invalid access_control: not JSON');
    }
    const list = Array.isArray(rules) ? rules : [rules];
    for (const r of list) {
      const t = (r as { access_type?: unknown } | null)?.access_type;
      if (t !== 'token' && t !== 'anonymous') throw new HttpError(400, `Invalid access_control access_type ${String(t)}`);
    }
    out.accessControl = list as FakeAccessRule[];
  }
  return out;
}

/**
 * Upload API `moderation`: `manual` puts the asset in the manual queue as `pending` and needs no
 * add-on; any other value names an add-on that must be registered first, refused here as in an
 * account without it ("You don't have an active subscription for <add-on name>"). Source:
 * cloudinary_npm docs/moderate-upload.md.
 */
function uploadModeration(fields: Record<string, string>): Partial<FakeAssetSpec> {
  const kind = fields['moderation'];
  if (kind === undefined) return {};
  if (kind !== 'manual') throw new HttpError(400, `You don't have an active subscription for ${kind}`);
  return { moderationStatus: 'pending' };
}

/**
 * Cloudinary's public_id rules at upload (docs, "Permitted naming conventions",
 * cloudinary.com/documentation/ts_permitted_naming_conventions): 1 to 255 characters;
 * `?&#\\%<>+` "utterly forbidden"; leading and trailing whitespace and `/` "will be omitted"
 * (trimmed here, so the asset is stored under another name, as the page says); no folder named
 * `v` + digits. Refusals use the wording users quote, "public_id (...) is invalid"
 * (paperclip-cloudinary issues #7 and #10), with the rule added. Where the page says "other
 * special characters will be replaced with underscores" the fake replaces nothing: real public_ids
 * keep spaces and commas (cloudinary_php #77, #361), and which others are meant is not said.
 * Returns the public_id Cloudinary stores.
 */
function checkPublicId(requested: string): string {
  const publicId = requested.replace(/^[\s/]+|[\s/]+$/gu, '');
  const invalid = (why: string): HttpError => new HttpError(400, `public_id (${requested}) is invalid: ${why}`);
  const length = [...publicId].length;
  if (length < 1 || length > 255) throw invalid(`it must have 1 to 255 characters, not ${length}`);
  const bad = /[?&#\\%<>+]/u.exec(publicId);
  if (bad) throw invalid(`the character ${bad[0]} is forbidden`);
  const folder = publicId.split('/').slice(0, -1).find((seg) => /^v\d+$/.test(seg));
  if (folder !== undefined) throw invalid(`a folder may not be named ${folder}`);
  return publicId;
}

function emptyStats(): FakeStats {
  return {
    adminCalls: 0,
    listingCalls: 0,
    downloads: 0,
    downloadBytes: 0,
    uploads: 0,
    requests: { listing: 0, resource: 0, usage: 0, metadata: 0, download: 0, delivery: 0, upload: 0, other: 0 },
  };
}

function routeKind(segs: string[], cloudName: string): RequestKind {
  if (segs[0] === 'v1_1') {
    const rest = segs.slice(2);
    if (rest[0] === 'resources') return rest.length >= 4 ? 'resource' : 'listing';
    if (rest[0] === 'usage') return 'usage';
    if (rest[0] === 'metadata_fields') return 'metadata';
    if (rest.length === 2 && rest[1] === 'download') return 'download';
    if (rest.length === 2 && rest[1] === 'upload') return 'upload';
    return 'other';
  }
  return safeDecode(segs[0] ?? '') === cloudName && segs.length >= 4 ? 'delivery' : 'other';
}

function assetKey(publicId: string, resourceType: string, type: string): string {
  return `${resourceType}/${type}/${publicId}`;
}

function defaultFormat(resourceType: ResourceType): string {
  return resourceType === 'image' ? 'jpg' : resourceType === 'video' ? 'mp4' : '';
}

function defaultDims(resourceType: ResourceType): [number, number] {
  return resourceType === 'video' ? [1920, 1080] : [1200, 800];
}

function parseResourceType(value: string): ResourceType {
  if ((RESOURCE_TYPES as readonly string[]).includes(value)) return value as ResourceType;
  throw new HttpError(404, `Invalid resource_type ${value}`);
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

function byIdThenSeq(a: { publicId: string; seq: number }, b: { publicId: string; seq: number }): number {
  if (a.publicId !== b.publicId) return a.publicId < b.publicId ? -1 : 1;
  return a.seq - b.seq;
}

