import { listAll } from '../adapters/cloudinary/list-all.ts';
import type { Asset } from '../core/asset.ts';
import { RESOURCE_TYPES, listingsFor } from '../core/asset.ts';
import { keyFor } from '../core/keys.ts';
import { checkSource } from '../core/verify-check.ts';
import type { Problem, VerifiableEntry } from '../core/verify-check.ts';
import type { CatalogEntry } from '../store/catalog.ts';
import { IdentityMap } from '../restore/identity-map.ts';
import type { Identity } from '../restore/identity-map.ts';
import type { ListingSource } from '../restore/restore.ts';

/** What --source reads of a catalog entry. */
export type SourceEntry = Omit<VerifiableEntry, 'sha256'> & { readonly format: string };

/** The fields of a catalog entry --source reads (the rest is garbage while still young). */
export const sourceFields = (e: CatalogEntry): SourceEntry => ({
  key: e.key,
  publicId: e.publicId,
  resourceType: e.resourceType,
  type: e.type,
  format: e.format,
  version: e.version,
  bytes: e.bytes,
  state: e.state,
});

/** Assets of --source compared at once. */
const SOURCE_BATCH = 500;
const STATES = ['current', 'stale', 'deleted'] as const;

/**
 * The catalog by asset identity, for `verify --source` (a million entries). One
 * public_id string per entry (IdentityMap) and typed columns for what checkSource reads (version, bytes,
 * state); the key is not held when the key rule gives it back from the identity and format
 * (keyFor), which it does for every entry this version wrote. The first entry of an identity
 * wins unless it is stale: then a later one takes its place.
 */
export class EntriesByIdentity {
  private readonly slots = new IdentityMap<number>();
  private size = 0;
  private versions = new Float64Array(1024);
  private bytes = new Float64Array(1024);
  private states = new Uint8Array(1024);
  private formats = new Uint16Array(1024);
  private readonly formatNames: string[] = [];
  /** Keys the key rule does not give back (another prefix or an older rule): kept as they are. */
  private readonly oddKeys = new Map<number, string>();

  constructor(private readonly prefix: string) {}

  /** Records one catalog entry (see the class comment for which entry of an identity wins). */
  add(e: SourceEntry): void {
    let slot = this.slots.get(e);
    if (slot !== undefined && STATES[this.states[slot] as number] !== 'stale') return;
    if (slot === undefined) {
      slot = this.size++;
      if (slot >= this.versions.length) this.grow();
      this.slots.set(e, slot);
    }
    this.versions[slot] = e.version;
    this.bytes[slot] = e.bytes;
    this.states[slot] = STATES.indexOf(e.state);
    let f = this.formatNames.indexOf(e.format);
    if (f < 0) f = this.formatNames.push(e.format) - 1;
    this.formats[slot] = f;
    if (keyFor(this.prefix, e) === e.key) this.oddKeys.delete(slot);
    else this.oddKeys.set(slot, e.key);
  }

  /** The entry recorded for an asset's identity, rebuilt (without its sha256, which checkSource does not read). */
  get(a: Identity): VerifiableEntry | undefined {
    const slot = this.slots.get(a);
    if (slot === undefined) return undefined;
    // Plain literals, no object spread: a spread per asset here left ~120 MB in V8's old space
    // over a million-asset pass (measured with --trace-gc-nvp), where these die young.
    const { resourceType, type, publicId } = a;
    const key = this.oddKeys.get(slot) ?? keyFor(this.prefix, { resourceType, type, publicId, format: this.formatNames[this.formats[slot] as number] as string });
    return { key, resourceType, type, publicId, version: this.versions[slot] as number, bytes: this.bytes[slot] as number, state: STATES[this.states[slot] as number] as VerifiableEntry['state'] };
  }

  private grow(): void {
    const n = this.versions.length * 2;
    const widen = <A extends Float64Array | Uint8Array | Uint16Array>(old: A, next: A): A => (next.set(old), next);
    this.versions = widen(this.versions, new Float64Array(n));
    this.bytes = widen(this.bytes, new Float64Array(n));
    this.states = widen(this.states, new Uint8Array(n));
    this.formats = widen(this.formats, new Uint16Array(n));
  }
}

/** --source: compares the live listing with the catalog, a batch at a time (each asset stands alone). */
export const sourcePass = async (source: ListingSource, entries: AsyncIterable<SourceEntry[]>, prefix: string, found: (p: Problem) => void): Promise<void> => {
  const byIdentity = new EntriesByIdentity(prefix);
  for await (const page of entries) for (const e of page) byIdentity.add(e);
  let batch: Asset[] = [];
  for (const l of listingsFor(RESOURCE_TYPES)) {
    for await (const a of listAll(source, l.resourceType, l.type)) {
      batch.push(a);
      if (batch.length >= SOURCE_BATCH) {
        for (const p of checkSource(batch, (a) => byIdentity.get(a))) found(p);
        batch = [];
      }
    }
  }
  for (const p of checkSource(batch, (a) => byIdentity.get(a))) found(p);
};
