import { s3RequestsFor } from '../core/part-size.ts';
import type { PlannedAsset, Recorded } from '../core/plan.ts';
import type { Failure, RunCounters } from '../core/report.ts';
import { addCounters } from '../core/report.ts';
import type { CatalogEntry } from '../store/catalog.ts';
import { entryFor } from '../store/catalog.ts';
import type { CopyOutcome } from './copy-page.ts';
import type { RunState } from './run-state.ts';
import { aheadId, settledId } from './run-state.ts';

/** What the previous catalog says of a key: the version written and the bytes' sha256. */
export interface PreviousEntry extends Recorded {
  readonly sha256?: string;
}

/** An asset settled without a copy. */
export interface SettledItem {
  readonly item: PlannedAsset;
  readonly outcome: 'unchanged' | 'skipped' | 'deferred';
  /** For unchanged assets: the sha256 recorded for this version, carried over. */
  readonly sha256?: string;
}

/** A page split into what needs no copy and the copies to make. */
export interface Admission {
  readonly settled: readonly SettledItem[];
  /** Copies to make, in order: cut-off copies first, then newest first; all within the budget. */
  readonly copies: readonly PlannedAsset[];
  /**
   * Unchanged objects with no sha256 recorded for their version, to hash from the destination
   * before they are catalogued as current (within the run's hash limit; see hashLimit).
   */
  readonly hashes: readonly PlannedAsset[];
}

/** How much a page may hash from the destination: the run's limit and what was taken of it. */
export interface HashAllowance {
  /** Undefined: no limit. */
  readonly limit: number | undefined;
  /** Bytes hashed (or admitted to be) by this run so far. */
  readonly used: number;
}

/**
 * Splits a planned page: assets settled by an earlier step (of this page, or `ahead` of it) are left out; unchanged
 * and remote ones need no copy; the copies are ordered (newest first, so a limited budget
 * protects recent uploads first) and admitted while the byte budget allows, the rest deferred
 * to a later run.
 */
export const admit = (
  state: RunState,
  planned: readonly PlannedAsset[],
  budget: number | undefined,
  previous: (key: string) => PreviousEntry | undefined,
  /** Absent: nothing is hashed (what is unrecorded stays so). */
  allowance?: HashAllowance,
): Admission => {
  const done = new Set(state.page?.done ?? []);
  const ahead = new Set(state.ahead?.done ?? []);
  const settled: SettledItem[] = [];
  const toCopy: PlannedAsset[] = [];
  const hashes: PlannedAsset[] = [];
  let hashing = allowance?.used ?? 0;
  for (const item of planned) {
    // Hashed only when there is something to find (see idsOf).
    if ((done.size > 0 && done.has(settledId(item.key))) || (ahead.size > 0 && ahead.has(aheadIdOf(item)))) continue;
    if (item.decision.action === 'skip') settled.push({ item, outcome: 'skipped' });
    else if (item.decision.action === 'unchanged') {
      const prev = previous(item.key);
      const sha256 = prev?.version === item.asset.version ? prev.sha256 : undefined;
      if (sha256 === undefined && allowance !== undefined && (allowance.limit === undefined || hashing + item.asset.bytes <= allowance.limit)) {
        hashing += item.asset.bytes;
        hashes.push(item);
      } else settled.push({ item, outcome: 'unchanged', ...(sha256 ? { sha256 } : {}) });
    } else toCopy.push(item);
  }
  const wasCut = cutTest(state);
  const rank = (p: PlannedAsset): number => (wasCut(p) ? 1 : 0);
  toCopy.sort((a, b) => rank(b) - rank(a) || b.asset.version - a.asset.version);
  const copies: PlannedAsset[] = [];
  let charged = state.plannedBytes;
  for (const item of toCopy) {
    if (budget !== undefined && charged + item.asset.bytes > budget) settled.push({ item, outcome: 'deferred' });
    else {
      charged += item.asset.bytes;
      copies.push(item);
    }
  }
  return { settled, copies, hashes };
};

/** The remedy for an asset too large to copy within one Lambda invocation. */
export const TOO_LARGE =
  'too large to copy within one Lambda invocation (15 minutes): it was cut off twice. Back it up from a machine with ' +
  '`npx cloudinary-backup backup --to s3://BUCKET/PREFIX` (same bucket and prefix); the nightly run then finds it current';

/** Everything one step did to its page, for afterPage. */
export interface PageWork {
  readonly admission: Admission;
  /** One per copy, then one per hash (same orders); in a dry run, none. */
  readonly outcomes: readonly CopyOutcome[];
  readonly dryRun: boolean;
  readonly nextCursor: string | undefined;
  readonly listings: number;
  readonly apiCalls: number;
  readonly downloadedBytes: number;
  /** Bytes charged to the budget for retries. */
  readonly retryBytes: number;
  readonly bytesPerMs: number | undefined;
  readonly singlePutMax?: number;
  /**
   * The ids (aheadId) of every asset the page listed: taken out of `ahead` once it is passed.
   * Asked for only when there is an `ahead` (a sha256 per asset: see pastPage).
   */
  readonly ids?: () => readonly string[];
  /**
   * A page behind an unfinished one in the same step: its work is recorded, its position is not
   * (the cursor stays on the unfinished page); its settled ids go to `ahead`.
   */
  readonly held?: boolean;
}

/** What a step produced besides the new state: catalog entries and failures to write. */
export interface PageResult {
  readonly state: RunState;
  readonly entries: CatalogEntry[];
  readonly failures: Failure[];
  /** True when the page is not finished: the next step continues it. */
  readonly partial: boolean;
}

const failureOf = (p: PlannedAsset, error: string): Failure => ({ publicId: p.asset.publicId, resourceType: p.asset.resourceType, type: p.asset.type, error });

/** An asset's id in `ahead` (see aheadId). */
const aheadIdOf = (p: PlannedAsset): string => aheadId(p.asset.assetId, p.key);

/** Whether an asset was cut off once already, on the cursor's page (by key) or ahead of it (by aheadId). */
const cutTest = (state: RunState): ((p: PlannedAsset) => boolean) => {
  const page = new Set(state.page?.interrupted ?? []);
  const ahead = new Set(state.ahead?.interrupted ?? []);
  return (p) => (page.size > 0 && page.has(settledId(p.key))) || (ahead.size > 0 && ahead.has(aheadIdOf(p)));
};

/**
 * The outcome of one copy, with the twice-cut rule applied: too large once cut off again after a
 * cut on the cursor's page (`cutHere`), which the next step ranks first, so that second try was the
 * first copy of a fresh invocation (TimeBound.fresh). A cut on a held page (`ahead`) does not
 * count: there the copy ran beside the unfinished page's, and it is tried again.
 */
const finalOutcome = (cutHere: ReadonlySet<string>, item: PlannedAsset, o: CopyOutcome | undefined): CopyOutcome => {
  if (o?.kind === 'interrupted' && cutHere.has(settledId(item.key))) return { kind: 'failed', error: TOO_LARGE };
  return o ?? { kind: 'not-started' };
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The figures of a state that one page changes, as a mutable tally. */
type Tally = Mutable<Pick<RunState, 'plannedCopies' | 'plannedBytes' | 'plannedS3Requests' | 'remainingToCopy' | 'remainingBytes' | 'budgetExhausted'>> & {
  readonly counters: Mutable<RunCounters>;
  readonly listedByType: Record<string, number>;
  readonly entries: CatalogEntry[];
  readonly failures: Failure[];
  /** The assets settled (their ids are made only for a page left unfinished or held: see idsOf). */
  readonly done: PlannedAsset[];
  readonly cut: PlannedAsset[];
};

/**
 * The ids of settled (or cut) assets, by key (settledId) or by aheadId. A sha256 each: made only
 * for what a state records (an unfinished or held page), not for every asset of every page
 * (three hashes per asset were 9% of a 1M-asset no-change night's time, and their garbage).
 */
const idsOf = (items: readonly PlannedAsset[], by: 'key' | 'ahead'): string[] => items.map((p) => (by === 'key' ? settledId(p.key) : aheadIdOf(p)));

const listed = (t: Tally, p: PlannedAsset): void => {
  t.counters.listed += 1;
  t.listedByType[p.asset.resourceType] = (t.listedByType[p.asset.resourceType] ?? 0) + 1;
  t.done.push(p);
};

/** Counts an asset settled without a copy: unchanged, remote, or deferred by the budget. */
const tallySettled = (t: Tally, s: SettledItem): void => {
  listed(t, s.item);
  if (s.outcome === 'skipped') t.counters.skipped += 1;
  else if (s.outcome === 'unchanged') {
    t.counters.unchanged += 1;
    if (s.sha256 === undefined) t.counters.unhashed += 1;
    t.entries.push(entryFor(s.item.asset, s.item.key, 'current', s.sha256));
  } else {
    t.budgetExhausted = true;
    // Left for the next run, as an asset still processing is: so the report adds up to `listed`.
    t.counters.pending += 1;
    t.remainingToCopy += 1;
    t.remainingBytes += s.item.asset.bytes;
    t.entries.push(entryFor(s.item.asset, s.item.key, 'stale', undefined));
  }
};

/** Counts one copy by its outcome (undefined: planned only, in a dry run); unfinished ones stay open. */
const tallyCopy = (t: Tally, item: PlannedAsset, o: CopyOutcome | undefined, singlePutMax: number | undefined): void => {
  if (o?.kind === 'interrupted' || o?.kind === 'not-started') {
    if (o.kind === 'interrupted') t.cut.push(item);
    return;
  }
  listed(t, item);
  if (o?.kind === 'pending') {
    t.counters.pending += 1;
    t.entries.push(entryFor(item.asset, item.key, 'stale', undefined));
    return;
  }
  t.plannedCopies += 1;
  t.plannedBytes += item.asset.bytes;
  t.plannedS3Requests += s3RequestsFor(item.asset.bytes, singlePutMax);
  if (o?.kind === 'copied') {
    t.counters.copied += 1;
    t.counters.bytesCopied += item.asset.bytes;
    t.entries.push(entryFor(item.asset, item.key, 'current', o.sha256));
  } else if (o?.kind === 'failed') {
    t.counters.failed += 1;
    t.failures.push(failureOf(item, o.error));
    t.entries.push(entryFor(item.asset, item.key, 'stale', undefined));
  }
};

/**
 * Counts one object hashed from the destination: unchanged, with the sha256 read back (a read that
 * failed leaves it without one, counted unhashed). Unfinished ones stay open, as copies do.
 */
const tallyHash = (t: Tally, item: PlannedAsset, o: CopyOutcome | undefined): void => {
  if (o?.kind === 'interrupted' || o?.kind === 'not-started') return;
  listed(t, item);
  t.counters.unchanged += 1;
  if (o?.kind === 'copied') {
    t.counters.hashed += 1;
    t.counters.hashedBytes += item.asset.bytes;
  } else t.counters.unhashed += 1;
  t.entries.push(entryFor(item.asset, item.key, 'current', o?.kind === 'copied' ? o.sha256 : undefined));
};

/**
 * The state after a step's work on its page (a new object; `state` is not changed): counters,
 * budget and the page's progress. The page is finished when every asset is settled; otherwise
 * the cursor stays and the settled assets are remembered by id.
 */
export const afterPage = (state: RunState, work: PageWork): PageResult => {
  const { plannedCopies, plannedBytes, plannedS3Requests, remainingToCopy, remainingBytes, budgetExhausted } = state;
  const t: Tally = {
    ...{ plannedCopies, plannedBytes, plannedS3Requests, remainingToCopy, remainingBytes, budgetExhausted },
    counters: { ...addCounters(state.counters, { cloudinaryApiCalls: work.apiCalls }) },
    listedByType: { ...state.listedByType },
    entries: [],
    failures: [],
    done: [],
    cut: [],
  };
  for (const s of work.admission.settled) tallySettled(t, s);
  const cutHere = new Set(state.page?.interrupted ?? []);
  work.admission.copies.forEach((item, i) => tallyCopy(t, item, work.dryRun ? undefined : finalOutcome(cutHere, item, work.outcomes[i]), work.singlePutMax));
  const hashes = work.admission.hashes;
  hashes.forEach((item, i) => tallyHash(t, item, work.dryRun ? undefined : (work.outcomes[work.admission.copies.length + i] ?? { kind: 'not-started' })));
  const { entries, failures, done, cut, ...figures } = t;
  const partial = done.length < work.admission.settled.length + work.admission.copies.length + hashes.length;
  const { page: _p, cursor: _c, ...rest }: RunState = {
    ...state,
    ...figures,
    plannedBytes: figures.plannedBytes + work.retryBytes,
    downloadedBytes: state.downloadedBytes + work.downloadedBytes,
    steps: state.steps + 1,
    ...(work.bytesPerMs === undefined ? {} : { bytesPerMs: work.bytesPerMs }),
  };
  let next: RunState;
  if (work.held) {
    const { ahead } = state;
    next = { ...rest, ...(state.cursor ? { cursor: state.cursor } : {}), ...(state.page ? { page: state.page } : {}), ahead: { done: [...(ahead?.done ?? []), ...idsOf(done, 'ahead')], interrupted: [...new Set([...(ahead?.interrupted ?? []), ...idsOf(cut, 'ahead')])] } };
  } else if (partial) next = { ...rest, ...(state.cursor ? { cursor: state.cursor } : {}), page: { done: [...(state.page?.done ?? []), ...idsOf(done, 'key')], interrupted: idsOf(cut, 'key') } };
  else next = pastPage(rest, work.nextCursor, work.listings, work.ids);
  return { state: next, entries, failures, partial: partial || work.held === true };
};

/**
 * The state's position once its page is finished: the next page, or the next listing. The page's
 * ids (`passed`) leave `ahead`: a set that only ever holds assets of the pages still to come.
 */
export const pastPage = (state: RunState, nextCursor: string | undefined, listings: number, passed: () => readonly string[] = () => []): RunState => {
  const { page: _p, cursor: _c, ahead, ...rest } = state;
  const gone = new Set(ahead ? passed() : []);
  const left = ahead ? { done: ahead.done.filter((id) => !gone.has(id)), interrupted: ahead.interrupted.filter((id) => !gone.has(id)) } : undefined;
  const keep = left && left.done.length + left.interrupted.length > 0 ? { ahead: left } : {};
  const listingPages = (state.listingPages ?? 0) + 1;
  if (nextCursor) return { ...rest, ...keep, cursor: nextCursor, listingPages };
  return { ...rest, ...keep, listingIndex: state.listingIndex + 1, listingComplete: state.listingIndex + 1 >= listings, listingPages };
};
