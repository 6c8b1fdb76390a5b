import { isBackedUpType } from '../core/asset.ts';
import type { Listing } from '../core/asset.ts';
import { planPage } from '../core/plan.ts';
import type { PlannedAsset } from '../core/plan.ts';
import type { Destination, ListPage } from '../ports/storage.ts';
import type { LeaseToken } from '../store/lease.ts';
import { entryOrd } from './catalog-pages.ts';
import type { Spend } from './copy-asset.ts';
import type { CopyOutcome } from './copy-page.ts';
import { checkCursor } from './cursor-guard.ts';
import type { EngineObserver, EngineOptions, CountingSource } from './options.ts';
import { admit, afterPage, pastPage } from './page.ts';
import type { Admission, PageResult } from './page.ts';
import type { OpenedPage } from './pipeline.ts';
import { lookupFor, markSeen } from './prepare.ts';
import { recordLookups } from './adopt.ts';
import { hashLimit } from '../core/budget.ts';
import type { Prepared } from './prepare.ts';
import type { RunLease } from './run-lease.ts';
import { aheadId } from './run-state.ts';
import type { RunState } from './run-state.ts';

/**
 * The places of a listing page's entries: their listing position, whatever order their copies
 * end in (docs/history.md, "Order"). The table is made when first asked for.
 */
const placesOf = (listingPage: number, planned: readonly PlannedAsset[]): ((key: string) => number) => {
  let at: Map<string, number> | undefined;
  return (key) => {
    if (!at) {
      at = new Map();
      for (let i = planned.length - 1; i >= 0; i -= 1) at.set((planned[i] as PlannedAsset).key, i);
    }
    return entryOrd(listingPage, at.get(key) ?? planned.length);
  };
};

/** A page listed, planned and admitted, waiting for its copies to end (see closePage). */
export interface OpenPage extends OpenedPage {
  readonly planned: readonly PlannedAsset[];
  readonly admission: Admission;
  readonly nextCursor: string | undefined;
  readonly spend: Spend;
  readonly lease?: LeaseToken;
  /** The ids (aheadId) of every asset listed, made when first asked for: they leave `ahead` once the page is passed. */
  readonly ids: () => readonly string[];
  /** Catalog entries the page adds when every copy ends (all but remote types). */
  readonly entries: number;
  /** The items of `copies` that hash a stored object instead of copying (Admission.hashes). */
  readonly hashing: ReadonlySet<PlannedAsset>;
  /** The place in the catalog's order of the entry of a key listed on this page (entryOrd). */
  readonly ordOf: (key: string) => number;
}

/**
 * Bytes charged to the budget by every page open at once (the command line's pipeline): a later
 * page is admitted, and an earlier page's retry allowed, against what all of them spent.
 */
export interface Ledger {
  charged: number;
  /** Bytes the open pages admitted to hash from the destination (see hashLimit); absent: the state's. */
  hashed?: number;
}

/** A page's spend whose charges go to the shared ledger (its own downloads and retries stay its own). */
const ledgerSpend = (ledger: Ledger, admitted: number): Spend => {
  ledger.charged += admitted;
  return {
    downloaded: 0,
    retryBytes: 0,
    get charged() {
      return ledger.charged;
    },
    set charged(n: number) {
      ledger.charged = n;
    },
  };
};

/** What a PageRunner uses of its engine. */
export interface PageRunnerParts {
  readonly source: CountingSource;
  readonly destination: Destination;
  readonly options: EngineOptions;
  readonly observer: EngineObserver;
  readonly listings: readonly Listing[];
  readonly lease: RunLease;
  /** The previous catalog and the inventory, loaded once per process. */
  prepare(state: RunState): Promise<Prepared>;
}

/**
 * One listing page's work apart from its copies: `open` lists it (checking its next_cursor),
 * plans it against the destination and admits its copies within the budget; `close` turns the
 * copies' outcomes into the next state. The engine runs the copies between the two (one page
 * per durable step, or several pages at once on the command line, see pipeline.ts).
 */
export class PageRunner {
  /** Per listing: each next_cursor handed out in this process -> the cursor of its page. */
  private readonly cursors = new Map<string, Map<string, string>>();
  /** `steps` of the newest state this process recorded (see isRetry). */
  private recordedSteps = 0;

  constructor(private readonly parts: PageRunnerParts) {}

  /** Lists, plans and admits the page at `state`'s cursor (a dry run queues no copy). */
  async open(state: RunState, ledger?: Ledger): Promise<OpenPage> {
    const listing = this.parts.listings[state.listingIndex] as Listing;
    const lease = await this.parts.lease.renew(state.lease, false);
    // The previous catalog and inventory (S3) and the Cloudinary page at once: the first page of a
    // run waited for both one after the other (the fixed cost before the first byte).
    // Both are reads; prepare's error comes first, as when it ran first.
    const [prepared, page] = await Promise.allSettled([this.parts.prepare(state), this.listPage(state, listing)]);
    if (prepared.status === 'rejected') throw prepared.reason;
    if (page.status === 'rejected') throw page.reason;
    const p = prepared.value;
    const listed = page.value;
    // The keys to head first (head mode only: list mode reads the inventory, and each key made twice was garbage).
    const toHead = p.inventory ? [] : planPage(this.parts.options.prefix, listed.assets, () => undefined).filter((i) => i.decision.action !== 'skip').map((i) => i.key);
    const lookup = await lookupFor(p, this.parts.destination, this.parts.options.concurrency, toHead);
    const records = recordLookups(p.previous, p.copies, lookup);
    const planned = planPage(this.parts.options.prefix, listed.assets, lookup, records.recorded);
    this.parts.observer.planned?.(planned);
    const charged = ledger?.charged ?? state.plannedBytes;
    const budget = state.maxBytes ?? this.parts.options.maxBytes;
    const allowance = { limit: hashLimit(this.parts.options.hashMaxBytes, budget), used: ledger?.hashed ?? state.counters.hashedBytes ?? 0 };
    const admission = admit({ ...state, plannedBytes: charged }, planned, budget, records.previous, allowance);
    if (ledger) ledger.hashed = admission.hashes.reduce((n, i) => n + i.asset.bytes, allowance.used);
    for (const item of admission.copies) this.parts.observer.admitted?.(item);
    for (const s of admission.settled) if (s.outcome === 'deferred') this.parts.observer.deferred?.(s.item);
    const admitted = admission.copies.reduce((n, i) => n + i.asset.bytes, 0);
    const spend: Spend = ledger ? ledgerSpend(ledger, admitted) : { downloaded: 0, retryBytes: 0, charged: state.plannedBytes + admitted };
    let made: string[] | undefined;
    const ids = (): readonly string[] => (made ??= planned.map((i) => aheadId(i.asset.assetId, i.key)));
    const following = pastPage(state, listed.nextCursor, this.parts.listings.length, ids);
    const entries = admission.copies.length + admission.hashes.length + admission.settled.filter((x) => x.outcome !== 'skipped').length;
    const copies = this.parts.options.dryRun ? [] : [...admission.copies, ...admission.hashes];
    const ordOf = placesOf(state.listingPages ?? 0, planned);
    return { planned, admission, nextCursor: listed.nextCursor, spend, copies, hashing: new Set(admission.hashes), following, ids, entries, ordOf, ...(lease ? { lease } : {}) };
  }

  /**
   * An opened page once its copies ended: the new state, and the failures and catalog entries to
   * record (`held`: behind an unfinished page, see afterPage). Once they are recorded, `seen`.
   */
  close(state: RunState, page: OpenPage, outcomes: readonly CopyOutcome[], apiCalls: number, bytesPerMs: number | undefined, held = false): PageResult {
    return afterPage(page.lease ? { ...state, lease: page.lease } : state, {
      admission: page.admission,
      outcomes,
      dryRun: this.parts.options.dryRun,
      nextCursor: page.nextCursor,
      listings: this.parts.listings.length,
      // The listing and the signed downloads (Admin API calls too).
      apiCalls,
      downloadedBytes: page.spend.downloaded,
      retryBytes: page.spend.retryBytes,
      bytesPerMs,
      ids: page.ids,
      held,
      ...(this.parts.options.singlePutMax === undefined ? {} : { singlePutMax: this.parts.options.singlePutMax }),
    });
  }

  /**
   * Marks every asset of a page seen (not missing from Cloudinary), whatever became of its copy,
   * once `recorded` records the page; returns it. Only then: a page whose record failed is listed
   * again by the step that repeats the work, and its current assets must still be found in the
   * inventory, or each would look missing from the destination and be downloaded again.
   */
  async seen(page: OpenPage, recorded: RunState): Promise<RunState> {
    const p = await this.parts.prepare(recorded);
    for (const i of page.planned) if (isBackedUpType(i.asset)) markSeen(p, i.key);
    this.recordedSteps = recorded.steps;
    return recorded;
  }

  /**
   * Whether a step starts from a state older than one this process recorded: the durable
   * runtime running a failed step again from its checkpoint, in this process. What the failed try
   * marked seen is not recorded in `state`; the caller loads the inventory again.
   */
  isRetry(state: RunState): boolean {
    const retry = state.steps < this.recordedSteps;
    this.recordedSteps = state.steps;
    return retry;
  }

  /** Lists the page at the state's cursor and checks its next_cursor (see cursor-guard.ts). */
  private async listPage(state: RunState, listing: Listing): Promise<ListPage> {
    const page = await this.parts.source.listPage(listing.resourceType, listing.type, state.cursor);
    const name = `${listing.resourceType}/${listing.type}`;
    const seen = this.cursors.get(name) ?? new Map<string, string>();
    this.cursors.set(name, seen);
    checkCursor(name, state.cursor, page.nextCursor, seen);
    return page;
  }
}
