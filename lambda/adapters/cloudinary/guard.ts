import { setTimeout as sleep } from 'node:timers/promises';
import type { Asset } from '../../core/asset.ts';
import type { UsageInfo } from '../../core/budget.ts';
import type { ApiDownload, DownloadApiReason } from '../../core/download-route.ts';
import { AssetDeferredError, CdnRefusedError, SourceError } from '../../core/errors.ts';
import type { DownloadRoute, ListPage, OpenedAsset, RateLimitInfo, Source } from '../../ports/storage.ts';
import { RateLimitedError, isRetryable } from './errors.ts';

/** What to do when the run must wait for Cloudinary's hourly window to reset. */
export type WaitPolicy = (until: Date, reason: string) => Promise<void>;

/** Options of the guard around a source. */
export interface GuardOptions {
  /**
   * Admin API calls left untouched for the user's own application: a count, or a fraction of
   * the hourly limit. @default 0.1 (10%)
   */
  readonly reserve?: number | { readonly fraction: number };
  /** Tries of one listing call on 5xx and network errors. @default 5 */
  readonly maxAttempts?: number;
  /** First backoff in ms, doubled each time. @default 1000 */
  readonly backoffMs?: number;
  /** How to wait for a reset. @default sleeps */
  readonly wait?: WaitPolicy;
  /** Longest wait for one reset before giving up. @default 2 hours */
  readonly maxWaitMs?: number;
  readonly now?: () => number;
}

/**
 * Wraps a Source with the Admin API discipline: retries of 5xx and network errors with
 * exponential backoff, a reserve of the hourly rate limit kept for the user's own app
 * (the run waits for the reset instead of spending it), and 420/429 "Try again on ..."
 * waited out. Counts every Admin API call it makes.
 */
export class GuardedSource implements Source {
  /** Admin API calls made, including failed ones (signed downloads included). */
  apiCalls = 0;
  /** Originals fetched through the signed download API (each also counted in apiCalls). */
  signedDownloads = 0;
  /** Download API fetches since the last takeApiDownloads(), with their reason (one per asset). */
  private apiDownloads = new Map<string, ApiDownload>();
  /** The latest rate-limit figures Cloudinary sent. */
  rateLimit: RateLimitInfo | undefined;
  private readonly reserve: number | { readonly fraction: number };
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly wait: WaitPolicy;
  private readonly maxWaitMs: number;
  private readonly now: () => number;

  constructor(
    private readonly inner: Source,
    options: GuardOptions = {},
  ) {
    this.reserve = options.reserve ?? { fraction: 0.1 };
    this.maxAttempts = options.maxAttempts ?? 5;
    this.backoffMs = options.backoffMs ?? 1000;
    this.wait = options.wait ?? (async (until) => sleep(Math.max(0, until.getTime() - this.now())));
    this.maxWaitMs = options.maxWaitMs ?? 2 * 3600_000;
    this.now = options.now ?? Date.now;
  }

  /** The number of calls kept back for the user's app under the given hourly limit. */
  reserveFor(limit: number): number {
    return typeof this.reserve === 'number' ? this.reserve : Math.ceil(limit * this.reserve.fraction);
  }

  private async waitUntil(until: Date, reason: string): Promise<void> {
    const ms = until.getTime() - this.now();
    if (ms > this.maxWaitMs) {
      throw new SourceError(`${reason}; Cloudinary asks to wait until ${until.toISOString()}, longer than allowed`);
    }
    if (ms > 0) await this.wait(until, reason);
  }

  /** Runs one Admin API call under the reserve, retry and rate-limit rules. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    let failures = 0;
    let waits = 0;
    for (;;) {
      const rl = this.rateLimit;
      if (rl && rl.remaining <= this.reserveFor(rl.limit) && rl.resetAt.getTime() > this.now()) {
        await this.waitUntil(rl.resetAt, `Admin API reserve reached (${rl.remaining} of ${rl.limit} calls left this hour)`);
        this.rateLimit = undefined;
      }
      this.apiCalls += 1;
      try {
        const result = await fn();
        const rl = (result as { rateLimit?: RateLimitInfo }).rateLimit;
        if (rl) this.rateLimit = rl;
        return result;
      } catch (err) {
        if (err instanceof RateLimitedError) {
          waits += 1;
          if (waits > 5) throw err;
          const until = err.retryAt ?? new Date(this.now() + 60_000 * waits);
          await this.waitUntil(until, `Cloudinary rate limit (HTTP ${err.httpCode})`);
          this.rateLimit = undefined;
          continue;
        }
        if (err instanceof SourceError && isRetryable(err) && ++failures < this.maxAttempts) {
          await sleep(this.backoffMs * 2 ** (failures - 1));
          continue;
        }
        throw err;
      }
    }
  }

  /**
   * Tells the guard that the caller waited out the rate-limit window elsewhere (a durable wait,
   * which ends the invocation instead of sleeping here): the figures it holds are from before the
   * reset, and the next call starts afresh.
   */
  windowPassed(): void {
    this.rateLimit = undefined;
  }

  listPage(resourceType: string, type: string, cursor: string | undefined): Promise<ListPage> {
    return this.call(() => this.inner.listPage(resourceType, type, cursor));
  }

  /** The account's usage, or undefined when the source cannot tell. */
  async usage(): Promise<UsageInfo | undefined> {
    const inner = this.inner;
    if (!inner.usage) return undefined;
    return this.call(() => (inner.usage as () => Promise<UsageInfo | undefined>).call(inner));
  }

  /**
   * One original: through the CDN (a signed delivery URL, no Admin API call) unless the source
   * gives a reason for the signed download API, which is charged to the hourly budget like any
   * Admin API call (the docs do not say the download endpoint is exempt). A CDN refusal
   * (CdnRefusedError) is fetched again through the download API once; other failures are the
   * caller's to retry. Every download API fetch is remembered with its reason (takeApiDownloads).
   */
  async open(asset: Asset, signal: AbortSignal): Promise<OpenedAsset> {
    const inner = this.inner;
    const route: DownloadRoute = inner.routeFor?.(asset) ?? 'cdn';
    let reason: DownloadApiReason = inner.downloadApiReason?.(asset) ?? 'cdn-refused';
    // Still processing: the source refuses it without a request, so no Admin API call is charged.
    if (route === 'cdn' || asset.processing) {
      try {
        return await inner.open(asset, signal, 'cdn');
      } catch (err) {
        if (!(err instanceof CdnRefusedError)) throw err;
        reason = 'cdn-refused';
      }
    }
    const rl = this.rateLimit;
    if (rl && rl.remaining <= this.reserveFor(rl.limit) && rl.resetAt.getTime() > this.now()) {
      try {
        await this.waitUntil(rl.resetAt, `Admin API reserve reached (${rl.remaining} of ${rl.limit} calls left this hour)`);
      } catch (err) {
        // A wait policy that cannot wait here (the durable handler waits between pages, not
        // inside a copy) or a reset too far away: the asset waits for the next run instead.
        throw new AssetDeferredError(asset.publicId, `the Admin API reserve is reached (${rl.remaining} of ${rl.limit} calls left this hour)`, { cause: err });
      }
      this.rateLimit = undefined;
    }
    this.apiCalls += 1;
    this.signedDownloads += 1;
    this.apiDownloads.set(`${asset.resourceType}/${asset.type}/${asset.publicId}`, { publicId: asset.publicId, resourceType: asset.resourceType, type: asset.type, reason });
    // The download endpoint sends no rate-limit headers we can rely on: count the call locally
    // so the reserve is kept between two listings too.
    if (this.rateLimit) this.rateLimit = { ...this.rateLimit, remaining: Math.max(0, this.rateLimit.remaining - 1) };
    return inner.open(asset, signal, 'api');
  }

  /** The originals fetched through the download API since the last call, each once, with the reason. */
  takeApiDownloads(): ApiDownload[] {
    const taken = [...this.apiDownloads.values()];
    this.apiDownloads = new Map();
    return taken;
  }

  /** One Admin API call: creates a structured metadata field (restore into another account). */
  createMetadataField(field: Readonly<Record<string, unknown>>): Promise<{ readonly rateLimit?: RateLimitInfo }> {
    const inner = this.inner;
    if (!inner.createMetadataField) return Promise.reject(new SourceError('this source cannot create metadata fields'));
    return this.call(() => (inner.createMetadataField as NonNullable<Source['createMetadataField']>).call(inner, field));
  }

  /** One Admin API call: records a moderation decision (restore). */
  updateModeration(publicId: string, resourceType: string, type: string, status: 'approved' | 'rejected'): Promise<{ readonly rateLimit?: RateLimitInfo }> {
    const inner = this.inner;
    if (!inner.updateModeration) return Promise.reject(new SourceError('this source cannot update moderation'));
    return this.call(() => (inner.updateModeration as NonNullable<Source['updateModeration']>).call(inner, publicId, resourceType, type, status));
  }

  /** One Admin API call: the structured metadata field definitions, when the source has them. */
  async readMetadataFields(): Promise<unknown[] | undefined> {
    const inner = this.inner;
    if (!inner.metadataFields) return undefined;
    const res = await this.call(() => (inner.metadataFields as NonNullable<Source['metadataFields']>).call(inner));
    return res.fields;
  }
}
