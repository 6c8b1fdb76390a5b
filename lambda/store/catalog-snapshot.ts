import { DestinationError } from '../core/errors.ts';
import type { Destination } from '../ports/storage.ts';
import { pageHash } from './catalog.ts';
import type { Catalog, CatalogEntry, CatalogPointer } from './catalog.ts';

/**
 * One committed catalog read more than once, a page (~10,000 entries) at a time (verify
 * and restore hold a compact table and read the entries again in a later pass instead of holding
 * them). Every page read again must have the bytes it had on its first read: a format-3 page is
 * never rewritten, but a format-2 catalog's pages are overwritten two commits later (which a
 * restore lasting days may see) and a damaged store may change any file; a pass over another
 * catalog would then mix two backups, so it stops with what to do instead.
 */
export class CatalogSnapshot {
  private readonly hashes: string[] = [];

  constructor(
    private readonly destination: Destination,
    private readonly catalog: Catalog,
    readonly pointer: CatalogPointer,
  ) {}

  /** The entries of every page, one whole page at a time, mapped by `pick` (what a pass keeps of an entry). */
  async *pages<T>(pick: (e: CatalogEntry) => T): AsyncIterable<T[]> {
    for (let n = 0; n < this.pointer.pages; n += 1) {
      const key = this.catalog.pageKeyOf(this.pointer, n);
      const { entries, hash } = await this.read(key, pick);
      const first = this.hashes[n];
      if (first === undefined) this.hashes[n] = hash;
      else if (first !== hash) {
        throw new DestinationError(`${this.destination.description}: catalog page ${key} changed while it was being read (a backup committed twice meanwhile); run the command again`);
      }
      yield entries;
    }
  }

  /** One page file read whole, its entries (see linesOf) and the hash of its bytes (as pageHash computes it). */
  private async read<T>(key: string, pick: (e: CatalogEntry) => T): Promise<{ entries: T[]; hash: string }> {
    const parts: Buffer[] = [];
    for await (const chunk of await this.destination.get(key)) parts.push(chunk as Buffer);
    const body = Buffer.concat(parts);
    return { entries: linesOf(body, pick), hash: pageHash(body) };
  }
}

/**
 * The entries of a page file (JSON lines), mapped by `pick`. Each line is decoded on its own: a
 * string of the whole page (~4 MB) would be garbage V8 keeps in its old space until a full
 * collection, a page at a time.
 */
const linesOf = <T>(body: Buffer, pick: (e: CatalogEntry) => T): T[] => {
  const page: T[] = [];
  for (let start = 0; start < body.length; ) {
    let end = body.indexOf(0x0a, start);
    if (end < 0) end = body.length;
    const line = body.toString('utf8', start, end);
    if (line.trim() !== '') page.push(pick(JSON.parse(line) as CatalogEntry));
    start = end + 1;
  }
  return page;
};
