import type { Catalog, CatalogEntry, CatalogPointer, Slot } from '../store/catalog.ts';
import { pageBody, pageHash, slotOfPage } from '../store/catalog.ts';
import type { RunState } from './run-state.ts';

/**
 * Entries per catalog page: a page closes at the first listing page that brings it to this many
 * (so a page holds 10,000–10,499 entries of 500-asset listing pages, ~3–5 MB). Every run closes
 * pages at the same places when the listing is the same, which is what lets an unchanged page be
 * referenced instead of written again.
 */
export const PAGE_ENTRIES = 10_000;

const other = (s: Slot): Slot => (s === 'a' ? 'b' : 'a');

/**
 * The catalog pages one run writes (issue 14: a no-change night should cost ~1 S3 request per
 * 1,000 assets, and the catalog was most of it). Entries gather in memory; a page closes at
 * PAGE_ENTRIES. A closed page whose bytes equal the previous catalog's page of the same number
 * (pageHash) is *referenced* where it is — no request; any other page n is written into the
 * slot that does not hold the previous catalog's page n, so no file the current catalog names is
 * ever written before this run commits.
 *
 * A durable run also ends every step with `persist`: the entries of the page not yet closed are
 * written as a tentative file (at the place the closed page will take) and the checkpoint counts
 * them (`openEntries`), so a later invocation, which has lost this process's memory, reads them
 * back (`sync`). A checkpoint thus records only entries that are in S3; entries gathered after it
 * are gathered again by the step that repeats the work.
 */
export class CatalogPages {
  private pending: CatalogEntry[] = [];
  /** The run and page the pending entries belong to (undefined: nothing known in this process). */
  private base: { runId: string; pageNo: number } | undefined;
  private previousPtr: Promise<CatalogPointer | undefined> | undefined;
  /** The last state this object returned: the pending entries are exactly what it records. */
  private last: RunState | undefined;

  constructor(
    private readonly catalog: Catalog,
    private readonly pageEntries = PAGE_ENTRIES,
    /** Called before every page write; throws to stop it (RunLease.assertHeld: a run that lost its lease). */
    private readonly beforeWrite: () => void = () => undefined,
  ) {}

  /** The previous catalog's pointer (read once per process; no run commits while this one holds the lease). */
  previous(): Promise<CatalogPointer | undefined> {
    return (this.previousPtr ??= this.catalog.pointer());
  }

  /**
   * Reads the pointer now (a run's start, once it holds the lease) and keeps it for previous():
   * the start's read and the first page's were two GetObjects of the same object, with no commit
   * possible between them (issue 14: the fixed requests of a no-change night).
   */
  readPrevious(): Promise<CatalogPointer | undefined> {
    this.previousPtr = this.catalog.pointer();
    return this.previousPtr;
  }

  /** Entries gathered for the page not yet closed. */
  get open(): readonly CatalogEntry[] {
    return this.pending;
  }

  /** Where page `n` of this run goes when written: the slot not holding the previous catalog's page n. */
  private async slotFor(state: RunState, n: number): Promise<Slot> {
    const prev = await this.previous();
    return prev && n < prev.pages ? other(slotOfPage(prev, n)) : state.slot;
  }

  /**
   * Makes the pending entries those the checkpoint `state` counts, unless `state` is the one this
   * object last returned (a run going on from its own latest state): after a step that failed and
   * is run again in this process, the entries it gathered are dropped; in a new process, the
   * tentative page is read back (its first `openEntries` lines: a later step may have closed the
   * page into the same file before failing, and a page only ever grows at its end).
   */
  async sync(state: RunState): Promise<void> {
    if (state === this.last) return;
    const open = state.openEntries ?? 0;
    if (this.base?.runId === state.runId && this.base.pageNo === state.pageNo && this.pending.length >= open) {
      this.pending.length = open;
      this.last = state;
      return;
    }
    // Read into a new list and adopt it only once whole: a read that fails leaves this object
    // knowing nothing, so a retry reads again instead of going on with an empty page.
    const read: CatalogEntry[] = [];
    if (open > 0) for await (const e of this.catalog.readPage(await this.slotFor(state, state.pageNo), state.pageNo, open)) read.push(e);
    if (read.length < open) throw new Error(`catalog page ${state.pageNo} holds ${read.length} entries, the checkpoint counts ${open}`);
    this.pending = read;
    this.base = { runId: state.runId, pageNo: state.pageNo };
    this.last = state;
  }

  /**
   * Adds entries; closes the page when it is full (or `close`). Returns the state that records
   * them. All or nothing: when closing fails, the entries are taken out again, so what is pending
   * always matches the last state returned (a step's end may still persist it).
   */
  async add(state: RunState, entries: readonly CatalogEntry[], close = false): Promise<RunState> {
    this.base ??= { runId: state.runId, pageNo: state.pageNo };
    const before = this.pending.length;
    for (const e of entries) this.pending.push(e);
    // A new object even when nothing closes: `last` must name the pending entries exactly, and a
    // caller that retries with the state it started from (a finish run again) must not match it.
    if (this.pending.length < this.pageEntries && !(close && this.pending.length > 0)) return (this.last = { ...state });
    try {
      return (this.last = await this.closePage(state));
    } catch (err) {
      this.pending.length = before;
      throw err;
    }
  }

  /** Closes the pending entries as page `state.pageNo`: referenced when unchanged, written otherwise. */
  private async closePage(state: RunState): Promise<RunState> {
    const n = state.pageNo;
    const body = pageBody(this.pending);
    const hash = pageHash(body);
    const prev = await this.previous();
    let slot: Slot;
    if (prev && n < prev.pages && prev.hashes?.[n] === hash) slot = slotOfPage(prev, n);
    else {
      slot = await this.slotFor(state, n);
      this.beforeWrite();
      await this.catalog.writePage(slot, n, body);
    }
    const entries = this.pending.length;
    this.pending = [];
    this.base = { runId: state.runId, pageNo: n + 1 };
    const { openEntries: _open, ...rest } = state;
    return { ...rest, pageNo: n + 1, pageSlots: `${state.pageSlots ?? ''}${slot}`, pageHashes: [...(state.pageHashes ?? []), hash], catalogEntries: state.catalogEntries + entries };
  }

  /**
   * A durable step's end: writes the entries of the open page as its tentative file when the
   * checkpoint does not already count them all. One request per step at most, none when the
   * step closed its page on a listing-page boundary.
   */
  async persist(state: RunState): Promise<RunState> {
    if (this.pending.length === (state.openEntries ?? 0)) return state;
    this.beforeWrite();
    await this.catalog.writePage(await this.slotFor(state, state.pageNo), state.pageNo, this.pending);
    return (this.last = { ...state, openEntries: this.pending.length });
  }

  /** The pointer that makes this run's pages the current catalog (every page closed). */
  pointerOf(state: RunState, completedAt: string): CatalogPointer {
    const layout = state.pageSlots ?? state.slot.repeat(state.pageNo);
    return {
      format: 2,
      slot: state.slot,
      runId: state.runId,
      completedAt,
      pages: state.pageNo,
      entries: state.catalogEntries,
      layout,
      ...(state.pageHashes && state.pageHashes.length === state.pageNo ? { hashes: state.pageHashes } : {}),
    };
  }
}
