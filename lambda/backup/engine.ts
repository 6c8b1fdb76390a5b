import type { StoredObject } from '../core/asset.ts';
import { isBackedUpType, listingsFor } from '../core/asset.ts';
import type { Listing } from '../core/asset.ts';
import { AssetCopyError, CancelledError, LeaseLostError, messageOf } from '../core/errors.ts';
import { normalizePrefix, typeRoot } from '../core/keys.ts';
import { objectMetadata } from '../core/metadata.ts';
import { planPage } from '../core/plan.ts';
import type { PlannedAsset } from '../core/plan.ts';
import type { Failure } from '../core/report.ts';
import { MAX_LISTED_FAILURES } from '../core/report.ts';
import type { ListPage, Destination, Source } from '../ports/storage.ts';
import { Catalog } from '../store/catalog.ts';
import type { CatalogEntry } from '../store/catalog.ts';
import { FailureLog } from '../store/failure-log.ts';
import { Lease, describeHolder } from '../store/lease.ts';
import type { LeaseToken } from '../store/lease.ts';
import { transferWithRetry } from '../transfer/retrying.ts';
import { copyWithin } from './copy-page.ts';
import type { CopyOutcome, TimeBound } from './copy-page.ts';
import { checkCursor } from './cursor-guard.ts';
import { finishRun, reportOf } from './finish-run.ts';
import { KeyIndex } from './key-index.ts';
import type { InventoryView, PreviousView } from './key-index.ts';
import { admit, afterPage } from './page.ts';
import type { EngineObserver, EngineOptions, CountingSource } from './options.ts';
import { initialState, newRunId } from './run-state.ts';
import type { RunReport, RunState } from './run-state.ts';

export type { DiffMode, RunReport, RunState } from './run-state.ts';
export type { EngineObserver, EngineOptions, CountingSource } from './options.ts';

/** What the engine loads once per process to plan pages: the previous catalog and the inventory. */
export interface Prepared {
  readonly previous: PreviousView;
  /** List mode: what the destination holds, less the keys seen by this run so far. */
  readonly inventory: InventoryView | undefined;
  /** Head mode only (empty in list mode): keys seen by this run so far. */
  readonly seen: Set<string>;
}

/**
 * One backup pass, as steps a durable function can checkpoint between: `start` (take the lease,
 * open a run), `step` (one listing page: list, plan, copy what fits, record), `finish` (account
 * for deleted assets, commit the catalog, write the report, release the lease). Each step is a
 * function of a checkpointed RunState to a new one; the input is never changed. `run` chains
 * them for the command line.
 */
export class BackupEngine {
  private readonly catalog: Catalog;
  private readonly listings: readonly Listing[];
  private readonly lease: Lease;
  private prepared: Prepared | undefined;
  /** Catalog entries of processed pages not yet written (see catalogPageEntries). */
  private pending: CatalogEntry[] = [];
  /** Failures of this process, for the report when the failure log cannot be read back. */
  private readonly failures: Failure[] = [];
  private cancelled = false;
  private readonly inFlight = new Set<AbortController>();
  /** Per listing: each next_cursor handed out in this process -> the cursor of its page. */
  private readonly cursors = new Map<string, Map<string, string>>();
  /** The lease as this process last wrote it (newer than a checkpoint's after a renewal). */
  private token: LeaseToken | undefined;
  private renewing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly source: CountingSource,
    private readonly destination: Destination,
    private readonly options: EngineOptions,
    private readonly observer: EngineObserver = {},
  ) {
    this.catalog = new Catalog(destination, options.prefix, options.retryDelayMs);
    this.listings = listingsFor(options.resourceTypes);
    this.lease = new Lease(destination, options.prefix, `${destination.description}${options.prefix ? ` (prefix ${options.prefix})` : ''}`);
  }

  /**
   * Opens a run. Unless it is a dry run (which writes nothing, not even a probe, and takes no
   * lease): checks the destination, takes the lease (LeaseHeldError when another run holds it),
   * and aborts the multipart uploads a killed run left. Only then is the catalog read.
   */
  async start(now = new Date()): Promise<RunState> {
    const runId = newRunId(now);
    let staleUploadsAborted = 0;
    if (!this.options.dryRun) {
      await this.destination.check();
      this.token = await this.lease.acquire(this.options.holder ?? describeHolder('cloudinary-backup'), runId, now);
      const root = normalizePrefix(this.options.prefix);
      const olderThan = new Date(now.getTime() - (this.options.staleUploadAgeMs ?? 3600_000));
      // Only keys this tool writes: the type folders under the prefix, never another app's uploads.
      for (const rt of this.options.resourceTypes) {
        staleUploadsAborted += (await this.destination.abortStaleUploads?.(`${root ? `${root}/` : ''}${rt}/`, olderThan)) ?? 0;
      }
    }
    const ptr = await this.catalog.pointer();
    const state = initialState({ runId, startedAt: now.toISOString(), slot: ptr?.slot === 'a' ? 'b' : 'a', listingComplete: this.listings.length === 0, staleUploadsAborted });
    return this.token ? { ...state, lease: this.token } : state;
  }

  /** Renews the lease (serialised: a timer and a step may both ask). Throws LeaseLostError. */
  private async renew(state: RunState): Promise<LeaseToken | undefined> {
    const from = this.token ?? state.lease;
    if (!from) return undefined;
    const next = this.renewing.then(() => this.lease.renew(this.token ?? from));
    this.renewing = next.catch(() => undefined);
    this.token = await next;
    return this.token;
  }

  /** Loads, once per process, the previous catalog and the inventory (less what this run saw). */
  private async prepare(state: RunState): Promise<Prepared> {
    if (this.prepared) return this.prepared;
    // One table for both: a million assets must fit a Lambda (see KeyIndex).
    const index = new KeyIndex();
    for await (const e of this.catalog.entries()) {
      index.setPrevious(e.key, { version: e.version, current: e.state === 'current', resourceType: e.resourceType, ...(e.sha256 ? { sha256: e.sha256 } : {}) });
    }
    if (this.options.diff === 'list') {
      for (const rt of this.options.resourceTypes) for await (const o of this.destination.list(typeRoot(this.options.prefix, rt, ''))) index.setStored(o);
    }
    const prepared: Prepared = { previous: index.previous, inventory: this.options.diff === 'list' ? index.inventory : undefined, seen: new Set() };
    // A resumed run: what earlier pages of this run recorded is not missing.
    for await (const e of this.catalog.readSlot(state.slot, state.pageNo)) this.markSeen(prepared, e.key);
    this.prepared = prepared;
    return prepared;
  }

  private markSeen(p: Prepared, key: string): void {
    // List mode: the inventory is what is left unseen; a Set of every key besides would hold a
    // third copy of each (issue 14: a million assets in one Lambda).
    if (p.inventory) p.inventory.delete(key);
    else p.seen.add(key);
  }

  /** What the destination holds at each key of a page: the inventory, or one HeadObject each. */
  private async lookup(p: Prepared, keys: readonly string[]): Promise<(key: string) => StoredObject | undefined> {
    if (p.inventory) {
      const inv = p.inventory;
      return (key) => inv.get(key);
    }
    const heads = new Map<string, StoredObject>();
    const queue = [...keys];
    const worker = async (): Promise<void> => {
      for (let k = queue.shift(); k !== undefined; k = queue.shift()) {
        const h = await this.destination.head(k);
        if (h) heads.set(k, h);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.options.concurrency) }, worker));
    return (key) => heads.get(key);
  }

  /** Lists the page at the state's cursor and checks its next_cursor (see cursor-guard.ts). */
  private async listPage(state: RunState, listing: Listing): Promise<{ page: ListPage; calls: number }> {
    const before = this.source.apiCalls;
    const page = await this.source.listPage(listing.resourceType, listing.type, state.cursor);
    const name = `${listing.resourceType}/${listing.type}`;
    const seen = this.cursors.get(name) ?? new Map<string, string>();
    this.cursors.set(name, seen);
    checkCursor(name, state.cursor, page.nextCursor, seen);
    return { page, calls: this.source.apiCalls - before };
  }

  /**
   * Processes the page at the state's cursor: within `bound` (a durable step's invocation time)
   * only the copies that fit; the rest stay for the next step, which continues the same page.
   * Returns the state to pass to the next call; `state` is not changed.
   */
  async step(state: RunState, bound?: TimeBound): Promise<RunState> {
    if (this.cancelled) throw new CancelledError();
    const listing = this.listings[state.listingIndex];
    if (listing === undefined || state.listingComplete) return { ...state, listingComplete: true };
    const lease = await this.renew(state);
    const p = await this.prepare(state);
    const { page, calls } = await this.listPage(state, listing);
    const keysOnly = planPage(this.options.prefix, page.assets, () => undefined);
    const lookup = await this.lookup(p, keysOnly.filter((i) => i.decision.action !== 'skip').map((i) => i.key));
    const planned = planPage(this.options.prefix, page.assets, lookup, (k) => p.previous.get(k));
    this.observer.planned?.(planned);
    const admission = admit(state, planned, state.maxBytes ?? this.options.maxBytes, (k) => p.previous.get(k));
    for (const item of admission.copies) this.observer.admitted?.(item);
    for (const s of admission.settled) if (s.outcome === 'deferred') this.observer.deferred?.(s.item);
    const spend = { downloaded: 0, retryBytes: 0, charged: state.plannedBytes + admission.copies.reduce((n, i) => n + i.asset.bytes, 0) };
    let outcomes: CopyOutcome[] = [];
    let bytesPerMs = state.bytesPerMs;
    if (!this.options.dryRun && admission.copies.length > 0) {
      const r = await copyWithin(admission.copies, {
        concurrency: this.options.concurrency,
        ...(bound ? { bound: { ...bound, ...(state.bytesPerMs === undefined ? {} : { bytesPerMs: state.bytesPerMs }) } } : {}),
        stopped: () => this.cancelled,
        copy: (item, signal, onBytes) => this.copyOne(item, signal, onBytes, state, spend),
      });
      outcomes = r.outcomes;
      bytesPerMs = r.bytesPerMs;
    }
    const result = afterPage(lease ? { ...state, lease } : state, {
      admission,
      outcomes,
      dryRun: this.options.dryRun,
      nextCursor: page.nextCursor,
      listings: this.listings.length,
      apiCalls: calls,
      downloadedBytes: spend.downloaded,
      retryBytes: spend.retryBytes,
      bytesPerMs,
      ...(this.options.singlePutMax === undefined ? {} : { singlePutMax: this.options.singlePutMax }),
    });
    for (const e of result.entries) if (isBackedUpType(e)) this.markSeen(p, e.key);
    return this.record(result.state, result.entries, result.failures);
  }

  /** Writes what a step produced: failures to the failure log, entries to the catalog (batched). */
  private async record(state: RunState, entries: CatalogEntry[], failures: Failure[]): Promise<RunState> {
    if (this.options.dryRun) return state;
    let next = state;
    if (failures.length > 0) {
      this.failures.push(...failures);
      await new FailureLog(this.destination, this.options.prefix, state.runId).write(state.failureLogs, failures);
      next = { ...next, failureLogs: next.failureLogs + 1 };
    }
    this.pending.push(...entries);
    const batch = this.options.catalogPageEntries ?? 1;
    if (this.pending.length >= batch || next.listingComplete || next.page !== undefined) next = await this.flushCatalog(next);
    return next;
  }

  /** Copies one original with retries; charges each retry to the budget. Resolves with its sha256. */
  private async copyOne(
    item: PlannedAsset,
    signal: AbortSignal,
    onBytes: (n: number) => void,
    state: RunState,
    spend: { downloaded: number; retryBytes: number; charged: number },
  ): Promise<string> {
    const ac = new AbortController();
    const abort = (): void => ac.abort(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    this.inFlight.add(ac);
    try {
      if (this.cancelled) throw new CancelledError();
      const sha256 = await transferWithRetry({
        open: async (s) => this.source.open(item.asset, s),
        write: async (body, length, s) => {
          await this.destination.put({ key: item.key, body, length, metadata: objectMetadata(item.asset), signal: s });
        },
        ...(this.options.copyAttempts === undefined ? {} : { attempts: this.options.copyAttempts }),
        ...(this.options.retryDelayMs === undefined ? {} : { retryDelayMs: this.options.retryDelayMs }),
        ...(this.options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: this.options.idleTimeoutMs }),
        signal: ac.signal,
        onBytes: (n) => {
          spend.downloaded += n;
          onBytes(n);
          this.observer.bytes?.(n);
        },
        // A retry downloads the asset again: it must fit in the budget like a first copy.
        mayRetry: () => {
          const budget = state.maxBytes ?? this.options.maxBytes;
          if (budget !== undefined && spend.charged + item.asset.bytes > budget) return false;
          spend.charged += item.asset.bytes;
          spend.retryBytes += item.asset.bytes;
          return true;
        },
        isFinal: (err) => (err instanceof AssetCopyError && !err.retryable) || (err as Error | undefined)?.name === 'AssetNotReadyError',
      });
      this.observer.copied?.(item, sha256);
      return sha256;
    } catch (err) {
      const error = this.cancelled ? new CancelledError() : err;
      if (!signal.aborted) this.observer.failed?.(item, messageOf(error));
      throw error;
    } finally {
      signal.removeEventListener('abort', abort);
      this.inFlight.delete(ac);
    }
  }

  /** Writes the pending catalog entries as the next page of this run's slot. */
  private async flushCatalog(state: RunState): Promise<RunState> {
    if (this.options.dryRun || this.pending.length === 0) return state;
    await this.catalog.writePage(state.slot, state.pageNo, this.pending);
    const next = { ...state, pageNo: state.pageNo + 1, catalogEntries: state.catalogEntries + this.pending.length };
    this.pending = [];
    return next;
  }

  /**
   * Stops the run: no new page or copy starts, and copies in flight are aborted (their
   * multipart uploads too), so nothing is left half-written. The run then ends as an
   * incomplete listing: nothing pruned, the catalog kept, the report says `cancelled`.
   */
  cancel(): void {
    this.cancelled = true;
    for (const ac of this.inFlight) ac.abort(new CancelledError());
  }

  /**
   * Ends a run (see finish-run.ts): after a complete listing, accounts for backups whose asset is
   * gone, prunes within the safety rules when asked, carries the entries it did not list forward,
   * and commits the catalog; after an incomplete one, the catalog stays as it was. Then writes
   * the report and releases the lease.
   */
  async finish(state: RunState, now = new Date()): Promise<RunReport> {
    if (!this.options.dryRun) await this.destination.settle?.();
    const flushed = await this.flushCatalog(state);
    const p = await this.prepare(flushed);
    return finishRun(
      {
        destination: this.destination,
        catalog: this.catalog,
        options: this.options,
        source: this.source,
        observer: this.observer,
        cancelled: this.cancelled,
        processFailures: this.failures,
        missingKeys: () => this.missingKeys(p),
        previous: p.previous,
        release: async () => {
          const token = this.token ?? flushed.lease;
          if (token) await this.lease.release(token);
        },
      },
      flushed,
      now,
    );
  }

  private async missingKeys(p: Prepared): Promise<string[]> {
    if (p.inventory) return [...p.inventory.keys()].sort();
    const out: string[] = [];
    for (const rt of this.options.resourceTypes) {
      for await (const o of this.destination.list(typeRoot(this.options.prefix, rt, ''))) if (!p.seen.has(o.key)) out.push(o.key);
    }
    return out.sort();
  }

  /**
   * A whole run for the command line: start, every page, finish. The lease is renewed after each
   * page and by a timer (a page of large files can take longer than the lease's margin).
   * A run that fails reports what it did: the error carries the report (see RunFailedError).
   */
  async run(): Promise<RunReport> {
    let state = await this.start();
    const heartbeat = state.lease
      ? setInterval(() => {
          this.renew(state).catch((err: unknown) => {
            if (err instanceof LeaseLostError) this.cancel();
          });
        }, this.options.leaseRenewMs ?? 15 * 60_000)
      : undefined;
    heartbeat?.unref();
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
        const base = { destination: this.destination, options: this.options, source: this.source, cancelled: this.cancelled };
        report = reportOf(base, state, { counters: state.counters, failures: this.failures.slice(0, MAX_LISTED_FAILURES), failureLogs: [], pruneRefused: null }, new Date());
      }
      throw new RunFailedError(err, report);
    } finally {
      if (heartbeat) clearInterval(heartbeat);
    }
    return this.finish(state);
  }
}

/** A run that ended early: the cause, and the report of what it did. */
export class RunFailedError extends Error {
  override readonly name = 'RunFailedError';
  constructor(
    cause: unknown,
    readonly report: RunReport,
  ) {
    super(messageOf(cause), { cause });
  }
}

