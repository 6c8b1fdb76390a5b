import { createHash, randomBytes } from 'node:crypto';
import type { ApiDownload } from '../core/download-route.ts';
import type { RunCounters, Failure } from '../core/report.ts';
import { emptyCounters } from '../core/report.ts';
import type { LeaseToken } from '../store/lease.ts';

/*
 * The run-state design (docs/architecture.md, "The run state").
 *
 * A RunState is what a durable checkpoint holds between steps, and nothing else: where the
 * listing is (listing index + cursor), which assets of the page at that cursor are already
 * settled (a bounded set of short hashes, at most one page of 500), which assets of the pages
 * after it a step already settled while that page was unfinished (`ahead`: the pipeline of a
 * durable step records finished work behind an unfinished page, at most 2 pages), the byte budget spent, the
 * counters, the lease token, and how many failure-log files this run wrote.
 *
 * The catalog (docs/history.md; see backup/catalog-pages.ts): the name of each catalog page this
 * run closed (~10,000 entries each, 24 hex digits: the hash of its bytes, so a page of the
 * previous restore point is named, not written again); the number of listing pages passed (an
 * entry's place in the catalog's order comes from it); and `openEntries`, the number of entries
 * not yet in a closed page that a durable step wrote to the tentative file before its
 * checkpoint. Every entry a checkpoint counts is in S3 (in a page file, which no run rewrites,
 * or in the tentative file); the entries a step gathered after its last checkpoint are gathered
 * again by the step that repeats its work. The catalog part grows by ~27 bytes per 10,000
 * assets (2.7 KB at 1,000,000).
 *
 * It never holds work in flight (a copy not finished when a step ends is not in it: the next step
 * copies it again, from the start), never a page's asset list, and never the failures themselves
 * (they go to the failure log in the destination). So its size is bounded — about 10 KB with a
 * full done-set, plus the catalog pages' ~20 bytes each — whatever the number of failures.
 *
 * Every step is a function of (state, page) to a new state; the input is never changed, so a
 * step that the durable runtime runs again starts from the same checkpoint and reaches the same
 * decisions.
 */

/** How a run compares Cloudinary with the destination. */
export type DiffMode = 'list' | 'head';

/** Credits before the run, when the budget came from `GET /usage`. */
export interface Quota {
  readonly creditsBefore: number;
  readonly creditLimit: number | undefined;
  readonly creditCeiling: number | undefined;
}

/** The page at the current cursor, when an earlier step left part of it for later. */
export interface PageProgress {
  /** Hashes (see settledId) of the page's assets already settled: copied, failed, unchanged, deferred. */
  readonly done: readonly string[];
  /** Hashes of assets whose copy was cut off by the end of an invocation once already. */
  readonly interrupted: readonly string[];
}

/** Where a run is: JSON, bounded in size, checkpointed by a durable execution after every step. */
export interface RunState {
  readonly runId: string;
  readonly startedAt: string;
  /** Catalog slot of a format-2 catalog (kept for its checkpoints; format 3 names pages by hash). */
  readonly slot: 'a' | 'b';
  /** The run lease (absent in a dry run, which takes none). */
  readonly lease?: LeaseToken;
  /** Index into the run's listings (resource type x delivery type, see listingsFor). */
  readonly listingIndex: number;
  /** Cursor of the page being worked on; absent for a listing's first page. */
  readonly cursor?: string;
  readonly page?: PageProgress;
  /**
   * Assets of the pages after the cursor's that a step settled (or cut off) while the cursor's
   * page was left unfinished (a durable step's pipeline: see pipeline.ts), by aheadId; skipped
   * when those pages are listed again, each id dropped once its page is passed. At most 2 pages of ids.
   */
  readonly ahead?: PageProgress;
  /** Catalog pages this run closed so far (what a resumed run reads back). */
  readonly pageNo: number;
  /** The name (pageName) of each closed page. */
  readonly pageHashes?: readonly string[];
  /** Listing pages this run passed (all listings): the first part of an entry's place (entryOrd). */
  readonly listingPages?: number;
  /** Entries not in a closed page, in the tentative file of page `pageNo`: in S3, not yet closed. */
  readonly openEntries?: number;
  /** Failure-log files this run wrote (see store/failure-log.ts). */
  readonly failureLogs: number;
  /** Download-API log files this run wrote (see store/api-download-log.ts); absent: none. */
  readonly apiDownloadLogs?: number;
  readonly listingComplete: boolean;
  readonly counters: RunCounters;
  readonly plannedCopies: number;
  /** Bytes charged to the budget: copies started, and their retries. */
  readonly plannedBytes: number;
  readonly plannedS3Requests: number;
  /** Bytes actually downloaded, including partial and retried downloads. */
  readonly downloadedBytes: number;
  /** Multipart uploads left open by killed runs that this run aborted at start. */
  readonly staleUploadsAborted: number;
  readonly budgetExhausted: boolean;
  readonly remainingToCopy: number;
  readonly remainingBytes: number;
  /** The run's byte budget when it was fixed at start (durable runs); wins over the options. */
  readonly maxBytes?: number;
  readonly quota?: Quota;
  /** Transfer rate measured so far (bytes per ms of invocation time), to plan the next invocation. */
  readonly bytesPerMs?: number;
  /** Steps taken. */
  readonly steps: number;
  /** Assets listed per resource type (prune refuses after an empty listing of a type). */
  readonly listedByType: Readonly<Record<string, number>>;
  /** Catalog entries in the pages this run closed so far. */
  readonly catalogEntries: number;
  /** Structured-metadata field definitions saved at start (`_catalog/metadata-fields.json`). */
  readonly metadataFields?: number;
  /** The durable execution's deadline came before the listing ended (entry/deadline.ts). */
  readonly stoppedAtDeadline?: boolean;
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
  /**
   * True when the nightly run stopped ahead of its durable execution timeout before the listing
   * ended: what was copied is kept (and counted here), the rest waits for the next run.
   */
  stoppedAtDeadline: boolean;
  creditsBefore: number | null;
  creditLimit: number | null;
  creditCeiling: number | null;
  /** Credits before plus this run's downloads (planned ones in a dry run), at 1 GB per credit. */
  creditsAfterEstimate: number | null;
  /** Why nothing was pruned although --prune was on, when a safety rule stopped it. */
  pruneRefused: string | null;
  /** The days retired originals and restore points are kept, as this run applied them (null: no catalog committed). */
  historyDays?: number | null;
  /** Retired originals older than that, deleted by this run (docs/history.md, "Retention"). */
  historyDeleted?: number;
  /** Structured-metadata field definitions saved with this run (restore creates them), or null. */
  metadataFieldsSaved: number | null;
  /** Keys of the failure-log files in the destination: every failure, one JSON line each. */
  failureLogs: string[];
  /** The failures, up to MAX_LISTED_FAILURES (the count is exact; the logs have all). */
  failures: Failure[];
  /** Originals fetched through the download API (one Admin API call each), whatever became of the copy. */
  downloadApiTotal: number;
  /** Those originals with the reason, up to MAX_LISTED_FAILURES (the logs have all). */
  downloadApi: ApiDownload[];
  /** Keys of the download-API log files in the destination, one JSON line per asset. */
  downloadApiLogs: string[];
}

/** A new run id: the start time and 6 random hex digits (sortable, unique). */
export const newRunId = (now: Date): string => `${now.toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;

/** A run's state before its first page. */
export const initialState = (init: { runId: string; startedAt: string; slot: 'a' | 'b'; listingComplete: boolean; staleUploadsAborted: number }): RunState => ({
  ...init,
  listingIndex: 0,
  pageNo: 0,
  failureLogs: 0,
  steps: 0,
  listedByType: {},
  catalogEntries: 0,
  counters: emptyCounters(),
  plannedCopies: 0,
  plannedBytes: 0,
  plannedS3Requests: 0,
  downloadedBytes: 0,
  budgetExhausted: false,
  remainingToCopy: 0,
  remainingBytes: 0,
});

/**
 * The short id of a settled asset in a checkpoint: 60 bits of the key's sha256, base64url (10
 * characters). A listed asset is checked against the done set and `ahead` (at most ~2,000 ids
 * between them), so a collision is below 1e-12 per page and ~2e-9 per run of 1,000,000 assets.
 * Its effect: the asset is skipped for that run (no copy, no catalog entry), still marked seen, so
 * its backup is neither pruned nor counted missing; the next run plans it as usual.
 */
export const settledId = (key: string): string => createHash('sha256').update(key).digest('base64url').slice(0, 10);

/**
 * The id of an asset in `ahead`: its asset_id's short hash (the asset_id stays when the public_id
 * changes, https://cloudinary.com/documentation/ts_asset_id_vs_public_id), else its key's. A held
 * page is listed again by a later invocation: an asset renamed in between is still the one
 * recorded, and neither recorded nor copied a second time.
 */
export const aheadId = (assetId: string, key: string): string => (assetId ? settledId(`asset_id:${assetId}`) : settledId(key));
