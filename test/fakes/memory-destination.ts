import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { StoredObject } from '../../lambda/core/asset.ts';
import { DestinationError, PreconditionFailedError } from '../../lambda/core/errors.ts';
import type { Destination, PutRequest, PutResult, TaggedObject, WriteCondition } from '../../lambda/ports/storage.ts';

/** Options of the in-memory destination. */
export interface MemoryDestinationOptions {
  /**
   * Maps a key to the name the store files it under, as a case-insensitive or normalising file
   * system does (APFS, HFS+, exFAT, NTFS): two keys with one name are one object. @default identity
   */
  readonly fold?: (key: string) => string;
  /** The store's clock, for last-modified times. @default Date.now */
  readonly now?: () => number;
  /**
   * Store a streamed put as soon as `length` bytes have arrived, as an HTTP PUT with that
   * Content-Length completes once the server has them (RFC 9110 §8.6; S3 PutObject ContentLength),
   * whatever the body does afterwards. @default false (the whole body is read, then checked)
   */
  readonly commitAtLength?: boolean;
}

interface Stored {
  key: string;
  body: Buffer;
  lastModified: Date;
}

/**
 * A Destination held in memory, with the same promises as S3 and the folder (the contract
 * suite holds all three to them): atomic puts (a body that fails or delivers a different length
 * stores nothing), listing by prefix, conditional writes that refuse with 412 semantics.
 * `deleted` records deletes, `puts` every completed put.
 */
export class MemoryDestination implements Destination {
  readonly description = 'memory';
  readonly deleted: string[] = [];
  readonly puts: string[] = [];
  /** Make the next n puts under a key prefix fail (fault injection). */
  readonly failPuts = new Map<string, number>();
  private readonly store = new Map<string, Stored>();
  private readonly fold: (key: string) => string;
  private readonly now: () => number;
  private readonly commitAtLength: boolean;

  constructor(options: MemoryDestinationOptions = {}) {
    this.fold = options.fold ?? ((k) => k);
    this.now = options.now ?? Date.now;
    this.commitAtLength = options.commitAtLength ?? false;
  }

  /** The stored bytes of a key (as the store resolves it), or undefined. */
  bytes(key: string): Buffer | undefined {
    return this.store.get(this.fold(key))?.body;
  }

  /** Every stored key, as written. */
  keys(): string[] {
    return [...this.store.values()].map((s) => s.key).sort();
  }

  /** Stores bytes directly (test set-up). */
  set(key: string, body: Buffer, lastModified = new Date(this.now())): void {
    this.store.set(this.fold(key), { key, body, lastModified });
  }

  async check(): Promise<void> {}

  fileIdentity(key: string): string {
    return this.fold(key);
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    for (const s of [...this.store.values()].sort((a, b) => (a.key < b.key ? -1 : 1))) {
      if (s.key.startsWith(prefix)) yield { key: s.key, size: s.body.length, lastModified: s.lastModified };
    }
  }

  async head(key: string): Promise<StoredObject | undefined> {
    const s = this.store.get(this.fold(key));
    return s && { key: s.key, size: s.body.length, lastModified: s.lastModified };
  }

  async put(r: PutRequest): Promise<PutResult> {
    for (const [prefix, n] of this.failPuts) {
      if (r.key.startsWith(prefix) && n > 0) {
        this.failPuts.set(prefix, n - 1);
        if (!Buffer.isBuffer(r.body)) r.body.destroy();
        throw new DestinationError(`writing ${r.key} failed: injected failure`);
      }
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let committed = false;
    for await (const c of Buffer.isBuffer(r.body) ? [r.body] : r.body) {
      chunks.push(c as Buffer);
      received += (c as Buffer).length;
      if (this.commitAtLength && !committed && received >= r.length) {
        committed = true;
        this.set(r.key, Buffer.concat(chunks).subarray(0, r.length));
        this.puts.push(r.key);
      }
    }
    if (committed) return { bytes: r.length };
    const body = Buffer.concat(chunks);
    // S3 refuses a body whose length differs from Content-Length (IncompleteBody / BadDigest).
    if (body.length !== r.length) throw new DestinationError(`writing ${r.key} failed: ${body.length} bytes sent for Content-Length ${r.length}`);
    this.set(r.key, body);
    this.puts.push(r.key);
    return { bytes: r.length };
  }

  async get(key: string): Promise<Readable> {
    const s = this.store.get(this.fold(key));
    if (!s) throw new DestinationError(`reading ${key} failed: not found`, { notFound: true });
    return Readable.from([s.body]);
  }

  async delete(key: string): Promise<void> {
    this.deleted.push(key);
    this.store.delete(this.fold(key));
  }

  async readTagged(key: string): Promise<TaggedObject | undefined> {
    const s = this.store.get(this.fold(key));
    return s && { body: s.body, etag: tagOf(s.body) };
  }

  async writeConditional(key: string, body: Buffer, condition: WriteCondition): Promise<string> {
    const s = this.store.get(this.fold(key));
    if ('ifNoneMatch' in condition ? s !== undefined : s === undefined || tagOf(s.body) !== condition.ifMatch) {
      throw new PreconditionFailedError(key);
    }
    this.set(key, body);
    return tagOf(body);
  }
}

const tagOf = (body: Buffer): string => `"${createHash('md5').update(body).digest('hex')}"`;
