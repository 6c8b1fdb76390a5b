import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Asset } from '../core/asset.ts';
import { DestinationError } from '../core/errors.ts';
import { catalogRoot } from '../core/keys.ts';
import type { Destination } from '../ports/storage.ts';
import { readJson } from './read-json.ts';

/** Whether the backup holds the version of the asset an entry describes. */
export type EntryState =
  /** The object at `key` is this version (copied now or earlier). */
  | 'current'
  /** This version could not be copied this run; an older copy may be at `key`. */
  | 'stale'
  /** Deleted from Cloudinary; its backup is kept (see missingFromSource). */
  | 'deleted';

/**
 * What restore needs to bring one asset back, and what verify checks it against: the asset as
 * listed (without its delivery URL), its key, and the sha256 of the stored bytes.
 */
export interface CatalogEntry extends Omit<Asset, 'secureUrl'> {
  readonly key: string;
  /** sha256 of the stored bytes, computed while they streamed through. */
  readonly sha256?: string;
  readonly state: EntryState;
}

/** A catalog slot: one of the two folders of page files. */
export type Slot = 'a' | 'b';

/**
 * The pointer to the catalog of the last completed run. Format 1: every page in `slot`.
 * Format 2 (issue 14): page n is in slot `layout[n]`, so a run references the pages it found
 * unchanged where they are instead of writing them again; `hashes[n]` identifies page n's bytes.
 */
export interface CatalogPointer {
  readonly format: 1 | 2;
  readonly slot: Slot;
  readonly runId: string;
  readonly completedAt: string;
  readonly pages: number;
  readonly entries: number;
  /** One character per page: the slot that holds it (format 2). */
  readonly layout?: string;
  /** One pageHash per page (format 2). */
  readonly hashes?: readonly string[];
}

/**
 * Refuses a pointer this version cannot read right: a newer format (its pages would be read from
 * the wrong slots, and a run would write over pages it names), or a layout or hash list that
 * does not cover every page (pages would be dropped without a word).
 */
export const checkPointer = (ptr: CatalogPointer, where: string): void => {
  const format = (ptr.format as number | undefined) ?? 1;
  if (format !== 1 && format !== 2) {
    throw new DestinationError(`${where} is a catalog of format ${format}, written by a newer cloudinary-backup: upgrade this one before using this backup (it reads formats 1 and 2)`);
  }
  const short = (ptr.layout !== undefined && ptr.layout.length !== ptr.pages) || (ptr.hashes !== undefined && ptr.hashes.length !== ptr.pages);
  if (short) throw new DestinationError(`${where} is damaged: it names ${ptr.pages} catalog pages, but its layout or hashes cover another number; run verify`);
};

/** The slot holding page `n` of a committed catalog. */
export const slotOfPage = (ptr: CatalogPointer, n: number): Slot => (ptr.layout?.[n] as Slot | undefined) ?? ptr.slot;

/** The bytes of a page file: one JSON line per entry. */
export const pageBody = (entries: readonly CatalogEntry[]): Buffer =>
  Buffer.from(entries.map((e) => JSON.stringify(e)).join('\n') + (entries.length ? '\n' : ''), 'utf8');

/**
 * What identifies a page's bytes: 96 bits of their sha256 (16 base64url characters). Two
 * different pages of one catalog collide with a chance below 1e-25: an equal hash means an
 * equal page.
 */
export const pageHash = (body: Buffer): string => createHash('sha256').update(body).digest('base64url').slice(0, 16);

/**
 * The catalog lives under `<prefix>/_catalog/`: two slots of page files (`a/`, `b/`, one
 * JSON-lines file of about 10,000 entries per page) and `current.json`, which names the slot of
 * each page of the last completed run. A run references the pages it finds unchanged where they
 * are, writes every other page n into the slot that does *not* hold the current catalog's page n,
 * and replaces the pointer only when its listing finished: a crashed run never touches a file the
 * current catalog names. Page files are overwritten in place (never deleted), so writing the
 * catalog needs no delete permission.
 */
export class Catalog {
  readonly root: string;

  constructor(
    private readonly destination: Destination,
    prefix: string,
    /** Pause before a catalog write is tried again, times the attempt number. @default 500 */
    private readonly retryDelayMs = 500,
  ) {
    this.root = catalogRoot(prefix);
  }

  get pointerKey(): string {
    return `${this.root}/current.json`;
  }

  pageKey(slot: Slot, page: number): string {
    return `${this.root}/${slot}/${String(page).padStart(6, '0')}.jsonl`;
  }

  /** The pointer of the last completed run, or undefined when there is none. */
  async pointer(): Promise<CatalogPointer | undefined> {
    const ptr = await readJson<CatalogPointer>(this.destination, this.pointerKey);
    if (ptr) checkPointer(ptr, `${this.destination.description}: ${this.pointerKey}`);
    return ptr;
  }

  /**
   * Writes one page of entries into a slot. A failed write is tried again on its own (3 tries):
   * the copies it records are done, and repeating them for a catalog write would waste the
   * budget and write their entries twice.
   */
  async writePage(slot: Slot, page: number, entries: readonly CatalogEntry[] | Buffer): Promise<void> {
    const body = Buffer.isBuffer(entries) ? entries : pageBody(entries);
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.destination.put({ key: this.pageKey(slot, page), body, length: body.length, contentType: 'application/x-ndjson' });
        return;
      } catch (err) {
        if (attempt >= 3) throw err;
        await sleep(this.retryDelayMs * attempt);
      }
    }
  }

  /** Makes a slot the current catalog. */
  async commit(pointer: CatalogPointer): Promise<void> {
    const body = Buffer.from(JSON.stringify(pointer, null, 2), 'utf8');
    await this.destination.put({ key: this.pointerKey, body, length: body.length, contentType: 'application/json' });
  }

  /** Streams the entries of one page file, the first `limit` of them when given. */
  async *readPage(slot: Slot, page: number, limit = Infinity): AsyncIterable<CatalogEntry> {
    if (limit <= 0) return;
    const body = await this.destination.get(this.pageKey(slot, page));
    let n = 0;
    for await (const line of createInterface({ input: body, crlfDelay: Infinity })) {
      if (line.trim() === '') continue;
      yield JSON.parse(line) as CatalogEntry;
      if ((n += 1) >= limit) {
        body.destroy();
        return;
      }
    }
  }

  /** Streams the entries of pages [0, layout.length), page n from slot layout[n]. */
  async *readPages(layout: string): AsyncIterable<CatalogEntry> {
    for (let p = 0; p < layout.length; p += 1) yield* this.readPage(layout[p] as Slot, p);
  }

  /** Streams the entries of pages [0, pages) of a slot. */
  readSlot(slot: Slot, pages: number): AsyncIterable<CatalogEntry> {
    return this.readPages(slot.repeat(pages));
  }

  /** Streams every entry of a committed catalog. */
  entriesOf(ptr: CatalogPointer): AsyncIterable<CatalogEntry> {
    return this.readPages(ptr.layout ?? ptr.slot.repeat(ptr.pages));
  }

  /** Streams every entry of the current catalog (none when there is no completed run). */
  async *entries(): AsyncIterable<CatalogEntry> {
    const ptr = await this.pointer();
    if (ptr) yield* this.entriesOf(ptr);
  }
}

/** A catalog entry for an asset as listed now. */
export const entryFor = (asset: Asset, key: string, state: EntryState, sha256: string | undefined): CatalogEntry => {
  const { secureUrl: _url, ...listed } = asset;
  return { key, ...listed, ...(sha256 ? { sha256 } : {}), state };
};
