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

/** A restore point as the pointer lists it (see docs/history.md). */
export interface RestorePointRef {
  readonly runId: string;
  readonly completedAt: string;
}

/** The catalog format this version writes (docs/history.md, "The format change"). */
export const CATALOG_FORMAT = 3 as const;

/**
 * The pointer to the catalog of the last completed run. Format 1: every page in `slot`.
 * Format 2: page n is in slot `layout[n]`, so a run references the pages it found unchanged
 * where they are instead of writing them again; `hashes[n]` identifies page n's bytes.
 * Format 3 (docs/history.md): page n is the content-addressed file `pages/<hashes[n]>.jsonl`,
 * never rewritten; `points` lists the restore points kept, newest first, each with its manifest
 * under `points/`.
 */
export interface CatalogPointer {
  readonly format: 1 | 2 | 3;
  /** The slot of a format-1 catalog (formats 1 and 2). */
  readonly slot?: Slot;
  readonly runId: string;
  readonly completedAt: string;
  readonly pages: number;
  readonly entries: number;
  /** One character per page: the slot that holds it (format 2). */
  readonly layout?: string;
  /** One pageHash per page (format 2); one page name per page (format 3). */
  readonly hashes?: readonly string[];
  /** The restore points kept, newest first (format 3; the first is this one). */
  readonly points?: readonly RestorePointRef[];
  /** The retention recorded for the backup's history, in days (format 3). */
  readonly historyDays?: number;
}

/**
 * Refuses a pointer this version cannot read right: a newer format (its pages would be read from
 * the wrong places, and a run would write over pages it names), or a layout or hash list that
 * does not cover every page (pages would be dropped without a word).
 */
export const checkPointer = (ptr: CatalogPointer, where: string): void => {
  const format = (ptr.format as number | undefined) ?? 1;
  if (format !== 1 && format !== 2 && format !== 3) {
    throw new DestinationError(`${where} is a catalog of format ${format}, written by a newer cloudinary-backup: upgrade this one before using this backup (it reads formats 1 to 3)`);
  }
  const short = (ptr.layout !== undefined && ptr.layout.length !== ptr.pages) || (ptr.hashes !== undefined && ptr.hashes.length !== ptr.pages) || (format === 3 && ptr.hashes === undefined);
  if (short) throw new DestinationError(`${where} is damaged: it names ${ptr.pages} catalog pages, but its layout or hashes cover another number; run verify`);
};

/** The slot holding page `n` of a committed catalog. */
export const slotOfPage = (ptr: CatalogPointer, n: number): Slot => (ptr.layout?.[n] as Slot | undefined) ?? ptr.slot ?? 'a';

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
 * The name of a format-3 page file: 96 bits of its bytes' sha256 in lower-case hex (24
 * characters), so a case-insensitive or normalising folder never files two names as one.
 */
export const pageName = (body: Buffer): string => createHash('sha256').update(body).digest('hex').slice(0, 24);

/**
 * The catalog lives under `<prefix>/_catalog/` (docs/history.md): content-addressed page files
 * (`pages/<name>.jsonl`, one JSON-lines file of about 10,000 entries each, never rewritten), one
 * restore point manifest per completed run (`points/<runId>.json`) and `current.json`, the
 * pointer to the newest restore point, which lists the others. A run writes its new pages, then
 * its manifest, then the pointer: every restore point the pointer lists is complete, whatever
 * step a run dies at. Older catalogs (formats 1 and 2: two slots `a/`, `b/` of page files
 * overwritten in place) are still read, and replaced by the first run of this version.
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

  /** The file of page `page` in a slot (formats 1 and 2). */
  pageKey(slot: Slot, page: number): string {
    return `${this.root}/${slot}/${String(page).padStart(6, '0')}.jsonl`;
  }

  /** The file of a format-3 page, by its name (pageName). */
  namedPageKey(name: string): string {
    return `${this.root}/pages/${name}.jsonl`;
  }

  /** The manifest of a restore point. */
  pointKey(runId: string): string {
    return `${this.root}/points/${runId}.json`;
  }

  /** The tentative file of a running run's page `page` (not closed yet; see CatalogPages.persist). */
  openKey(runId: string, page: number): string {
    return `${this.root}/open/${runId}/${String(page).padStart(6, '0')}.jsonl`;
  }

  /** The file holding page `n` of a committed catalog, whatever its format. */
  pageKeyOf(ptr: CatalogPointer, n: number): string {
    return ptr.format === 3 ? this.namedPageKey(ptr.hashes?.[n] ?? '') : this.pageKey(slotOfPage(ptr, n), n);
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
    await this.writeFile(this.pageKey(slot, page), Buffer.isBuffer(entries) ? entries : pageBody(entries));
  }

  /** Writes a format-3 page under its name; resolves with the name. Retried as writePage. */
  async writeNamed(body: Buffer): Promise<string> {
    const name = pageName(body);
    await this.writeFile(this.namedPageKey(name), body);
    return name;
  }

  /** Writes one catalog file (JSON lines), 3 tries. */
  async writeFile(key: string, body: Buffer): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.destination.put({ key, body, length: body.length, contentType: 'application/x-ndjson' });
        return;
      } catch (err) {
        if (attempt >= 3) throw err;
        await sleep(this.retryDelayMs * attempt);
      }
    }
  }

  /**
   * Makes a restore point the current catalog: its manifest first, then the pointer that lists
   * it (a format-3 pointer), so the pointer never lists a restore point whose manifest is missing.
   */
  async commit(pointer: CatalogPointer): Promise<void> {
    const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v, null, 2), 'utf8');
    if (pointer.format === 3) {
      const { points: _points, ...manifest } = pointer;
      const body = json(manifest);
      await this.destination.put({ key: this.pointKey(pointer.runId), body, length: body.length, contentType: 'application/json' });
    }
    const body = json(pointer);
    await this.destination.put({ key: this.pointerKey, body, length: body.length, contentType: 'application/json' });
  }

  /** The manifest of a listed restore point (a pointer without its list of points). */
  async manifest(runId: string): Promise<CatalogPointer> {
    const key = this.pointKey(runId);
    const m = await readJson<CatalogPointer>(this.destination, key);
    if (!m) throw new DestinationError(`${this.destination.description}: restore point ${runId} is listed but its manifest ${key} is missing; run verify`);
    checkPointer(m, `${this.destination.description}: ${key}`);
    return m;
  }

  /** Streams the entries of one page file of a slot, the first `limit` of them when given. */
  readPage(slot: Slot, page: number, limit = Infinity): AsyncIterable<CatalogEntry> {
    return this.readFile(this.pageKey(slot, page), limit);
  }

  /** The bytes of one catalog file as stored (verify checks a page's bytes against its name). */
  readRaw(key: string): Promise<NodeJS.ReadableStream> {
    return this.destination.get(key);
  }

  /** Streams the JSON lines of one catalog file, the first `limit` of them when given. */
  async *readFile<T = CatalogEntry>(key: string, limit = Infinity): AsyncIterable<T> {
    if (limit <= 0) return;
    const body = await this.destination.get(key);
    let n = 0;
    for await (const line of createInterface({ input: body, crlfDelay: Infinity })) {
      if (line.trim() === '') continue;
      yield JSON.parse(line) as T;
      if ((n += 1) >= limit) {
        body.destroy();
        return;
      }
    }
  }

  /** Streams the entries of format-3 pages, in order. */
  async *readNamed(names: readonly string[]): AsyncIterable<CatalogEntry> {
    for (const name of names) yield* this.readFile(this.namedPageKey(name));
  }

  /** Streams the entries of pages [0, layout.length), page n from slot layout[n]. */
  async *readPages(layout: string): AsyncIterable<CatalogEntry> {
    for (let p = 0; p < layout.length; p += 1) yield* this.readPage(layout[p] as Slot, p);
  }

  /** Streams every entry of a committed catalog. */
  entriesOf(ptr: CatalogPointer): AsyncIterable<CatalogEntry> {
    if (ptr.format === 3) return this.readNamed(ptr.hashes ?? []);
    return this.readPages(ptr.layout ?? (ptr.slot ?? 'a').repeat(ptr.pages));
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
