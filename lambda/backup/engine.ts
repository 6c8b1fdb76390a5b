import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import { Catalog, entryFor } from '../store/catalog.ts';
import type { CatalogEntry } from '../store/catalog.ts';
import type { StoredObject } from '../core/asset.ts';
import { isBackedUpType, listingsFor } from '../core/asset.ts';
import type { Listing } from '../core/asset.ts';
import { AssetCopyError, AssetNotReadyError, CancelledError, SourceError, messageOf } from '../core/errors.ts';
import { normalizePrefix, typeRoot, reportsRoot } from '../core/keys.ts';
import { objectMetadata } from '../core/metadata.ts';
import { planPage } from '../core/plan.ts';
import type { PlannedAsset } from '../core/plan.ts';
import type { RunCounters } from '../core/report.ts';
import { emptyCounters, recordFailure } from '../core/report.ts';
import type { Destination, Source } from '../ports/storage.ts';
import { BYTES_PER_CREDIT } from '../core/budget.ts';
import { SINGLE_PUT_MAX, choosePartSize } from '../adapters/s3/part-size.ts';
import { ExactLengthStream } from '../transfer/exact-length.ts';

/** How a run compares Cloudinary with the destination. */
export type DiffMode = 'list' | 'head';

/** Settings of one backup run. */
export interface EngineOptions {
  /** Key prefix in the destination ('' for none). */
  readonly prefix: string;
  /** @default ['image', 'video', 'raw'] */
  readonly resourceTypes: readonly string[];
  /** Copies in flight at once. @default 8 */
  readonly concurrency: number;
  /** 'list': one ListObjectsV2 inventory; 'head': one HeadObject per asset. @default 'list' */
  readonly diff: DiffMode;
  /** Plan only: nothing is downloaded or written. */
  readonly dryRun: boolean;
  /** Delete backups of assets no longer in Cloudinary, after a complete listing only. */
  readonly prune: boolean;
  /** A download with no byte for this long is abandoned. @default 60000 */
  readonly idleTimeoutMs?: number;
  /** Tries per asset. @default 3 */
  readonly copyAttempts?: number;
  /** Pause before a retry, multiplied by the attempt number. @default 500 */
  readonly retryDelayMs?: number;
  /** Bytes this run may download; copies that would pass it wait for the next run. */
  readonly maxBytes?: number;
  /**
   * Catalog entries gathered before a catalog page is written. 1 writes a page per listing page,
   * which a durable run needs (each step persists its own entries); the command line gathers
   * 10,000 (20 listing pages, ~5 MB) to spend 20 times fewer S3 requests on the catalog. @default 1
   */
  readonly catalogPageEntries?: number;
  /** Objects up to this size are one PUT (for the planned S3 requests). @default SINGLE_PUT_MAX */
  readonly singlePutMax?: number;
  /** Multipart uploads under the prefix older than this (ms) are a killed run's leftovers. @default 3600000 */
  readonly staleUploadAgeMs?: number;
  /** Credits before the run, when the budget came from `GET /usage` (shown in the report). */
  readonly quota?: { readonly creditsBefore: number; readonly creditLimit: number | undefined; readonly creditCeiling: number | undefined };
}

/** What a run reports (the JSON of `--json`, and the file under `_reports/`). */
export interface RunReport extends RunCounters {
  runId: string;
  startedAt: string;
  finishedAt: string;
  destination: string;
  prefix: string;
  dryRun: boolean;
  listingComplete: boolean;
  plannedCopies: number;
  plannedBytes: number;
  budgetBytes: number | null;
  budgetExhausted: boolean;
  remainingToCopy: number;
  remainingBytes: number;
  cloudinaryApiRemaining: number | null;
  /** S3 requests the copies need (PUT, or create + parts + complete): planned in a dry run, made otherwise. */
  plannedS3Requests: number;
  /** Bytes downloaded from Cloudinary, counting partial and retried downloads. */
  bytesDownloaded: number;
  /** Multipart uploads left open by killed runs, aborted at the start of this one. */
  staleUploadsAborted: number;
  /** True when the run was stopped on request (Ctrl-C) before it finished. */
  cancelled: boolean;
  creditsBefore: number | null;
  creditLimit: number | null;
  creditCeiling: number | null;
  /** Credits before plus this run's downloads (planned ones in a dry run), at 1 GB per credit. */
  creditsAfterEstimate: number | null;
}

/** Where a run is: JSON-serializable, so a durable execution can checkpoint it between pages. */
export interface RunState {
  readonly runId: string;
  readonly startedAt: string;
  /** Catalog slot this run writes. */
  readonly slot: 'a' | 'b';
  /** Index into the run's listings (resource type x delivery type, see listingsFor). */
  listingIndex: number;
  cursor?: string;
  /** Catalog pages of this run's slot written so far (what a resumed run reads back). */
  pageNo: number;
  listingComplete: boolean;
  counters: RunCounters;
  plannedCopies: number;
  plannedBytes: number;
  plannedS3Requests: number;
  /** Bytes actually downloaded, including partial and retried downloads. */
  downloadedBytes: number;
  /** Multipart uploads left open by killed runs that this run aborted at start. */
  staleUploadsAborted?: number;
  budgetExhausted: boolean;
  remainingToCopy: number;
  remainingBytes: number;
  /** The run's byte budget when it was fixed at start (durable runs); wins over the options. */
  maxBytes?: number;
  quota?: EngineOptions['quota'];
}

/** S3 requests one object of `size` bytes takes: one PUT, or create + parts + complete. */
export const s3RequestsFor = (size: number, singlePutMax = SINGLE_PUT_MAX): number =>
  size <= singlePutMax ? 1 : 2 + Math.ceil(size / choosePartSize(size));

/** Things a front end may want to show; every callback is optional. */
export interface EngineObserver {
  planned?(items: readonly PlannedAsset[]): void;
  /** A copy admitted within the budget (in a dry run: one line of the printed plan). */
  admitted?(item: PlannedAsset): void;
  copied?(item: PlannedAsset, sha256: string): void;
  failed?(item: PlannedAsset, error: string): void;
  bytes?(n: number): void;
  deferred?(item: PlannedAsset): void;
  missing?(key: string): void;
  pruned?(key: string): void;
}

/** A Source that counts its Admin API calls (see GuardedSource). */
export interface CountingSource extends Source {
  readonly apiCalls: number;
  readonly rateLimit?: { readonly remaining: number } | undefined;
}

const newRunId = (now: Date): string =>
  `${now.toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;

/**
 * One backup pass: list a page, plan it against the destination, copy what the plan says
 * with bounded concurrency, record the page in the catalog; then, after a complete listing,
 * account for backups whose asset is gone (kept, or pruned when asked) and flip the catalog.
 * `start`, `step` and `finish` are separate so a durable function can checkpoint between pages;
 * `run` chains them for the command line.
 */
export class BackupEngine {
  private readonly catalog: Catalog;
  private readonly listings: readonly Listing[];
  private inventory: Map<string, StoredObject> | undefined;
  private seen: Set<string> | undefined;
  private previous: Map<string, { version: number; sha256?: string }> | undefined;
  private readonly limit: ReturnType<typeof pLimit>;
  /** Catalog entries of processed listing pages not yet written (see catalogPageEntries). */
  private pending: CatalogEntry[] = [];
  /** Set by cancel(): no new page or copy starts; copies in flight are aborted. */
  private cancelled = false;
  private readonly inFlight = new Set<AbortController>();
  /** Per resource type: each next_cursor handed out in this process -> the cursor of its page. */
  private readonly cursors = new Map<string, Map<string, string>>();

  constructor(
    private readonly source: CountingSource,
    private readonly destination: Destination,
    private readonly options: EngineOptions,
    private readonly observer: EngineObserver = {},
  ) {
    this.catalog = new Catalog(destination, options.prefix);
    this.listings = listingsFor(options.resourceTypes);
    this.limit = pLimit(Math.max(1, options.concurrency));
  }

  /** Checks the destination and opens a run. */
  async start(now = new Date()): Promise<RunState> {
    let staleUploadsAborted = 0;
    if (!this.options.dryRun) {
      await this.destination.check();
      // A run killed mid-copy (SIGKILL, a Lambda timeout) cannot abort its multipart upload;
      // the next run does, once the upload is older than any live run's could be.
      const root = normalizePrefix(this.options.prefix);
      const olderThan = new Date(now.getTime() - (this.options.staleUploadAgeMs ?? 3600_000));
      staleUploadsAborted = (await this.destination.abortStaleUploads?.(root ? `${root}/` : '', olderThan)) ?? 0;
    }
    const ptr = await this.catalog.pointer();
    return {
      staleUploadsAborted,
      runId: newRunId(now),
      startedAt: now.toISOString(),
      slot: ptr?.slot === 'a' ? 'b' : 'a',
      listingIndex: 0,
      pageNo: 0,
      listingComplete: this.listings.length === 0,
      counters: emptyCounters(),
      plannedCopies: 0,
      plannedBytes: 0,
      plannedS3Requests: 0,
      downloadedBytes: 0,
      budgetExhausted: false,
      remainingToCopy: 0,
      remainingBytes: 0,
    };
  }

  /** Loads what this process needs to plan: the previous catalog's checksums and the inventory. */
  private async prepare(state: RunState): Promise<void> {
    if (this.previous) return;
    const previous = new Map<string, { version: number; sha256?: string }>();
    for await (const e of this.catalog.entries()) {
      if (e.state === 'current') previous.set(e.key, { version: e.version, ...(e.sha256 ? { sha256: e.sha256 } : {}) });
    }
    if (this.options.diff === 'list') {
      const inventory = new Map<string, StoredObject>();
      for (const rt of this.options.resourceTypes) {
        for await (const o of this.destination.list(`${typeRoot(this.options.prefix, rt, '')}`)) inventory.set(o.key, o);
      }
      this.inventory = inventory;
    } else {
      this.seen = new Set();
    }
    // A resumed run: what earlier pages of this run saw is not missing.
    for await (const e of this.catalog.readSlot(state.slot, state.pageNo)) this.markSeen(e.key);
    this.previous = previous;
  }

  private markSeen(key: string): void {
    this.inventory?.delete(key);
    this.seen?.add(key);
  }

  private async lookup(items: readonly { key: string }[]): Promise<(key: string) => StoredObject | undefined> {
    if (this.inventory) {
      const inv = this.inventory;
      return (key) => inv.get(key);
    }
    const heads = new Map<string, StoredObject>();
    await Promise.all(
      items.map((i) =>
        this.limit(async () => {
          const h = await this.destination.head(i.key);
          if (h) heads.set(i.key, h);
        }),
      ),
    );
    return (key) => heads.get(key);
  }

  /** Processes one listing page. Returns the state to pass to the next call. */
  async step(state: RunState): Promise<RunState> {
    if (this.cancelled) throw new CancelledError();
    await this.prepare(state);
    const listing = this.listings[state.listingIndex];
    if (listing === undefined || state.listingComplete) return { ...state, listingComplete: true };
    const callsBefore = this.source.apiCalls;
    const counters: RunCounters = { ...state.counters, failures: [...state.counters.failures] };
    let page;
    try {
      page = await this.source.listPage(listing.resourceType, listing.type, state.cursor);
    } finally {
      counters.cloudinaryApiCalls += this.source.apiCalls - callsBefore;
      state.counters.cloudinaryApiCalls = counters.cloudinaryApiCalls;
    }
    // A cursor already handed out for this resource type would list the same pages forever
    // (found by the fault suite: the engine followed it). Stop as a failed listing does: the
    // run is reported incomplete, nothing is pruned, the catalog stays as it was. The check
    // against state.cursor also holds across durable checkpoints, where the map is new. A retried
    // step lists the same page again and gets the same cursor from the same page: not a loop.
    if (page.nextCursor !== undefined) {
      const rt = `${listing.resourceType}/${listing.type}`;
      const seen = this.cursors.get(rt) ?? new Map<string, string>();
      this.cursors.set(rt, seen);
      const from = seen.get(page.nextCursor);
      if (page.nextCursor === state.cursor || (from !== undefined && from !== (state.cursor ?? ''))) {
        throw new SourceError(
          `listing ${rt} resources: Cloudinary returned a next_cursor it had already given, so the listing would never end; ` +
            'it stopped here (nothing pruned, catalog unchanged). Run the backup again later.',
        );
      }
      seen.set(page.nextCursor, state.cursor ?? '');
    }
    const keysOnly = planPage(this.options.prefix, page.assets, () => undefined);
    const lookup = await this.lookup(keysOnly.filter((p) => p.decision.action !== 'skip'));
    const planned = planPage(this.options.prefix, page.assets, lookup);
    this.observer.planned?.(planned);

    const next: RunState = { ...state, counters };
    const entries: CatalogEntry[] = [];
    const toCopy: PlannedAsset[] = [];
    for (const item of planned) {
      counters.listed += 1;
      if (isBackedUpType(item.asset)) this.markSeen(item.key);
      if (item.decision.action === 'skip') counters.skipped += 1;
      else if (item.decision.action === 'unchanged') {
        counters.unchanged += 1;
        const prev = this.previous?.get(item.key);
        entries.push(entryFor(item.asset, item.key, 'current', prev?.version === item.asset.version ? prev.sha256 : undefined));
      } else toCopy.push(item);
    }
    // Newest first, so a limited budget protects recent uploads first.
    toCopy.sort((a, b) => b.asset.version - a.asset.version);
    const admitted: PlannedAsset[] = [];
    for (const item of toCopy) {
      const budget = state.maxBytes ?? this.options.maxBytes;
      if (budget !== undefined && next.plannedBytes + item.asset.bytes > budget) {
        next.budgetExhausted = true;
        next.remainingToCopy += 1;
        next.remainingBytes += item.asset.bytes;
        this.observer.deferred?.(item);
        entries.push(entryFor(item.asset, item.key, 'stale', undefined));
        continue;
      }
      next.plannedCopies += 1;
      next.plannedBytes += item.asset.bytes;
      next.plannedS3Requests += s3RequestsFor(item.asset.bytes, this.options.singlePutMax);
      admitted.push(item);
      this.observer.admitted?.(item);
    }

    if (!this.options.dryRun) {
      // A retry downloads the asset again: it must fit in the budget like a first copy.
      const mayRetry = (item: PlannedAsset): boolean => {
        const budget = state.maxBytes ?? this.options.maxBytes;
        if (budget !== undefined && next.plannedBytes + item.asset.bytes > budget) return false;
        next.plannedBytes += item.asset.bytes;
        return true;
      };
      const onBytes = (n: number): void => {
        next.downloadedBytes += n;
        this.observer.bytes?.(n);
      };
      const callsBeforeCopies = this.source.apiCalls;
      const results = await Promise.all(admitted.map((item) => this.limit(() => this.copyGuarded(item, mayRetry, onBytes))));
      // Signed downloads are Admin API calls too (issue 12): the report counts them.
      counters.cloudinaryApiCalls += this.source.apiCalls - callsBeforeCopies;
      admitted.forEach((item, i) => {
        const r = results[i] as { sha256?: string; error?: string; notReady?: boolean };
        if (r.sha256 !== undefined) {
          counters.copied += 1;
          counters.bytesCopied += item.asset.bytes;
          entries.push(entryFor(item.asset, item.key, 'current', r.sha256));
        } else if (r.notReady) {
          // Still processing in Cloudinary (issue 12): not a failure; the next run copies it.
          counters.pending = (counters.pending ?? 0) + 1;
          entries.push(entryFor(item.asset, item.key, 'stale', undefined));
        } else {
          recordFailure(counters, {
            publicId: item.asset.publicId,
            resourceType: item.asset.resourceType,
            type: item.asset.type,
            error: r.error ?? 'unknown error',
          });
          entries.push(entryFor(item.asset, item.key, 'stale', undefined));
        }
      });
      this.pending.push(...entries);
    }
    next.pageNo = state.pageNo;
    if (page.nextCursor) next.cursor = page.nextCursor;
    else {
      delete next.cursor;
      next.listingIndex = state.listingIndex + 1;
      next.listingComplete = next.listingIndex >= this.listings.length;
    }
    if (this.pending.length >= (this.options.catalogPageEntries ?? 1) || next.listingComplete) await this.flushCatalog(next);
    return next;
  }

  private async copyGuarded(
    item: PlannedAsset,
    mayRetry: (item: PlannedAsset) => boolean,
    onBytes: (n: number) => void,
  ): Promise<{ sha256?: string; error?: string; notReady?: boolean }> {
    try {
      if (this.cancelled) throw new CancelledError();
      const sha256 = await this.copyOne(item, mayRetry, onBytes);
      this.observer.copied?.(item, sha256);
      return { sha256 };
    } catch (err) {
      const error = messageOf(err);
      if (err instanceof AssetNotReadyError) return { error, notReady: true };
      this.observer.failed?.(item, error);
      return { error };
    }
  }

  /** Copies one original, retrying with a fresh download each time. Resolves with its sha256. */
  private async copyOne(item: PlannedAsset, mayRetry: (item: PlannedAsset) => boolean, onBytes: (n: number) => void): Promise<string> {
    const attempts = Math.max(1, this.options.copyAttempts ?? 3);
    const idleMs = this.options.idleTimeoutMs ?? 60_000;
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      const ac = new AbortController();
      this.inFlight.add(ac);
      let body: NodeJS.ReadableStream & { destroy(err?: Error): void } | undefined;
      let verify: ExactLengthStream | undefined;
      try {
        const opened = await this.source.open(item.asset, ac.signal);
        body = opened.body;
        verify = new ExactLengthStream(opened.length, idleMs, onBytes);
        const v = verify;
        // Node says only "aborted" when a server closes mid-body: say how far the download got.
        opened.body.on('error', (e) =>
          v.destroy(new Error(`download broke off after ${v.bytes} of ${opened.length} bytes (${messageOf(e)})`, { cause: e })),
        );
        v.on('error', () => opened.body.destroy());
        opened.body.pipe(v);
        await this.destination.put({
          key: item.key,
          body: verify,
          length: opened.length,
          metadata: objectMetadata(item.asset),
          signal: ac.signal,
        });
        if (verify.sha256 === undefined) throw new Error('the upload finished before the download did');
        return verify.sha256;
      } catch (err) {
        ac.abort();
        body?.destroy();
        // The download's own failure explains more than the upload's reaction to it.
        lastError = this.cancelled ? new CancelledError() : (verify?.errored ?? err);
        if (this.cancelled || (err instanceof AssetCopyError && !err.retryable)) break;
        if (attempt < attempts && !mayRetry(item)) {
          lastError = new Error(`${messageOf(lastError)}; not retried: the byte budget of this run is spent`);
          break;
        }
        if (attempt < attempts) await sleep((this.options.retryDelayMs ?? 500) * attempt);
      } finally {
        this.inFlight.delete(ac);
      }
    }
    throw lastError;
  }

  /** Writes the pending catalog entries as the next page of this run's slot. */
  private async flushCatalog(state: RunState): Promise<void> {
    if (this.options.dryRun || this.pending.length === 0) return;
    await this.catalog.writePage(state.slot, state.pageNo, this.pending);
    state.pageNo += 1;
    this.pending = [];
  }

  /**
   * Stops the run: no new page or copy starts, and copies in flight are aborted (their
   * multipart uploads too), so nothing is left half-written. The run then ends as an
   * incomplete listing: nothing pruned, the catalog kept, the report says `cancelled`.
   */
  cancel(): void {
    this.cancelled = true;
    for (const ac of this.inFlight) ac.abort();
  }

  /**
   * Ends a run. After a complete listing: counts backups whose asset is gone from Cloudinary,
   * deletes them only when prune is on, keeps their catalog entries otherwise, and makes this
   * run's catalog current. After an incomplete listing nothing is deleted and the catalog
   * stays as it was.
   */
  async finish(state: RunState, now = new Date()): Promise<RunReport> {
    if (!this.options.dryRun) await this.destination.settle?.();
    await this.flushCatalog(state);
    await this.prepare(state);
    const counters: RunCounters = { ...state.counters, failures: [...state.counters.failures] };
    let pages = state.pageNo;
    if (state.listingComplete) {
      const missing = await this.missingKeys();
      counters.missingFromSource = missing.length;
      for (const key of missing) this.observer.missing?.(key);
      if (this.options.prune && !this.options.dryRun) {
        for (const key of missing) {
          await this.destination.delete(key);
          counters.pruned += 1;
          this.observer.pruned?.(key);
        }
      }
      if (!this.options.dryRun) {
        const keep = this.options.prune ? new Set<string>() : new Set(missing);
        let buffer: CatalogEntry[] = [];
        let total = state.counters.listed - state.counters.skipped - counters.pruned;
        if (keep.size > 0) {
          for await (const e of this.catalog.entries()) {
            if (!keep.has(e.key)) continue;
            keep.delete(e.key);
            buffer.push({ ...e, state: 'deleted' });
            if (buffer.length === 500) {
              await this.catalog.writePage(state.slot, pages++, buffer);
              total += buffer.length;
              buffer = [];
            }
          }
        }
        if (buffer.length > 0) {
          await this.catalog.writePage(state.slot, pages++, buffer);
          total += buffer.length;
        }
        await this.catalog.commit({
          format: 1,
          slot: state.slot,
          runId: state.runId,
          completedAt: now.toISOString(),
          pages,
          entries: Math.max(0, total),
        });
      }
    }
    const report = this.reportOf(state, counters, now);
    if (!this.options.dryRun) {
      const body = Buffer.from(JSON.stringify(report, null, 2), 'utf8');
      await this.destination.put({
        key: `${reportsRoot(this.options.prefix)}/${state.runId}.json`,
        body,
        length: body.length,
        contentType: 'application/json',
      });
    }
    return report;
  }

  /** The report of a run in this state (nothing written). */
  private reportOf(state: RunState, counters: RunCounters, now: Date): RunReport {
    const quota = state.quota ?? this.options.quota;
    const report: RunReport = {
      ...counters,
      runId: state.runId,
      startedAt: state.startedAt,
      finishedAt: now.toISOString(),
      destination: this.destination.description,
      prefix: this.options.prefix,
      dryRun: this.options.dryRun,
      listingComplete: state.listingComplete,
      plannedCopies: state.plannedCopies,
      plannedBytes: state.plannedBytes,
      budgetBytes: state.maxBytes ?? this.options.maxBytes ?? null,
      budgetExhausted: state.budgetExhausted,
      remainingToCopy: state.remainingToCopy,
      remainingBytes: state.remainingBytes,
      cloudinaryApiRemaining: this.source.rateLimit?.remaining ?? null,
      plannedS3Requests: state.plannedS3Requests,
      bytesDownloaded: state.downloadedBytes,
      staleUploadsAborted: state.staleUploadsAborted ?? 0,
      cancelled: this.cancelled,
      creditsBefore: quota?.creditsBefore ?? null,
      creditLimit: quota?.creditLimit ?? null,
      creditCeiling: quota?.creditCeiling ?? null,
      creditsAfterEstimate: quota
        ? quota.creditsBefore + (this.options.dryRun ? state.plannedBytes : state.downloadedBytes) / BYTES_PER_CREDIT
        : null,
    };
    return report;
  }

  private async missingKeys(): Promise<string[]> {
    if (this.inventory) return [...this.inventory.keys()].sort();
    const seen = this.seen ?? new Set<string>();
    const out: string[] = [];
    for (const rt of this.options.resourceTypes) {
      for await (const o of this.destination.list(typeRoot(this.options.prefix, rt, ''))) if (!seen.has(o.key)) out.push(o.key);
    }
    return out.sort();
  }

  /** A whole run: start, every page, finish. */
  async run(): Promise<RunReport> {
    let state = await this.start();
    try {
      while (!state.listingComplete) state = await this.step(state);
    } catch (err) {
      // The listing failed for good (or was cancelled): report what was done, delete nothing,
      // keep the catalog. When even that fails (S3 still down), the report is not written but
      // still returned with the error.
      let report: RunReport;
      try {
        report = await this.finish(state);
      } catch {
        report = this.reportOf(state, state.counters, new Date());
      }
      throw Object.assign(err as Error, { report });
    }
    return this.finish(state);
  }
}
