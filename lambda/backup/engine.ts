import { isBackedUpType, listingsFor } from '../core/asset.ts';
import type { Listing } from '../core/asset.ts';
import { CancelledError, LeaseLostError, messageOf } from '../core/errors.ts';
import { normalizePrefix } from '../core/keys.ts';
import { planPage } from '../core/plan.ts';
import type { PlannedAsset } from '../core/plan.ts';
import type { Failure } from '../core/report.ts';
import { MAX_LISTED_FAILURES } from '../core/report.ts';
import type { ListPage, Destination } from '../ports/storage.ts';
import { Catalog } from '../store/catalog.ts';
import type { CatalogEntry } from '../store/catalog.ts';
import { CatalogPages, PAGE_ENTRIES } from './catalog-pages.ts';
import { settleDamage } from '../store/damage.ts';
import { FailureLog } from '../store/failure-log.ts';
import { backupMetadataFields } from '../store/metadata-fields.ts';
import { CLI_LEASE_RENEW_MS } from '../store/lease.ts';
import type { LeaseToken } from '../store/lease.ts';
import { RunLease } from './run-lease.ts';
import { copyAsset } from './copy-asset.ts';
import { currentFileTest, lookupFor, markSeen, missingKeys, prepareRun } from './prepare.ts';
import type { Prepared } from './prepare.ts';
import type { Spend } from './copy-asset.ts';
import { copyWithin } from './copy-page.ts';
import type { CopyOutcome, TimeBound } from './copy-page.ts';
import { checkCursor } from './cursor-guard.ts';
import { finishRun, reportOf } from './finish-run.ts';
import { admit, afterPage } from './page.ts';
import type { EngineObserver, EngineOptions, CountingSource } from './options.ts';
import { initialState, newRunId } from './run-state.ts';
import type { RunReport, RunState } from './run-state.ts';

export type { DiffMode, RunReport, RunState } from './run-state.ts';
export type { EngineObserver, EngineOptions, CountingSource } from './options.ts';

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
  private readonly lease: RunLease;
  private prepared: Prepared | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** This run's catalog pages: entries gathered, pages closed, referenced or written (see catalog-pages.ts). */
  private readonly pages: CatalogPages;
  /** Failures of this process, for the report when the failure log cannot be read back. */
  private readonly failures: Failure[] = [];
  private cancelled = false;
  private readonly inFlight = new Set<AbortController>();
  /** Per listing: each next_cursor handed out in this process -> the cursor of its page. */
  private readonly cursors = new Map<string, Map<string, string>>();
  /** The lease as this process last wrote it (newer than a checkpoint's after a renewal). */

  constructor(
    private readonly source: CountingSource,
    private readonly destination: Destination,
    private readonly options: EngineOptions,
    private readonly observer: EngineObserver = {},
  ) {
    this.catalog = new Catalog(destination, options.prefix, options.retryDelayMs);
    this.pages = new CatalogPages(this.catalog, options.catalogPageEntries ?? PAGE_ENTRIES);
    this.listings = listingsFor(options.resourceTypes);
    this.lease = new RunLease(destination, options);
  }

  /**
   * Opens a run. Unless it is a dry run (which writes nothing, not even a probe, and takes no
   * lease): checks the destination, takes the lease (LeaseHeldError when another run holds it),
   * and aborts the multipart uploads a killed run left. Only then is the catalog read.
   */
  async start(now = new Date()): Promise<RunState> {
    const runId = newRunId(now);
    let staleUploadsAborted = 0;
    let token: LeaseToken | undefined;
    if (!this.options.dryRun) {
      await this.destination.check();
      token = await this.lease.acquire(runId, now);
      if (this.options.leaseRenewMs !== undefined) this.startHeartbeat(this.options.leaseRenewMs);
      try {
        staleUploadsAborted = await this.abortStale(now);
      } catch (err) {
        this.stopHeartbeat();
        await this.lease.releaseQuietly();
        throw err;
      }
    }
    let ptr;
    try {
      ptr = await this.catalog.pointer();
    } catch (err) {
      this.stopHeartbeat();
      await this.lease.releaseQuietly();
      throw err;
    }
    const callsBefore = this.source.apiCalls;
    const fields = token ? await this.saveMetadataFields(now) : undefined;
    const startCalls = this.source.apiCalls - callsBefore;
    const state = initialState({ runId, startedAt: now.toISOString(), slot: ptr?.slot === 'a' ? 'b' : 'a', listingComplete: this.listings.length === 0, staleUploadsAborted });
    return {
      ...state,
      counters: { ...state.counters, cloudinaryApiCalls: startCalls },
      ...(token ? { lease: token } : {}),
      ...(fields === undefined ? {} : { metadataFields: fields }),
    };
  }

  /**
   * Saves the account's structured-metadata field definitions beside the catalog (one Admin API
   * call), so a restore into another account can create them first. Not worth failing a backup
   * for: on any error (a rate-limit wait the durable run cannot take here included) the previous
   * definitions stay and the report says none were saved this run.
   */
  private async saveMetadataFields(now: Date): Promise<number | undefined> {
    if (!this.source.readMetadataFields) return undefined;
    try {
      return await backupMetadataFields({ readMetadataFields: () => (this.source.readMetadataFields as () => Promise<unknown[] | undefined>)() }, this.destination, this.options.prefix, now);
    } catch {
      return undefined;
    }
  }

  /** Aborts the multipart uploads a killed run left, under the type folders only (never another app's). */
  private async abortStale(now: Date): Promise<number> {
    const root = normalizePrefix(this.options.prefix);
    const olderThan = new Date(now.getTime() - (this.options.staleUploadAgeMs ?? 3600_000));
    let aborted = 0;
    for (const rt of this.options.resourceTypes) aborted += (await this.destination.abortStaleUploads?.(`${root ? `${root}/` : ''}${rt}/`, olderThan)) ?? 0;
    return aborted;
  }

  /** Loads, once per process, the previous catalog and the inventory (less what this run saw). */
  private async prepare(state: RunState): Promise<Prepared> {
    if (!this.options.dryRun) await this.pages.sync(state);
    return (this.prepared ??= await prepareRun(this.catalog, this.destination, this.options, state, { previous: await this.pages.previous(), open: this.pages.open }));
  }

  /** Lists the page at the state's cursor and checks its next_cursor (see cursor-guard.ts). */
  private async listPage(state: RunState, listing: Listing): Promise<ListPage> {
    const page = await this.source.listPage(listing.resourceType, listing.type, state.cursor);
    const name = `${listing.resourceType}/${listing.type}`;
    const seen = this.cursors.get(name) ?? new Map<string, string>();
    this.cursors.set(name, seen);
    checkCursor(name, state.cursor, page.nextCursor, seen);
    return page;
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
    const lease = await this.lease.renew(state.lease, false);
    const p = await this.prepare(state);
    const callsBefore = this.source.apiCalls;
    const page = await this.listPage(state, listing);
    const keysOnly = planPage(this.options.prefix, page.assets, () => undefined);
    const lookup = await lookupFor(p, this.destination, this.options.concurrency, keysOnly.filter((i) => i.decision.action !== 'skip').map((i) => i.key));
    const planned = planPage(this.options.prefix, page.assets, lookup, (k) => p.previous.get(k));
    this.observer.planned?.(planned);
    const admission = admit(state, planned, state.maxBytes ?? this.options.maxBytes, (k) => p.previous.get(k));
    for (const item of admission.copies) this.observer.admitted?.(item);
    for (const s of admission.settled) if (s.outcome === 'deferred') this.observer.deferred?.(s.item);
    const spend: Spend = { downloaded: 0, retryBytes: 0, charged: state.plannedBytes + admission.copies.reduce((n, i) => n + i.asset.bytes, 0) };
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
      // The listing and the signed downloads (Admin API calls too, issue 12).
      apiCalls: this.source.apiCalls - callsBefore,
      downloadedBytes: spend.downloaded,
      retryBytes: spend.retryBytes,
      bytesPerMs,
      ...(this.options.singlePutMax === undefined ? {} : { singlePutMax: this.options.singlePutMax }),
    });
    // Every asset listed is not missing from Cloudinary, whatever became of its copy.
    for (const i of planned) if (isBackedUpType(i.asset)) markSeen(p, i.key);
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
    return this.pages.add(next, entries, next.listingComplete);
  }

  /**
   * A durable step's end: the entries of the catalog page not yet closed are written (tentatively)
   * so the checkpoint records only what is in S3 (see CatalogPages.persist).
   */
  async persist(state: RunState): Promise<RunState> {
    return this.options.dryRun ? state : this.pages.persist(state);
  }

  /** One copy, abortable by Ctrl-C as well as by the step's time bound; reported to the observer. */
  private async copyOne(item: PlannedAsset, signal: AbortSignal, onBytes: (n: number) => void, state: RunState, spend: Spend): Promise<string> {
    const ac = new AbortController();
    const abort = (): void => ac.abort(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    this.inFlight.add(ac);
    try {
      if (this.cancelled) throw new CancelledError();
      const io = { source: this.source, destination: this.destination, options: this.options, budget: state.maxBytes ?? this.options.maxBytes };
      const sha256 = await copyAsset(item, io, spend, ac.signal, (n) => {
        onBytes(n);
        this.observer.bytes?.(n);
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
    const flushed = state;
    const p = await this.prepare(flushed);
    return finishRun(
      {
        destination: this.destination,
        catalog: this.catalog,
        pages: this.pages,
        options: this.options,
        source: this.source,
        observer: this.observer,
        cancelled: this.cancelled,
        processFailures: this.failures,
        missingKeys: () => missingKeys(p, this.destination, this.options),
        isCurrentFile: currentFileTest(p, this.destination),
        settleDamage: () => settleDamage(this.destination, this.options.prefix, this.catalog.entries(), new Set(this.options.resourceTypes)),
        previous: p.previous,
        release: async () => {
          await this.lease.release(flushed.lease);
        },
      },
      flushed,
      now,
    );
  }

  /**
   * A whole run for the command line: start, every page, finish. The lease is renewed after each
   * page and by a timer (a page of large files can take longer than the lease's margin).
   * A run that fails reports what it did: the error carries the report (see RunFailedError).
   */
  async run(): Promise<RunReport> {
    let state = await this.start();
    this.startHeartbeat(this.options.leaseRenewMs ?? CLI_LEASE_RENEW_MS);
    try {
      try {
        while (!state.listingComplete) state = await this.step(state);
      } catch (err) {
        // The listing failed for good (or was cancelled): report what was done, delete nothing,
        // keep the catalog. When even that fails (S3 still down), the report is not written but
        // still returned with the error.
        throw new RunFailedError(err, await this.finish(state).catch(() => this.unwrittenReport(state)));
      }
      // A finish that fails (a prune delete, the catalog commit, the report) still frees the lease.
      return await this.finish(state).catch(async (err: unknown) => {
        throw new RunFailedError(err, await this.unwrittenReport(state));
      });
    } finally {
      this.stopHeartbeat();
    }
  }

  /** The report of a run whose finish could not write (the lease is released, quietly). */
  private async unwrittenReport(state: RunState): Promise<RunReport> {
    await this.lease.releaseQuietly();
    const base = { destination: this.destination, options: this.options, source: this.source, cancelled: this.cancelled };
    return reportOf(base, state, { counters: state.counters, failures: this.failures.slice(0, MAX_LISTED_FAILURES), failureLogs: [], pruneRefused: null }, new Date());
  }

  /**
   * Renews the lease on a timer from the moment it is taken until the run ends (the command
   * line: a rate-limit wait or a long page must not outlive the 10-minute lease). Losing it
   * cancels the run.
   */
  private startHeartbeat(everyMs: number): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      this.lease.renew(undefined).catch((err: unknown) => {
        if (err instanceof LeaseLostError) this.cancel();
      });
    }, everyMs);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
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

