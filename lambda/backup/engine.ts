import { listingsFor } from '../core/asset.ts';
import type { Listing } from '../core/asset.ts';
import { CancelledError, messageOf } from '../core/errors.ts';
import type { PlannedAsset } from '../core/plan.ts';
import type { Failure } from '../core/report.ts';
import type { Destination } from '../ports/storage.ts';
import { Catalog } from '../store/catalog.ts';
import { CatalogPages, PAGE_ENTRIES } from './catalog-pages.ts';
import type { OrderedEntry } from './catalog-pages.ts';
import { settleDamage } from '../store/damage.ts';
import { CLI_LEASE_RENEW_MS } from '../store/lease.ts';
import { RunLease } from './run-lease.ts';
import { workOn } from './copy-one.ts';
import { CopyRecorder } from './copy-recorder.ts';
import { currentFileTest, missingKeys, prepareRun } from './prepare.ts';
import type { Prepared } from './prepare.ts';
import type { Spend } from './copy-asset.ts';
import { TimeGate } from './copy-page.ts';
import type { CopyOutcome, TimeBound } from './copy-page.ts';
import { finishRun } from './finish-run.ts';
import { LeaseHeartbeat } from './lease-heartbeat.ts';
import { runPipelined } from './pipeline.ts';
import type { PageWorker } from './pipeline.ts';
import { PageRunner } from './page-runner.ts';
import type { OpenPage } from './page-runner.ts';
import type { EngineObserver, EngineOptions, CountingSource, StepScope } from './options.ts';
import { RunFailedError, unwrittenReport } from './run-failed.ts';
import { initialState, newRunId } from './run-state.ts';
import type { RunReport, RunState } from './run-state.ts';
import { startRun } from './start-run.ts';
import { writeStepLogs } from './step-logs.ts';

export type { DiffMode, RunReport, RunState } from './run-state.ts';
export type { EngineObserver, EngineOptions, CountingSource, StepScope } from './options.ts';
export { RunFailedError } from './run-failed.ts';

/**
 * One backup pass, as steps a durable function can checkpoint between: `start` (take the lease,
 * open a run), `step` (listing pages up to a catalog page: list ahead, copy what fits, record in order), `finish` (account
 * for deleted assets, commit the catalog, write the report, release the lease). Each step is a
 * function of a checkpointed RunState to a new one; the input is never changed. `run` chains
 * them for the command line.
 */
export class BackupEngine {
  private readonly catalog: Catalog;
  private readonly listings: readonly Listing[];
  private readonly lease: RunLease;
  private prepared: Prepared | undefined;
  private readonly heartbeat: LeaseHeartbeat;
  /** This run's catalog pages: entries gathered, pages closed, referenced or written (see catalog-pages.ts). */
  private readonly pages: CatalogPages;
  private readonly pageRunner: PageRunner;
  /** Failures of this process, for the report when the failure log cannot be read back. */
  private readonly failures: Failure[] = [];
  private cancelled = false;
  private readonly inFlight = new Set<AbortController>();
  /** This process's record of finished copies (see CopyRecord). */
  private readonly copies: CopyRecorder;

  constructor(
    private readonly source: CountingSource,
    private readonly destination: Destination,
    private readonly options: EngineOptions,
    private readonly observer: EngineObserver = {},
  ) {
    this.catalog = new Catalog(destination, options.prefix, options.retryDelayMs);
    this.pages = new CatalogPages(this.catalog, options.catalogPageEntries ?? PAGE_ENTRIES, () => this.lease.assertHeld());
    this.listings = listingsFor(options.resourceTypes);
    this.lease = new RunLease(destination, options);
    this.copies = new CopyRecorder(destination, options.prefix);
    this.heartbeat = new LeaseHeartbeat(this.lease, () => this.cancel());
    this.pageRunner = new PageRunner({ source, destination, options, observer, listings: this.listings, lease: this.lease, prepare: (state) => this.prepare(state) });
  }

  /**
   * Opens a run. Unless it is a dry run (which writes nothing, not even a probe, and takes no
   * lease): checks the destination and takes the lease (LeaseHeldError when another run holds it),
   * then aborts the multipart uploads a killed run left and reads the catalog pointer (see
   * start-run.ts for what runs at once, and why that is safe).
   */
  async start(now = new Date()): Promise<RunState> {
    const runId = newRunId(now);
    const parts = {
      source: this.source,
      destination: this.destination,
      options: this.options,
      lease: this.lease,
      readPointer: () => this.pages.readPrevious(),
      startHeartbeat: () => this.heartbeat.start(this.options.leaseRenewMs ?? CLI_LEASE_RENEW_MS),
      stopHeartbeat: () => this.heartbeat.stop(),
    };
    const s = await startRun(parts, runId, now);
    const state = initialState({ runId, startedAt: now.toISOString(), slot: s.pointer?.slot === 'a' ? 'b' : 'a', listingComplete: this.listings.length === 0, staleUploadsAborted: s.staleUploadsAborted });
    return {
      ...state,
      counters: { ...state.counters, cloudinaryApiCalls: s.apiCalls },
      ...(s.token ? { lease: s.token } : {}),
      ...(s.metadataFields === undefined ? {} : { metadataFields: s.metadataFields }),
    };
  }

  /**
   * Makes the catalog entries in memory those a checkpoint counts (CatalogPages.sync), for a durable
   * step or finish; the pipeline's page openings are not checkpoints, so they never sync.
   */
  private async syncPages(state: RunState): Promise<void> {
    if (!this.options.dryRun) await this.pages.sync(state);
  }

  /** Loads, once per process, the previous catalog and the inventory (less what this run saw). */
  private async prepare(state: RunState): Promise<Prepared> {
    return (this.prepared ??= await prepareRun(this.catalog, this.destination, this.options, state, { previous: await this.pages.previous(), open: this.pages.open }));
  }

  /**
   * A durable step from the state's cursor (see pipeline.ts): the pages `scope` allows, listed
   * ahead while earlier copies drain, within `bound` (the invocation's time) only the copies that
   * fit; the rest stay for the next step, which continues at the first unfinished page. Returns
   * the state to pass to the next call; `state` is not changed. Without a scope: one page.
   */
  async step(state: RunState, bound?: TimeBound, scope: StepScope = {}): Promise<RunState> {
    if (this.cancelled) throw new CancelledError();
    if (this.listings[state.listingIndex] === undefined || state.listingComplete) return { ...state, listingComplete: true };
    if (this.pageRunner.isRetry(state)) this.prepared = undefined;
    await this.syncPages(state);
    return this.pipelined(state, { pages: scope.pages ?? 1, untilCatalogPage: scope.untilCatalogPage ?? false, ...(bound ? { bound } : {}) }, scope.onState ?? (() => undefined));
  }

  /**
   * Pages without a barrier (see pipeline.ts), for a durable step (bounded by `bound`, `pages`,
   * and the catalog page) or the command line's whole run. `onState` gets each recorded state.
   */
  private async pipelined(state: RunState, scope: { bound?: TimeBound; pages: number; untilCatalogPage: boolean }, onState: (s: RunState) => void): Promise<RunState> {
    let mark = this.source.apiCalls;
    let opened = 0;
    let last = state;
    const ledger = { charged: state.plannedBytes };
    const gate = scope.bound ? new TimeGate({ ...scope.bound, ...(state.bytesPerMs === undefined ? {} : { bytesPerMs: state.bytesPerMs }) }) : undefined;
    // A durable step ends with the listing page that closes a catalog page, or that would bring
    // the open entries past the largest page (its tentative file, written at every step's end,
    // stays below one page); it always opens one page, so it always makes progress.
    const catalogRoom = (open: readonly OpenPage[]): boolean =>
      opened === 0 || (last.pageNo === state.pageNo && open.reduce((n, p) => n + p.entries, this.pages.openCount) < this.pages.maxEntries);
    const worker: PageWorker<OpenPage> = {
      open: (at) => {
        opened += 1;
        return this.pageRunner.open(at, ledger);
      },
      copy: (page, item, signal, onBytes) => this.copyOne(item, signal, onBytes, state, page.spend, page.hashing.has(item)),
      close: async (s, page, outcomes, held) => {
        const calls = this.source.apiCalls - mark;
        mark = this.source.apiCalls;
        return (last = await this.closePage(s, page, outcomes, calls, gate?.rate() ?? s.bytesPerMs, held));
      },
      stopped: () => this.cancelled,
      mayOpen: (open) => opened < scope.pages && (!scope.untilCatalogPage || catalogRoom(open)),
    };
    try {
      return await runPipelined(state, worker, { concurrency: this.options.concurrency, ...(gate ? { gate } : {}) }, onState);
    } finally {
      gate?.dispose();
    }
  }

  /** Records an opened page once its copies ended (see PageRunner.close). */
  private async closePage(state: RunState, page: OpenPage, outcomes: readonly CopyOutcome[], apiCalls: number, bytesPerMs: number | undefined, held: boolean): Promise<RunState> {
    const result = this.pageRunner.close(state, page, outcomes, apiCalls, bytesPerMs, held);
    const entries = result.entries.map((entry) => ({ ord: page.ordOf(entry.key), entry }));
    return this.pageRunner.seen(page, await this.record(result.state, entries, result.failures));
  }

  /** Writes what a step produced: its logs (see step-logs.ts), then its entries to the catalog (batched). */
  private async record(state: RunState, entries: readonly OrderedEntry[], failures: Failure[]): Promise<RunState> {
    if (this.options.dryRun) return state;
    this.failures.push(...failures);
    const next = await writeStepLogs(this.destination, this.options.prefix, state, failures, this.source.takeApiDownloads?.() ?? []);
    return this.pages.add(next, entries, next.listingComplete);
  }

  /**
   * A durable step's end: the entries of the catalog page not yet closed are written (tentatively)
   * so the checkpoint records only what is in S3 (see CatalogPages.persist).
   */
  async persist(state: RunState): Promise<RunState> {
    return this.options.dryRun ? state : (await this.flushQuietly(), this.pages.persist(state));
  }

  /** Writes the record of the copies finished so far (see CopyRecord): callable at any time; rejects when the destination refuses. */
  async flushCopies(): Promise<void> {
    await this.copies.flush();
  }

  /** A flush whose failure fails nothing: what it could not record, the next run hashes from the destination. */
  private flushQuietly = (): Promise<void> => this.flushCopies().catch(() => undefined);

  /** One copy, abortable by Ctrl-C as well as by the step's time bound; reported to the observer. */
  private async copyOne(item: PlannedAsset, signal: AbortSignal, onBytes: (n: number) => void, state: RunState, spend: Spend, hash = false): Promise<string> {
    const ac = new AbortController();
    const abort = (): void => ac.abort(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    this.inFlight.add(ac);
    try {
      if (this.cancelled) throw new CancelledError();
      const { source, destination, options, observer, copies } = this;
      return await workOn(item, hash, { source, destination, options, observer, copies, runId: state.runId, budget: state.maxBytes ?? options.maxBytes }, spend, ac.signal, onBytes);
    } catch (err) {
      const error = this.cancelled ? new CancelledError() : err;
      if (!signal.aborted && !hash && !(error instanceof CancelledError)) this.observer.failed?.(item, messageOf(error));
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
    // The copy record first: a stopped run's finished copies are what the next run adopts.
    if (!this.options.dryRun) await Promise.all([this.destination.settle?.(), this.flushQuietly()]);
    await this.syncPages(state);
    // A stopped run (Ctrl-C, lease lost) is an incomplete listing: nothing pruned or committed.
    const flushed = this.cancelled ? { ...state, listingComplete: false } : state;
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
        // Called once the catalog is committed: the copy records it now holds go too.
        settleDamage: async () => {
          await settleDamage(this.destination, this.options.prefix, this.catalog.entries(), new Set(this.options.resourceTypes), p.damaged);
          await this.copies.drop(p.copies.files, this.options.resourceTypes);
        },
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
   * A whole run for the command line: start, every page (without a barrier, see pipelined), finish. The lease is renewed after each
   * page and by a timer (a page of large files can take longer than the lease's margin).
   * A run that fails reports what it did: the error carries the report (see RunFailedError).
   */
  async run(): Promise<RunReport> {
    let state = await this.start();
    this.heartbeat.start(this.options.leaseRenewMs ?? CLI_LEASE_RENEW_MS);
    try {
      try {
        state = await this.pipelined(state, { pages: Infinity, untilCatalogPage: false }, (s) => (state = s));
        if (this.cancelled) throw new CancelledError();
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
      this.heartbeat.stop();
    }
  }

  /** The report of a run whose finish could not write (the lease is released, quietly). */
  private async unwrittenReport(state: RunState): Promise<RunReport> {
    await this.lease.releaseQuietly();
    return unwrittenReport({ destination: this.destination, options: this.options, source: this.source, cancelled: this.cancelled }, state, this.failures);
  }
}
