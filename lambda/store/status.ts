import type { RunReport } from '../backup/engine.ts';
import { RESOURCE_TYPES } from '../core/asset.ts';
import type { Failure } from '../core/report.ts';
import type { Destination } from '../ports/storage.ts';
import { Catalog } from './catalog.ts';
import type { RestorePointRef } from './catalog.ts';
import { viewLease } from './lease-view.ts';
import type { LeaseView } from './lease-view.ts';
import { latestReports } from './reports.ts';

/** One run as `status` shows it. */
export interface RunRow {
  readonly runId: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationSeconds: number;
  readonly listed: number;
  readonly copied: number;
  readonly bytesCopied: number;
  readonly failed: number;
  /** Copies the byte budget left for a later run. */
  readonly deferred: number;
  readonly creditsBefore: number | null;
  readonly creditsAfter: number | null;
  readonly listingComplete: boolean;
  readonly cancelled: boolean;
  /** The nightly run stopped ahead of its durable execution timeout (reports before it say nothing: false). */
  readonly stoppedAtDeadline: boolean;
}

/** Copies and bytes of one UTC day (the chart's bars). */
export interface NightRow {
  readonly date: string;
  readonly runs: number;
  readonly copied: number;
  readonly bytesCopied: number;
}

/** What the backup holds of one resource type, from the current catalog. */
export interface TypeTotal {
  readonly resourceType: string;
  readonly assets: number;
  readonly bytes: number;
  /** Entries whose newest version could not be copied yet. */
  readonly stale: number;
  /** Assets deleted from Cloudinary whose backup is kept. */
  readonly deleted: number;
}

/** Everything `status` prints (`--json` is exactly this object). */
export interface BackupStatus {
  readonly target: string;
  readonly generatedAt: string;
  readonly catalog: { readonly runId: string; readonly completedAt: string; readonly entries: number } | null;
  /**
   * The restore points `--as-of` can read, newest first (docs/history.md): only those the
   * pointer lists, whose manifest and pages were written before it. A catalog written by an
   * older version (format 1 or 2) holds none.
   */
  readonly restorePoints: readonly RestorePointRef[];
  readonly runs: readonly RunRow[];
  readonly nights: readonly NightRow[];
  readonly totals: readonly TypeTotal[];
  readonly totalAssets: number;
  readonly totalBytes: number;
  /** What the last run left for a later night (budget), and catalog entries still stale. */
  readonly waiting: { readonly assets: number; readonly bytes: number; readonly staleEntries: number };
  readonly lease: LeaseView;
  readonly lastRun: { readonly runId: string; readonly failed: number; readonly failures: readonly Failure[] } | null;
}

const rowOf = (r: RunReport): RunRow => ({
  runId: r.runId,
  startedAt: r.startedAt,
  finishedAt: r.finishedAt,
  durationSeconds: Math.max(0, Math.round((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000)),
  listed: r.listed,
  copied: r.copied,
  bytesCopied: r.bytesCopied,
  failed: r.failed,
  deferred: r.budgetExhausted ? r.remainingToCopy : 0,
  creditsBefore: r.creditsBefore ?? null,
  creditsAfter: r.creditsAfterEstimate ?? null,
  listingComplete: r.listingComplete,
  cancelled: Boolean(r.cancelled),
  stoppedAtDeadline: Boolean(r.stoppedAtDeadline),
});

/** Groups runs by the UTC day they started (a night's run may resume after midnight). */
export const nightsOf = (runs: readonly RunRow[]): NightRow[] => {
  const by = new Map<string, { runs: number; copied: number; bytesCopied: number }>();
  for (const r of runs) {
    const date = r.startedAt.slice(0, 10);
    const n = by.get(date) ?? { runs: 0, copied: 0, bytesCopied: 0 };
    n.runs += 1;
    n.copied += r.copied;
    n.bytesCopied += r.bytesCopied;
    by.set(date, n);
  }
  return [...by.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([date, n]) => ({ date, ...n }));
};

const catalogTotals = async (catalog: Catalog): Promise<TypeTotal[]> => {
  const by = new Map<string, { assets: number; bytes: number; stale: number; deleted: number }>();
  for (const t of RESOURCE_TYPES) by.set(t, { assets: 0, bytes: 0, stale: 0, deleted: 0 });
  for await (const e of catalog.entries()) {
    const t = by.get(e.resourceType) ?? { assets: 0, bytes: 0, stale: 0, deleted: 0 };
    t.assets += 1;
    t.bytes += e.bytes;
    if (e.state === 'stale') t.stale += 1;
    if (e.state === 'deleted') t.deleted += 1;
    by.set(e.resourceType, t);
  }
  return [...by.entries()].map(([resourceType, t]) => ({ resourceType, ...t }));
};

/**
 * Reads a backup's state: the newest `runs` reports, the current catalog's totals by resource
 * type (one pass over the catalog), the lease. Dry runs write no report, so none is shown.
 */
export const collectStatus = async (destination: Destination, prefix: string, target: string, runs: number, now = new Date()): Promise<BackupStatus> => {
  const catalog = new Catalog(destination, prefix);
  const [reports, pointer, lease] = await Promise.all([latestReports(destination, prefix, runs), catalog.pointer(), viewLease(destination, prefix, now)]);
  const totals = await catalogTotals(catalog);
  const rows = reports.map(rowOf);
  const last = reports[reports.length - 1];
  return {
    target,
    generatedAt: now.toISOString(),
    catalog: pointer ? { runId: pointer.runId, completedAt: pointer.completedAt, entries: pointer.entries } : null,
    restorePoints: (pointer?.points ?? []).map(({ runId, completedAt }) => ({ runId, completedAt })),
    runs: rows,
    nights: nightsOf(rows),
    totals,
    totalAssets: totals.reduce((s, t) => s + t.assets, 0),
    totalBytes: totals.reduce((s, t) => s + t.bytes, 0),
    waiting: {
      assets: last?.budgetExhausted ? last.remainingToCopy : 0,
      bytes: last?.budgetExhausted ? last.remainingBytes : 0,
      staleEntries: totals.reduce((s, t) => s + t.stale, 0),
    },
    lease,
    lastRun: last ? { runId: last.runId, failed: last.failed, failures: last.failures } : null,
  };
};
