import { endsPage, pageBounds } from '../core/page-bounds.ts';
import type { PageBounds } from '../core/page-bounds.ts';
import type { Catalog, CatalogEntry, CatalogPointer } from '../store/catalog.ts';
import { CATALOG_FORMAT, pageBody, pageName } from '../store/catalog.ts';
import { keptPoint } from '../store/history.ts';
import type { RunState } from './run-state.ts';

/** Entries per catalog page on average (see pageBounds: 2,500 to 40,000, ~3–5 MB at 10,000). */
export const PAGE_ENTRIES = 10_000;

/** Room for one listing page's positions in an entry's place (a listing page holds at most 500). */
const ORD_PER_PAGE = 1_000_000;

/** The place of an entry carried from the previous catalog: after every listed entry. */
export const CARRIED_ORD = 2 ** 52;

/** An entry and its place in the catalog's order (see entryOrd). */
export interface OrderedEntry {
  readonly ord: number;
  readonly entry: CatalogEntry;
}

/**
 * The place of the entry of the `position`-th asset of the `listingPage`-th listing page a run
 * passed: listing order, whatever order the copies ended in (docs/history.md, "Order").
 */
export const entryOrd = (listingPage: number, position: number): number => listingPage * ORD_PER_PAGE + position;

/** Entries placed below this are final: every listing page before the state's cursor is finished. */
const frontierOf = (state: RunState): number => (state.listingComplete ? Infinity : (state.listingPages ?? 0) * ORD_PER_PAGE);

/** One line of a tentative file: the place and the entry. */
interface OpenLine {
  readonly o: number;
  readonly e: CatalogEntry;
}

/**
 * The catalog pages one run writes (docs/history.md). Entries arrive as listing pages end, in
 * any order within a page and sometimes ahead of an unfinished page; each carries its place
 * (entryOrd). Once final, entries are sorted by place, and pages are cut from them where a key's
 * hash says (pageBounds, endsPage). A page is named by the hash of its bytes: a page of the
 * previous restore point is not written again (no request), any other is written under its own
 * name, which no other bytes ever take, so no file a restore point names is ever rewritten.
 *
 * A durable run also ends every step with `persist`: the entries not yet in a closed page are
 * written, in the order they arrived, to the tentative file of the page not yet closed, and the
 * checkpoint counts them (`openEntries`), so a later invocation reads them back (`sync`). A
 * checkpoint thus records only entries that are in S3; entries gathered after it are gathered
 * again by the step that repeats the work.
 */
export class CatalogPages {
  /** Entries not in a closed page, in arrival order: the tentative file holds its first `openEntries`. */
  private log: OrderedEntry[] = [];
  /** The final ones among them, sorted by place. */
  private ready: OrderedEntry[] = [];
  /** The others: their listing page is not finished. */
  private waiting: OrderedEntry[] = [];
  /** Ready entries already checked for a boundary (none found). */
  private scanned = 0;
  /** The run and page the log belongs to (undefined: nothing known in this process). */
  private base: { runId: string; pageNo: number } | undefined;
  private previousPtr: Promise<CatalogPointer | undefined> | undefined;
  /** The last state this object returned: the log is exactly what it records. */
  private last: RunState | undefined;
  private readonly bounds: PageBounds;

  constructor(
    private readonly catalog: Catalog,
    averageEntries = PAGE_ENTRIES,
    /** Called before every page write; throws to stop it (RunLease.assertHeld: a run that lost its lease). */
    private readonly beforeWrite: () => void = () => undefined,
  ) {
    this.bounds = pageBounds(averageEntries);
  }

  /** The largest page: a durable step opens no listing page once this many entries are open. */
  get maxEntries(): number {
    return this.bounds.max;
  }

  /** The previous catalog's pointer (read once per process; no run commits while this one holds the lease). */
  previous(): Promise<CatalogPointer | undefined> {
    return (this.previousPtr ??= this.catalog.pointer());
  }

  /** Reads the pointer now (a run's start, once it holds the lease) and keeps it for previous(). */
  readPrevious(): Promise<CatalogPointer | undefined> {
    this.previousPtr = this.catalog.pointer();
    return this.previousPtr;
  }

  /** Entries gathered and not yet in a closed page. */
  get open(): readonly CatalogEntry[] {
    return this.log.map((o) => o.entry);
  }

  /** How many entries are not yet in a closed page. */
  get openCount(): number {
    return this.log.length;
  }

  /** Moves the waiting entries placed below `frontier` to the ready ones, in place order. */
  private settle(frontier: number): void {
    if (this.waiting.length === 0) return;
    const now = this.waiting.filter((o) => o.ord < frontier);
    if (now.length === 0) return;
    this.waiting = this.waiting.filter((o) => o.ord >= frontier);
    // Stable: entries carried from the previous catalog share one place and keep their order.
    now.sort((a, b) => a.ord - b.ord);
    for (const o of now) this.ready.push(o);
  }

  /** Classifies the log again from scratch (after a read-back or a failed close). */
  private rebuild(state: RunState): void {
    this.ready = [];
    this.waiting = [...this.log];
    this.scanned = 0;
    this.settle(frontierOf(state));
  }

  /**
   * Makes the log the entries the checkpoint `state` counts, unless `state` is the one this
   * object last returned: after a step that failed and is run again in this process, the entries
   * it gathered are dropped; in a new process, the tentative file is read back (its first
   * `openEntries` lines: the log only ever grows at its end until a page closes, and a closed
   * page moves the leftovers to the next page's file).
   */
  async sync(state: RunState): Promise<void> {
    if (state === this.last) return;
    const open = state.openEntries ?? 0;
    if (this.base?.runId === state.runId && this.base.pageNo === state.pageNo && this.log.length >= open) {
      this.log.length = open;
      this.rebuild(state);
      this.last = state;
      return;
    }
    // Read into a new list and adopt it only once whole: a read that fails leaves this object
    // knowing nothing, so a retry reads again instead of going on with an empty page.
    const read: OrderedEntry[] = [];
    if (open > 0) for await (const l of this.catalog.readFile<OpenLine>(this.catalog.openKey(state.runId, state.pageNo), open)) read.push({ ord: l.o, entry: l.e });
    if (read.length < open) throw new Error(`catalog page ${state.pageNo} holds ${read.length} entries, the checkpoint counts ${open}`);
    this.log = read;
    this.rebuild(state);
    this.base = { runId: state.runId, pageNo: state.pageNo };
    this.last = state;
  }

  /** The sizes of the pages to close now: boundaries among the ready entries, and the rest when `close`. */
  private cuts(close: boolean): number[] {
    const out: number[] = [];
    let start = 0;
    for (let i = this.scanned; i < this.ready.length; i += 1) {
      if (endsPage(this.bounds, (this.ready[i] as OrderedEntry).entry.key, i - start + 1)) {
        out.push(i - start + 1);
        start = i + 1;
      }
    }
    if (close && start < this.ready.length) out.push(this.ready.length - start);
    if (out.length === 0) this.scanned = this.ready.length;
    return out;
  }

  /**
   * Adds entries; closes the pages their boundaries end (and, with `close`, every final entry
   * left). Returns the state that records them. All or nothing: when closing fails, the entries
   * are taken out again, so the log always matches the last state returned.
   */
  async add(state: RunState, entries: readonly OrderedEntry[], close = false): Promise<RunState> {
    this.base ??= { runId: state.runId, pageNo: state.pageNo };
    const before = this.log.length;
    for (const o of entries) {
      this.log.push(o);
      this.waiting.push(o);
    }
    this.settle(frontierOf(state));
    const cuts = this.cuts(close);
    // A new object even when nothing closes: `last` must name the log exactly, and a caller that
    // retries with the state it started from (a finish run again) must not match it.
    if (cuts.length === 0) return (this.last = { ...state });
    try {
      return (this.last = await this.closePages(state, cuts));
    } catch (err) {
      this.log.length = before;
      this.rebuild(state);
      throw err;
    }
  }

  /** Closes the first ready entries as pages of the given sizes: each written unless the previous catalog has it. */
  private async closePages(state: RunState, sizes: readonly number[]): Promise<RunState> {
    const prev = await this.previous();
    const known = new Set(prev?.format === 3 ? prev.hashes : []);
    const names: string[] = [];
    let taken = 0;
    // Every page is written before anything changes here: a page no manifest names is harmless.
    for (const size of sizes) {
      const body = pageBody(this.ready.slice(taken, taken + size).map((o) => o.entry));
      const name = pageName(body);
      if (!known.has(name)) {
        this.beforeWrite();
        await this.catalog.writeFile(this.catalog.namedPageKey(name), body);
        known.add(name);
      }
      names.push(name);
      taken += size;
    }
    const closed = new Set(this.ready.splice(0, taken));
    this.log = this.log.filter((o) => !closed.has(o));
    this.scanned = this.ready.length;
    const pageNo = state.pageNo + sizes.length;
    this.base = { runId: state.runId, pageNo };
    const { openEntries: _open, ...rest } = state;
    return { ...rest, pageNo, pageHashes: [...(state.pageHashes ?? []), ...names], catalogEntries: state.catalogEntries + taken };
  }

  /**
   * A durable step's end: writes the entries not yet in a closed page as the tentative file of
   * the page not yet closed, when the checkpoint does not already count them all. One request
   * per step at most, none when nothing is open.
   */
  async persist(state: RunState): Promise<RunState> {
    if (this.log.length === (state.openEntries ?? 0)) return state;
    this.beforeWrite();
    const lines = this.log.map((o) => JSON.stringify({ o: o.ord, e: o.entry } satisfies OpenLine));
    await this.catalog.writeFile(this.catalog.openKey(state.runId, state.pageNo), Buffer.from(`${lines.join('\n')}\n`, 'utf8'));
    return (this.last = { ...state, openEntries: this.log.length });
  }

  /**
   * The format-3 pointer that makes this run's pages the newest restore point (every page
   * closed), listing the earlier restore points still within `historyDays`, and recording it.
   */
  async pointerOf(state: RunState, now: Date, historyDays: number): Promise<CatalogPointer> {
    const prev = await this.previous();
    const completedAt = now.toISOString();
    return {
      format: CATALOG_FORMAT,
      runId: state.runId,
      completedAt,
      pages: state.pageNo,
      entries: state.catalogEntries,
      hashes: state.pageHashes ?? [],
      points: [{ runId: state.runId, completedAt }, ...(prev?.points ?? []).filter((p) => keptPoint(p.completedAt, historyDays, now))],
      historyDays,
    };
  }
}
