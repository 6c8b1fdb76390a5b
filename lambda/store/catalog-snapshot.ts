import { DestinationError } from '../core/errors.ts';
import type { Destination } from '../ports/storage.ts';
import { pageHash, slotOfPage } from './catalog.ts';
import type { Catalog, CatalogEntry, CatalogPointer } from './catalog.ts';

/**
 * One committed catalog read more than once, a page (~10,000 entries) at a time (issue 14: verify
 * and restore hold a compact table and read the entries again in a later pass instead of holding
 * them). Every page read again must have the bytes it had on its first read: the pages a pointer
 * names are only overwritten two commits later, which a restore lasting days may see; a pass
 * over another catalog would then mix two backups, so it stops with what to do instead.
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
      const key = this.catalog.pageKey(slotOfPage(this.pointer, n), n);
      const body = await this.read(key);
      const hash = pageHash(body);
      const first = this.hashes[n];
      if (first === undefined) this.hashes[n] = hash;
      else if (first !== hash) {
        throw new DestinationError(`${this.destination.description}: catalog page ${key} changed while it was being read (a backup committed twice meanwhile); run the command again`);
      }
      const page: T[] = [];
      for (const line of body.toString('utf8').split('\n')) if (line.trim() !== '') page.push(pick(JSON.parse(line) as CatalogEntry));
      yield page;
    }
  }

  private async read(key: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of await this.destination.get(key)) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  }
}
