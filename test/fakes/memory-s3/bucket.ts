/**
 * One bucket of the in-memory S3 server (server.ts): objects in a Map, their keys in one array
 * kept in S3's listing order, and the multipart uploads in progress. Pure data structure, no
 * HTTP: the rules of the wire (status codes, XML) are server.ts's.
 *
 * Sources, per behaviour:
 * - Order of listings: ListObjectsV2 "returns objects in lexicographical order based on their key
 *   names" (S3 API Reference, API_ListObjectsV2.html; the same text in
 *   @aws-sdk/client-s3 dist-types/commands/ListObjectsV2Command.d.ts), and the S3 User Guide
 *   ("Listing object keys programmatically", ListingKeysUsingAPIs.html): list results are
 *   returned in UTF-8 binary order. JavaScript compares strings by UTF-16 code unit, which
 *   differs from UTF-8 byte order only where one side is a surrogate (U+D800–U+DFFF) and the other
 *   a code unit of U+E000–U+FFFF: compareUtf8 corrects exactly that case.
 * - Keys, sizes, ETags: PutObject (API_PutObject.html) answers the ETag, the MD5 of the body for
 *   a single PUT; CompleteMultipartUpload (API_CompleteMultipartUpload.html) an ETag that is not
 *   the body's MD5 (the MD5 of the parts' binary MD5s and "-<parts>", as S3 writes it).
 */
import { createHash } from 'node:crypto';
import { seededChunks } from '../content.ts';

/** The bytes of an object: held, or regenerated from content.ts's seed (the bench's seeded objects). */
export type ObjectBody = Buffer | { readonly seed: string; readonly size: number };

/** One stored object. */
export interface MemoryObject {
  readonly size: number;
  /** Without quotes. */
  readonly etag: string;
  readonly lastModified: number;
  readonly contentType: string;
  /** User metadata as JSON ({"public_id": "..."}: names without x-amz-meta-), "" when none. */
  readonly metaJson: string;
  readonly body: ObjectBody;
}

/** A multipart upload in progress (CreateMultipartUpload, API_CreateMultipartUpload.html). */
export interface MemoryUpload {
  readonly key: string;
  readonly initiated: number;
  readonly contentType: string;
  readonly metaJson: string;
  readonly parts: Map<number, { readonly body: Buffer; readonly etag: string }>;
}

/** Compares two keys in UTF-8 byte order (see the header). */
export const compareUtf8 = (a: string, b: string): number => {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (UTF-8: 4 bytes, lead 0xF0+) sort after U+E000–U+FFFF (3 bytes, lead 0xEE/0xEF).
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
};

/** Whether every key compares the same in UTF-16 and UTF-8 order (no code unit at or above U+D800). */
const plainOrder = (s: string): boolean => !/[\ud800-\uffff]/.test(s);

/** The bytes of a body, in chunks. */
export function* bodyChunks(body: ObjectBody): Generator<Buffer> {
  if (Buffer.isBuffer(body)) {
    yield body;
    return;
  }
  yield* seededChunks(body.seed, body.size);
}

/** MD5 (hex) of a body. */
export const md5Of = (body: ObjectBody): string => {
  const h = createHash('md5');
  for (const c of bodyChunks(body)) h.update(c);
  return h.digest('hex');
};

/** One page of a listing (ListObjectsV2). */
export interface ListPage {
  readonly keys: ReadonlyArray<readonly [string, MemoryObject]>;
  /** The last key returned when more keys follow (the continuation point). */
  readonly nextAfter: string | undefined;
}

/** A bucket's objects and uploads. */
export class MemoryBucket {
  private readonly objects = new Map<string, MemoryObject>();
  /** Keys in UTF-8 order, once `sorted`; bulk seeding appends and sorts once, on the next read. */
  private keys: string[] = [];
  private sorted = true;
  /** Some key has a code unit >= U+D800: the native sort would not be UTF-8 order. */
  private needsUtf8Compare = false;
  readonly uploads = new Map<string, MemoryUpload>();

  get size(): number {
    return this.objects.size;
  }

  get(key: string): MemoryObject | undefined {
    return this.objects.get(key);
  }

  /** Stores `object` at `key` (replacing, as an unconditional PUT does: last writer wins). */
  put(key: string, object: MemoryObject): void {
    const had = this.objects.has(key);
    this.objects.set(key, object);
    if (had) return;
    if (!plainOrder(key)) this.needsUtf8Compare = true;
    if (!this.sorted) {
      this.keys.push(key);
      return;
    }
    this.keys.splice(this.lowerBound(key), 0, key);
  }

  /** Adds many objects at once (the bench's seed path): sorted once, on the next listing. */
  seed(entries: Iterable<readonly [string, MemoryObject]>): number {
    let added = 0;
    for (const [key, object] of entries) {
      if (!this.objects.has(key)) {
        this.keys.push(key);
        if (!plainOrder(key)) this.needsUtf8Compare = true;
        this.sorted = false;
      }
      this.objects.set(key, object);
      added += 1;
    }
    return added;
  }

  delete(key: string): boolean {
    if (!this.objects.delete(key)) return false;
    this.ensureSorted();
    const at = this.lowerBound(key);
    if (this.keys[at] === key) this.keys.splice(at, 1);
    return true;
  }

  /**
   * Up to `max` keys starting with `prefix`, after `after` (exclusive; the later of StartAfter
   * and the continuation point).
   */
  list(prefix: string, after: string | undefined, max: number): ListPage {
    this.ensureSorted();
    let at = this.lowerBound(prefix);
    if (after !== undefined && this.compare(after, prefix) >= 0) {
      at = this.lowerBound(after);
      if (this.keys[at] === after) at += 1;
    }
    const out: Array<readonly [string, MemoryObject]> = [];
    for (; at < this.keys.length; at += 1) {
      const key = this.keys[at] as string;
      if (!key.startsWith(prefix)) break;
      if (out.length === max) return { keys: out, nextAfter: out[out.length - 1]?.[0] };
      out.push([key, this.objects.get(key) as MemoryObject]);
    }
    return { keys: out, nextAfter: undefined };
  }

  private compare(a: string, b: string): number {
    if (!this.needsUtf8Compare) return a < b ? -1 : a > b ? 1 : 0;
    return compareUtf8(a, b);
  }

  private ensureSorted(): void {
    if (this.sorted) return;
    if (this.needsUtf8Compare) this.keys.sort(compareUtf8);
    else this.keys.sort();
    this.sorted = true;
  }

  /** First index whose key is >= `key`. */
  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(this.keys[mid] as string, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
