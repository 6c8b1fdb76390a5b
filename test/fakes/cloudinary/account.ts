/**
 * The fake Cloudinary account a test seeds and steers: its assets, rate-limit window, usage
 * report and armed faults. CloudinaryFake (fake.ts) serves it over HTTP; this class holds the
 * state the endpoints share (see context.ts) and the methods tests call.
 */
import type { ServerResponse } from 'node:http';
import { nowSeconds } from './context.ts';
import type { FakeContext } from './context.ts';
import { FREE_PLAN_BLOCKED } from './delivery-rules.ts';
import { DownloadFaults } from './download-faults.ts';
import { ListingFaults } from './listing.ts';
import { MetadataFieldStore } from './metadata-fields.ts';
import type { UsagePatch } from './params.ts';
import { RateWindow } from './rate-limit.ts';
import type { LoggedRequest } from './router.ts';
import { AssetStore } from './store.ts';
import { emptyStats } from './types.ts';
import type { CloudinaryFakeOptions, DownloadFaultOptions, FakeAsset, FakeAssetSpec, FakeStats, ListingFaultOptions, ResourceType } from './types.ts';
import { UsageMeter, usageReport } from './usage.ts';

const HOUR_MS = 3_600_000;

/** The account's state and the test controls; abstract because `origin` needs the server. */
export abstract class FakeAccount {
  readonly cloudName: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  /** Admin API calls allowed per hour (Cloudinary free plan: 500). */
  readonly rateLimit: number;
  stats: FakeStats = emptyStats();
  /** The last requests (method, kind, path with query), oldest first; capped at 10,000. */
  readonly requestLog: LoggedRequest[] = [];
  /** Structured metadata field definitions of the account. */
  readonly metadataFields = new MetadataFieldStore();
  /** What the endpoints share. */
  protected readonly ctx: FakeContext;
  private readonly store: AssetStore;
  private readonly rate: RateWindow;
  private readonly usageMeter: UsageMeter;
  private readonly listingFaults = new ListingFaults();
  private readonly downloadFaults = new DownloadFaults();

  constructor(opts: CloudinaryFakeOptions = {}) {
    this.cloudName = opts.cloudName ?? 'fake-cloud';
    this.apiKey = opts.apiKey ?? '123456789012345';
    this.apiSecret = opts.apiSecret ?? 'fake-api-secret-0123456789';
    this.rateLimit = opts.rateLimit ?? 500;
    const now = opts.now ?? Date.now;
    this.store = new AssetStore(this.cloudName, () => nowSeconds({ now }));
    this.rate = new RateWindow(this.rateLimit, opts.rateWindowMs ?? HOUR_MS, now);
    this.usageMeter = new UsageMeter(opts.legacyQuotaPlan ?? false);
    this.ctx = {
      cloudName: this.cloudName,
      apiKey: this.apiKey,
      apiSecret: this.apiSecret,
      settings: {
        signatureMaxAge: opts.signatureMaxAgeSeconds ?? 3600,
        pageSize: opts.pageSize,
        blockedFormats: new Set(opts.blockedFormats ?? FREE_PLAN_BLOCKED),
        optimizeByDefault: opts.optimizeByDefault ?? false,
        strictTransformations: opts.strictTransformations ?? false,
        urlSignatureAlgorithm: opts.urlSignatureAlgorithm ?? 'sha1',
        requireMetadataFields: opts.requireMetadataFields ?? false,
        enforcePublicIdRules: opts.enforcePublicIdRules ?? true,
      },
      now,
      origin: () => this.origin,
      stats: () => this.stats,
      store: this.store,
      rate: this.rate,
      usage: this.usageMeter,
      listingFaults: this.listingFaults,
      downloadFaults: this.downloadFaults,
      metadataFields: this.metadataFields,
      chunkSessions: new Map(),
      stalled: new Set<ServerResponse>(),
    };
  }

  /** `http://127.0.0.1:PORT` */
  abstract get origin(): string;

  // ---------------------------------------------------------------- asset store

  /** Adds (or overwrites, keeping nothing) an asset. */
  addAsset(spec: FakeAssetSpec): FakeAsset {
    return this.store.add(spec);
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
    return this.store.replace(publicId, resourceType, type, changes);
  }

  /** Edits tags / context / structured metadata (each replaced when given); the version stays. */
  updateMetadata(
    publicId: string,
    resourceType: ResourceType,
    type: string,
    changes: { tags?: string[]; context?: Record<string, string>; metadata?: Record<string, unknown> },
  ): FakeAsset {
    return this.store.updateMetadata(publicId, resourceType, type, changes);
  }

  /** Marks an asset as still processing (listed pending, delivery 423) or as ready. */
  updateProcessing(publicId: string, resourceType: ResourceType, type: string, processing: boolean): void {
    const asset = this.store.mustGet(publicId, resourceType, type);
    if (processing) asset.processing = true;
    else delete asset.processing;
  }

  /** Sets (or with undefined, clears) the listed secure_url override. */
  setSecureUrl(publicId: string, resourceType: ResourceType, type: string, url: string | undefined): void {
    const asset = this.store.mustGet(publicId, resourceType, type);
    if (url === undefined) delete asset.secureUrlOverride;
    else asset.secureUrlOverride = url;
  }

  /** Removes an asset; false when it was not there. */
  deleteAsset(publicId: string, resourceType: ResourceType = 'image', type = 'upload'): boolean {
    return this.store.delete(publicId, resourceType, type);
  }

  getAsset(publicId: string, resourceType: ResourceType = 'image', type = 'upload'): FakeAsset | undefined {
    return this.store.get(publicId, resourceType, type);
  }

  /** Every asset in creation order. */
  listAssets(): FakeAsset[] {
    return [...this.store.ordered];
  }

  /** The bytes delivery and download serve, in chunks (use this for big assets). */
  contentChunks(asset: FakeAsset): Generator<Buffer> {
    return this.store.contentChunks(asset);
  }

  /**
   * The seed and size of test/fakes/content.ts's generator that makes the served bytes (undefined
   * when a test gave the asset bytes of its own): lets the benchmarks' S3 (test/fakes/memory-s3)
   * hold a million backed-up objects without holding their bytes.
   */
  contentSeed(asset: FakeAsset): { seed: string; size: number } | undefined {
    return this.store.contentSeed(asset);
  }

  /** The served bytes as one buffer (small assets only). */
  contentOf(asset: FakeAsset): Buffer {
    return this.store.contentOf(asset);
  }

  /** Size of what is served (differs from the listed `bytes` only when a test made it lie). */
  servedSize(asset: FakeAsset): number {
    return this.store.servedSize(asset);
  }

  /** Hex SHA-256 of the served bytes (computed by streaming, cached per version). */
  expectedSha256(asset: FakeAsset): string {
    return this.store.expectedSha256(asset);
  }

  // ---------------------------------------------------------------- rate limit, usage, stats

  /** Starts a fresh hourly window with the whole allowance. */
  resetRateLimit(): void {
    this.rate.reset();
  }

  /** Sets how many Admin API calls remain in the current window. */
  setRateLimitRemaining(remaining: number): void {
    this.rate.setRemaining(remaining);
  }

  /** When the current window resets (epoch ms). */
  rateLimitResetAt(): number {
    return this.rate.resetAt();
  }

  /**
   * Deep-merges a patch into the usage report's base, e.g. `{ credits: { usage: 24, limit: 25 } }`.
   * Bytes delivered after that are added on top (bandwidth and credits).
   */
  setUsage(patch: UsagePatch): void {
    this.usageMeter.set(patch);
  }

  /**
   * Makes `GET /usage` a daily snapshot, as Cloudinary's is (Admin API reference, usage:
   * `last_updated` is a date, the figures are the previous day's): bytes delivered after the
   * last takeUsageSnapshot() do not show until the next one. Off by default (live counters).
   */
  lagUsage(on = true): void {
    this.usageMeter.lag(on);
  }

  /** Takes the usage snapshot: what was delivered so far shows in `GET /usage` from now on. */
  takeUsageSnapshot(): void {
    this.usageMeter.takeSnapshot();
  }

  /** Clears the usage base and the delivered-bytes counter. */
  resetUsage(): void {
    this.usageMeter.reset();
  }

  /** The report `GET /usage` returns now (Cloudinary's documented shape). */
  usage(): Record<string, unknown> {
    return usageReport(this.ctx);
  }

  resetStats(): void {
    this.stats = emptyStats();
    this.requestLog.length = 0;
  }

  // ---------------------------------------------------------------- fault injection

  /** The next `times` listings (default 1) answer `status` with a Cloudinary error body. */
  failNextListing(status: 420 | 429 | 500 | 502 | 503, opts: ListingFaultOptions = {}): void {
    this.listingFaults.failNext(status, opts);
  }

  /** The next listing answers 200 with truncated JSON (it is charged as an Admin call). */
  malformedListingOnce(): void {
    this.listingFaults.malformedOnce();
  }

  /**
   * The next listing requested *with* a next_cursor answers its page but returns the same
   * cursor again (a pagination loop a client must detect).
   */
  repeatCursorOnce(): void {
    this.listingFaults.repeatCursorOnce();
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
    this.downloadFaults.setRate(rate, seed, opts.byAsset ?? false);
  }

  /** Removes every armed fault. */
  clearFaults(): void {
    this.listingFaults.clear();
    this.downloadFaults.clear();
  }
}
