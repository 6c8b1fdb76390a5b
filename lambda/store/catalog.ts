import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Asset } from '../core/asset.ts';
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

/** The pointer to the catalog of the last completed run. */
export interface CatalogPointer {
  readonly format: 1;
  readonly slot: 'a' | 'b';
  readonly runId: string;
  readonly completedAt: string;
  readonly pages: number;
  readonly entries: number;
}

/**
 * The catalog lives under `<prefix>/_catalog/`: two slots of page files (`a/`, `b/`, one
 * JSON-lines file per listing page) and `current.json`, which names the slot of the last
 * completed run. A run writes the other slot and flips the pointer only when its listing
 * finished, so a crashed run never damages the catalog restore depends on. Page files are
 * overwritten in place (never deleted), so writing the catalog needs no delete permission.
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

  pageKey(slot: 'a' | 'b', page: number): string {
    return `${this.root}/${slot}/${String(page).padStart(6, '0')}.jsonl`;
  }

  /** The pointer of the last completed run, or undefined when there is none. */
  async pointer(): Promise<CatalogPointer | undefined> {
    return readJson<CatalogPointer>(this.destination, this.pointerKey);
  }

  /**
   * Writes one page of entries into a slot. A failed write is tried again on its own (3 tries):
   * the copies it records are done, and repeating them for a catalog write would waste the
   * budget and write their entries twice.
   */
  async writePage(slot: 'a' | 'b', page: number, entries: readonly CatalogEntry[]): Promise<void> {
    const body = Buffer.from(entries.map((e) => JSON.stringify(e)).join('\n') + (entries.length ? '\n' : ''), 'utf8');
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

  /** Streams the entries of pages [0, pages) of a slot. */
  async *readSlot(slot: 'a' | 'b', pages: number): AsyncIterable<CatalogEntry> {
    for (let p = 0; p < pages; p += 1) {
      const body = await this.destination.get(this.pageKey(slot, p));
      for await (const line of createInterface({ input: body, crlfDelay: Infinity })) {
        if (line.trim() !== '') yield JSON.parse(line) as CatalogEntry;
      }
    }
  }

  /** Streams every entry of the current catalog (none when there is no completed run). */
  async *entries(): AsyncIterable<CatalogEntry> {
    const ptr = await this.pointer();
    if (ptr) yield* this.readSlot(ptr.slot, ptr.pages);
  }
}

/** A catalog entry for an asset as listed now. */
export const entryFor = (asset: Asset, key: string, state: EntryState, sha256: string | undefined): CatalogEntry => {
  const { secureUrl: _url, ...listed } = asset;
  return { key, ...listed, ...(sha256 ? { sha256 } : {}), state };
};
