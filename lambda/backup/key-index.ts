import type { StoredObject } from '../core/asset.ts';
import type { Recorded } from '../core/plan.ts';
import type { PreviousEntry } from './page.ts';

/** A previous catalog entry as the engine plans with it. */
export type PreviousRecord = PreviousEntry & { readonly resourceType: string };

/** What finish() counts of the previous catalog. */
export interface PreviousCounts {
  /** The resource types of every entry, deleted ones included. */
  readonly types: Set<string>;
  /** Current entries per resource type. */
  readonly currentByType: Map<string, number>;
  readonly currentTotal: number;
}

/** What the engine reads of the previous catalog. */
export interface PreviousView {
  get(key: string): PreviousRecord | undefined;
  /** What the diff rule needs of an entry (no sha256: the hex string is made only where it is kept). */
  recorded(key: string): Recorded | undefined;
  has(key: string): boolean;
  /** Counts over every entry, without making a record per entry. */
  counts(): PreviousCounts;
}

/** What the engine reads and consumes of the destination's inventory (list mode). */
export interface InventoryView {
  get(key: string): StoredObject | undefined;
  /** Marks the key as seen by this run: it is no longer missing. */
  delete(key: string): boolean;
  /** The keys not seen by this run, in no particular order. */
  keys(): IterableIterator<string>;
}

const HAS_PREVIOUS = 1;
const CURRENT = 2;
const HAS_SHA = 4;
const IN_INVENTORY = 8;
const SHA_BYTES = 32;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/**
 * The previous catalog and the destination's inventory of one run, in one table (a
 * million assets in one Lambda). Each key is held once — the catalog and the listing name the
 * same objects — and mapped to a slot; the figures live in typed columns (sha256 as 32 bytes,
 * not 64 hex characters) instead of one object, one Date and one string per field. The Map of
 * objects it replaces held ~two copies of each key, a Date and a 64-character string per asset.
 * Records are built on demand when asked for; they are small and short-lived.
 */
export class KeyIndex {
  private readonly slots = new Map<string, number>();
  /** The key of each slot: walking slots by number makes no [key, slot] pair per entry (1M each pass). */
  private readonly keyOf: string[] = [];
  private capacity = 0;
  private flags = new Uint8Array(0);
  private types = new Uint8Array(0);
  private versions = new Float64Array(0);
  private sizes = new Float64Array(0);
  private mtimes = new Float64Array(0);
  private shas = new Uint8Array(0);
  /** Resource types are a handful of values: an index into this list per slot. */
  private readonly typeNames: string[] = [];
  /** A sha256 that is not 64 lower-case hex digits (never written by this tool, kept as is). */
  private readonly oddShas = new Map<number, string>();

  /** The previous catalog: entries added with setPrevious. */
  readonly previous: PreviousView = {
    get: (key) => this.previousAt(this.slots.get(key)),
    recorded: (key) => {
      const slot = this.slots.get(key);
      if (slot === undefined || !((this.flags[slot] as number) & HAS_PREVIOUS)) return undefined;
      return { version: this.versions[slot] as number, current: ((this.flags[slot] as number) & CURRENT) !== 0 };
    },
    has: (key) => this.has(key, HAS_PREVIOUS),
    counts: () => this.previousCounts(),
  };

  /** The inventory: objects added with setStored, less the keys deleted since. */
  readonly inventory: InventoryView = {
    get: (key) => {
      const slot = this.slots.get(key);
      if (slot === undefined || !((this.flags[slot] as number) & IN_INVENTORY)) return undefined;
      return { key, size: this.sizes[slot] as number, lastModified: new Date(this.mtimes[slot] as number) };
    },
    delete: (key) => {
      const slot = this.slots.get(key);
      if (slot === undefined || !((this.flags[slot] as number) & IN_INVENTORY)) return false;
      (this.flags[slot] as number) &= ~IN_INVENTORY;
      return true;
    },
    keys: () => this.iterate(IN_INVENTORY, (key) => key),
  };

  /** Records a previous catalog entry (the last one for a key wins, as Map.set did). */
  setPrevious(key: string, e: PreviousRecord): void {
    const slot = this.slotOf(key);
    let f = ((this.flags[slot] as number) & IN_INVENTORY) | HAS_PREVIOUS | (e.current ? CURRENT : 0);
    this.oddShas.delete(slot);
    if (e.sha256 !== undefined) {
      f |= HAS_SHA;
      if (HEX_SHA256.test(e.sha256)) this.shas.set(Buffer.from(e.sha256, 'hex'), slot * SHA_BYTES);
      else this.oddShas.set(slot, e.sha256);
    }
    this.flags[slot] = f;
    this.versions[slot] = e.version;
    let t = this.typeNames.indexOf(e.resourceType);
    if (t < 0) t = this.typeNames.push(e.resourceType) - 1;
    this.types[slot] = t;
  }

  /** Records an object the destination holds. */
  setStored(o: StoredObject): void {
    const slot = this.slotOf(o.key);
    (this.flags[slot] as number) |= IN_INVENTORY;
    this.sizes[slot] = o.size;
    this.mtimes[slot] = o.lastModified.getTime();
  }

  private has(key: string, flag: number): boolean {
    const slot = this.slots.get(key);
    return slot !== undefined && ((this.flags[slot] as number) & flag) !== 0;
  }

  private previousAt(slot: number | undefined): PreviousRecord | undefined {
    if (slot === undefined) return undefined;
    const f = this.flags[slot] as number;
    if (!(f & HAS_PREVIOUS)) return undefined;
    const base = { version: this.versions[slot] as number, current: (f & CURRENT) !== 0, resourceType: this.typeNames[this.types[slot] as number] as string };
    if (!(f & HAS_SHA)) return base;
    const odd = this.oddShas.get(slot);
    const sha256 = odd ?? Buffer.from(this.shas.buffer, this.shas.byteOffset + slot * SHA_BYTES, SHA_BYTES).toString('hex');
    return { ...base, sha256 };
  }

  private previousCounts(): PreviousCounts {
    const types = new Set<string>();
    const perType = new Array<number>(this.typeNames.length).fill(0);
    let currentTotal = 0;
    for (let slot = 0; slot < this.keyOf.length; slot += 1) {
      const f = this.flags[slot] as number;
      if (!(f & HAS_PREVIOUS)) continue;
      const t = this.types[slot] as number;
      types.add(this.typeNames[t] as string);
      if (!(f & CURRENT)) continue;
      currentTotal += 1;
      perType[t] = (perType[t] as number) + 1;
    }
    const currentByType = new Map<string, number>();
    perType.forEach((n, t) => {
      if (n > 0) currentByType.set(this.typeNames[t] as string, n);
    });
    return { types, currentByType, currentTotal };
  }

  private *iterate<T>(flag: number, pick: (key: string, slot: number) => T): IterableIterator<T> {
    for (let slot = 0; slot < this.keyOf.length; slot += 1) if ((this.flags[slot] as number) & flag) yield pick(this.keyOf[slot] as string, slot);
  }

  private slotOf(key: string): number {
    const known = this.slots.get(key);
    if (known !== undefined) return known;
    const slot = this.slots.size;
    if (slot >= this.capacity) this.grow(Math.max(1024, this.capacity * 2));
    this.slots.set(key, slot);
    this.keyOf.push(key);
    return slot;
  }

  private grow(capacity: number): void {
    const widen = <A extends Uint8Array | Float64Array>(old: A, make: (n: number) => A, per = 1): A => {
      const next = make(capacity * per);
      next.set(old);
      return next;
    };
    this.flags = widen(this.flags, (n) => new Uint8Array(n));
    this.types = widen(this.types, (n) => new Uint8Array(n));
    this.versions = widen(this.versions, (n) => new Float64Array(n));
    this.sizes = widen(this.sizes, (n) => new Float64Array(n));
    this.mtimes = widen(this.mtimes, (n) => new Float64Array(n));
    this.shas = widen(this.shas, (n) => new Uint8Array(n), SHA_BYTES);
    this.capacity = capacity;
  }
}
