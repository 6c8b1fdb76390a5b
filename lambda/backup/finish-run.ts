import { BYTES_PER_CREDIT } from '../core/budget.ts';
import { reportsRoot } from '../core/keys.ts';
import type { Failure, RunCounters } from '../core/report.ts';
import { MAX_LISTED_FAILURES } from '../core/report.ts';
import type { Destination } from '../ports/storage.ts';
import type { Catalog } from '../store/catalog.ts';
import type { CatalogPages } from './catalog-pages.ts';
import { FailureLog } from '../store/failure-log.ts';
import { ApiDownloadLog } from '../store/api-download-log.ts';
import type { ApiDownload } from '../core/download-route.ts';
import { DEFAULT_MAX_PRUNE } from '../core/prune-limit.ts';
import { carryForward, prunePlan } from './finish.ts';
import { applyRetention, historyDaysOf, pruneKeys } from './finish-history.ts';
import { writeJson } from '../store/read-json.ts';
import type { PreviousCatalog } from './finish.ts';
import type { CountingSource, EngineObserver, EngineOptions } from './options.ts';
import type { PreviousCounts, PreviousView } from './key-index.ts';
import type { RunReport, RunState } from './run-state.ts';

/** What a report needs besides the state. */
export interface ReportBase {
  readonly destination: Destination;
  readonly options: EngineOptions;
  readonly source: CountingSource;
  readonly cancelled: boolean;
}

/** What finishing a run needs from the engine. */
export interface FinishContext extends ReportBase {
  readonly catalog: Catalog;
  readonly pages: CatalogPages;
  readonly observer: EngineObserver;
  /** Failures this process saw (the failure log has every step's). */
  readonly processFailures: readonly Failure[];
  missingKeys(): Promise<string[]>;
  /** Whether a key is the same file as a key this run listed (a folding file system); never pruned. */
  isCurrentFile?(key: string): boolean;
  /** Drops from the damage record (verify --deep) what this run copied again. */
  settleDamage?(): Promise<void>;
  readonly previous: PreviousView;
  release(): Promise<void>;
}

/** The previous catalog as finish's rules read it, from its counts (made without a record per entry). */
const previousCatalog = (previous: FinishContext['previous'], { currentByType, currentTotal }: PreviousCounts): PreviousCatalog => ({
  has: (k) => previous.has(k),
  currentByType,
  currentTotal,
});

/** The report of a run in this state (nothing written). */
export const reportOf = (
  base: ReportBase,
  state: RunState,
  extra: { counters: RunCounters; failures: Failure[]; failureLogs: string[]; pruneRefused: string | null; viaApi?: ApiDownloads },
  now: Date,
): RunReport => {
  const quota = state.quota ?? base.options.quota;
  return {
    ...extra.counters,
    runId: state.runId,
    startedAt: state.startedAt,
    finishedAt: now.toISOString(),
    destination: base.destination.description,
    prefix: base.options.prefix,
    dryRun: base.options.dryRun,
    listingComplete: state.listingComplete,
    plannedCopies: state.plannedCopies,
    plannedBytes: state.plannedBytes,
    budgetBytes: state.maxBytes ?? base.options.maxBytes ?? null,
    budgetExhausted: state.budgetExhausted,
    remainingToCopy: state.remainingToCopy,
    remainingBytes: state.remainingBytes,
    cloudinaryApiRemaining: base.source.rateLimit?.remaining ?? null,
    plannedS3Requests: state.plannedS3Requests,
    bytesDownloaded: state.downloadedBytes,
    staleUploadsAborted: state.staleUploadsAborted,
    cancelled: base.cancelled,
    stoppedAtDeadline: state.stoppedAtDeadline === true,
    creditsBefore: quota?.creditsBefore ?? null,
    creditLimit: quota?.creditLimit ?? null,
    creditCeiling: quota?.creditCeiling ?? null,
    creditsAfterEstimate: quota ? quota.creditsBefore + (base.options.dryRun ? state.plannedBytes : state.downloadedBytes) / BYTES_PER_CREDIT : null,
    pruneRefused: extra.pruneRefused,
    metadataFieldsSaved: state.metadataFields ?? null,
    failureLogs: extra.failureLogs,
    failures: extra.failures,
    downloadApiTotal: extra.viaApi?.total ?? 0,
    downloadApi: extra.viaApi?.listed ?? [],
    downloadApiLogs: extra.viaApi?.keys ?? [],
  };
};

/** The originals a run fetched through the download API: how many, the first ones, the log files. */
export interface ApiDownloads {
  readonly total: number;
  readonly listed: ApiDownload[];
  readonly keys: string[];
}

/** The run's download-API log, read back (an unreadable log leaves the list empty, the keys named). */
const gatherApiDownloads = async (ctx: FinishContext, state: RunState): Promise<ApiDownloads> => {
  const count = state.apiDownloadLogs ?? 0;
  const log = new ApiDownloadLog(ctx.destination, ctx.options.prefix, state.runId);
  const keys = Array.from({ length: count }, (_, n) => log.keyOf(n));
  const listed: ApiDownload[] = [];
  const seen = new Set<string>();
  try {
    // A copy retried in a later step is fetched (and logged) again: each asset counts once.
    for await (const d of log.read(count)) {
      const id = `${d.resourceType}/${d.type}/${d.publicId}`;
      if (seen.has(id)) continue;
      seen.add(id);
      if (listed.length < MAX_LISTED_FAILURES) listed.push(d);
    }
    return { total: seen.size, listed, keys };
  } catch {
    return { total: 0, listed: [], keys };
  }
};

/** The failures of the run: from its failure log, or (when that cannot be read) this process's. */
const gatherFailures = async (ctx: FinishContext, state: RunState): Promise<{ failures: Failure[]; keys: string[] }> => {
  const log = new FailureLog(ctx.destination, ctx.options.prefix, state.runId);
  const keys = Array.from({ length: state.failureLogs }, (_, n) => log.keyOf(n));
  const failures: Failure[] = [];
  try {
    for await (const f of log.read(state.failureLogs)) if (failures.length < MAX_LISTED_FAILURES) failures.push(f);
    return { failures, keys };
  } catch {
    return { failures: ctx.processFailures.slice(0, MAX_LISTED_FAILURES), keys };
  }
};

/**
 * Ends a run. After a complete listing: finds backups whose asset is gone, prunes them when asked
 * and the safety rules allow (prunePlan), writes the entries this run carries forward (other
 * resource types, deleted assets kept) and makes its catalog current. After an incomplete listing
 * nothing is deleted and the catalog stays as it was. Then the report, then the lease.
 */
export const finishRun = async (ctx: FinishContext, state: RunState, now: Date): Promise<RunReport> => {
  const { options } = ctx;
  let counters = state.counters;
  let pruneRefused: string | null = null;
  const history = { days: null as number | null, deleted: 0 };
  if (state.listingComplete) {
    // One walk over the previous catalog's entries (a million at the performance target's size) for both uses.
    const counts = ctx.previous.counts();
    const prev = previousCatalog(ctx.previous, counts);
    // A key that is the file of a current asset (`Photo.jpg` after a rename to `photo` on a
    // case-insensitive folder) is not missing: deleting it would delete that asset's backup.
    const missing = (await ctx.missingKeys()).filter((k) => prev.has(k) && !ctx.isCurrentFile?.(k));
    counters = { ...counters, missingFromSource: missing.length };
    for (const key of missing) ctx.observer.missing?.(key);
    let pruned = new Set<string>();
    if (options.prune) {
      const plan = prunePlan(missing, prev, state.listedByType, options.resourceTypes, options.maxPrune ?? DEFAULT_MAX_PRUNE);
      pruneRefused = plan.refused;
      if (!options.dryRun) pruned = await pruneKeys(ctx, plan.keys);
      counters = { ...counters, pruned: options.dryRun ? plan.keys.length : pruned.size };
    }
    if (!options.dryRun) {
      const gone = new Set(missing);
      const listed = new Set(options.resourceTypes);
      const ptr = await ctx.pages.previous();
      // Whether any previous entry is carried: a deleted asset's backup kept, or a type not listed.
      const kept = missing.some((k) => !pruned.has(k)) || [...counts.types].some((t) => !listed.has(t));
      await ctx.pages.sync(state);
      const closed = await carryForward(ctx.pages, state, () => (ptr ? ctx.catalog.entriesOf(ptr) : ctx.catalog.entries()), kept, (e) => {
        if (!listed.has(e.resourceType)) return e;
        if (gone.has(e.key) && !pruned.has(e.key)) return { ...e, state: 'deleted' };
        return undefined;
      });
      history.days = historyDaysOf(options, ptr);
      await ctx.catalog.commit(await ctx.pages.pointerOf(closed, now, history.days));
      history.deleted = await applyRetention(ctx.destination, options, history.days, now);
      await ctx.settleDamage?.();
    }
  }
  if (options.dryRun) return reportOf(ctx, state, { counters, failures: [], failureLogs: [], pruneRefused }, now);
  const { failures, keys } = await gatherFailures(ctx, state);
  const viaApi = await gatherApiDownloads(ctx, state);
  const report = { ...reportOf(ctx, state, { counters, failures, failureLogs: keys, pruneRefused, viaApi }, now), historyDays: history.days, historyDeleted: history.deleted };
  await writeJson(ctx.destination, `${reportsRoot(options.prefix)}/${state.runId}.json`, report);
  await ctx.release();
  return report;
};
