import type { ApiDownload } from '../core/download-route.ts';
import type { PlannedAsset } from '../core/plan.ts';
import type { Source } from '../ports/storage.ts';
import type { ProcessId } from '../store/lease.ts';
import type { PruneLimit } from '../core/prune-limit.ts';
import type { DiffMode, Quota, RunState } from './run-state.ts';

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
  /** Plan only: nothing is downloaded or written, no lease is taken. */
  readonly dryRun: boolean;
  /** Delete backups of assets no longer in Cloudinary, after a complete listing only. */
  readonly prune: boolean;
  /**
   * Retire a replaced or pruned original into `_history/` first (docs/history.md).
   * @default true
   */
  readonly history?: boolean;
  /** Days retired originals and restore points are kept (see effectiveHistoryDays). @default 90 */
  readonly historyDays?: number;
  /** Whether historyDays was given explicitly (`--keep-history`, the stack): it may then shorten the recorded retention. */
  readonly historyDaysExplicit?: boolean;
  /** Most backups one run may prune (see prunePlan). @default 10% of the backed-up assets */
  readonly maxPrune?: PruneLimit;
  /** A download with no byte for this long is abandoned. @default 60000 */
  readonly idleTimeoutMs?: number;
  /** Tries per asset. @default 3 */
  readonly copyAttempts?: number;
  /** Pause before a retry, multiplied by the attempt number. @default 500 */
  readonly retryDelayMs?: number;
  /** Bytes this run may download; copies that would pass it wait for the next run. */
  readonly maxBytes?: number;
  /**
   * Most bytes a run reads back from the destination to hash objects catalogued without a sha256.
   * @default the byte budget, at least 5 GiB; no limit without a budget (see hashLimit)
   */
  readonly hashMaxBytes?: number;
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
  readonly quota?: Quota;
  /** Who takes the lease, for the message another run shows. @default the process and host */
  readonly holder?: string;
  /** How long the lease lasts without renewal. @default LEASE_LIFETIME_MS (2 hours, the durable run's) */
  readonly leaseLifetimeMs?: number;
  /** How often `run()` (the command line) renews its lease on a timer. @default CLI_LEASE_RENEW_MS */
  readonly leaseRenewMs?: number;
  /** A lease held under exactly `holder` is this run's own (a durable start step tried again). @default false */
  readonly leaseReclaimable?: boolean;
  /** The process that holds the lease, recorded so that a killed run on this machine is taken over at once. */
  readonly leaseOwner?: ProcessId;
}

/** Things a front end may want to show; every callback is optional. */
export interface EngineObserver {
  planned?(items: readonly PlannedAsset[]): void;
  /** A copy admitted within the budget (in a dry run: one line of the printed plan). */
  admitted?(item: PlannedAsset): void;
  copied?(item: PlannedAsset, sha256: string): void;
  failed?(item: PlannedAsset, error: string): void;
  /** An unchanged object without a recorded sha256 was hashed from the destination. */
  hashed?(item: PlannedAsset, sha256: string): void;
  bytes?(n: number): void;
  deferred?(item: PlannedAsset): void;
  missing?(key: string): void;
  pruned?(key: string): void;
}

/** A Source that counts its Admin API calls (see GuardedSource). */
export interface CountingSource extends Source {
  readonly apiCalls: number;
  /** The structured-metadata field definitions (one Admin API call), when the source has them. */
  readMetadataFields?(): Promise<unknown[] | undefined>;
  readonly rateLimit?: { readonly remaining: number } | undefined;
  /** The originals fetched through the download API since the last call, with the reason (see GuardedSource). */
  takeApiDownloads?(): ApiDownload[];
}

/** How far one call of BackupEngine.step goes. */
export interface StepScope {
  /** Listing pages it may open. @default 1 */
  readonly pages?: number;
  /**
   * A durable step: no page opens once the open pages would fill the catalog page (nor after one
   * closed), so the step ends at a catalog page boundary. @default false
   */
  readonly untilCatalogPage?: boolean;
  /** Gets each recorded state: a step that fails after recording pages keeps them. */
  readonly onState?: (s: RunState) => void;
}
