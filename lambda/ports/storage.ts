import type { Readable } from 'node:stream';
import type { Asset, StoredObject } from '../core/asset.ts';
import type { UsageInfo } from '../core/budget.ts';
import type { DownloadApiReason } from '../core/download-route.ts';

/** Rate-limit figures from an Admin API response (the SDK's `rate_limit_*` fields). */
export interface RateLimitInfo {
  readonly limit: number;
  readonly remaining: number;
  readonly resetAt: Date;
}

/** One page of one resource type's listing. */
export interface ListPage {
  readonly assets: Asset[];
  /** Absent on the last page. */
  readonly nextCursor?: string;
  /** Present when Cloudinary sent the rate-limit headers. */
  readonly rateLimit?: RateLimitInfo;
}

/** An opened original: its bytes and how many there will be. */
export interface OpenedAsset {
  readonly body: Readable;
  /** The length the server announced (Content-Length), or the listing's `bytes` when none. */
  readonly length: number;
}

/**
 * How an original is fetched: `cdn` (a signed delivery URL, no Admin API call) or `api`
 * (Cloudinary's signed download endpoint on the API host, counted as one Admin API call: the docs
 * do not say it is not).
 */
export type DownloadRoute = 'cdn' | 'api';

/** Cloudinary (or anything that lists assets and serves their originals). */
export interface Source {
  /**
   * One Admin API call: one page of one resource type and delivery type, with tags, context
   * and structured metadata. Rejects with a SourceError carrying `httpCode` (420/429 carry a
   * `retryAt` date); 5xx and network errors may be retried, 401/404 may not.
   */
  listPage(resourceType: string, type: string, cursor: string | undefined): Promise<ListPage>;
  /**
   * Starts the download of one original, from a Cloudinary host only. Rejects with an
   * AssetCopyError (`retryable` says whether another try may help). The caller must check
   * that the body delivers exactly `length` bytes; the stream is aborted by `signal`.
   * `route` forces a route (see routeFor); on the `cdn` route a CdnRefusedError means "fetch it
   * through `api`". An asset still processing rejects with AssetNotReadyError.
   */
  open(asset: Asset, signal: AbortSignal, route?: DownloadRoute): Promise<OpenedAsset>;
  /** The route `open` takes for this asset when none is forced. @default 'cdn' */
  routeFor?(asset: Asset): DownloadRoute;
  /** Why `routeFor` says `api` for this asset (undefined when it says `cdn`). */
  downloadApiReason?(asset: Asset): DownloadApiReason | undefined;
  /** One Admin API call: credits used and the plan's limit. Rejects like listPage. */
  usage?(): Promise<UsageInfo | undefined>;
  /**
   * One Admin API call: the structured metadata field definitions (`GET /metadata_fields`), as
   * Cloudinary returns them. Rejects like listPage.
   */
  metadataFields?(): Promise<{ readonly fields: unknown[]; readonly rateLimit?: RateLimitInfo }>;
  /** One Admin API call: creates one structured metadata field definition. Rejects like listPage. */
  createMetadataField?(field: Readonly<Record<string, unknown>>): Promise<{ readonly rateLimit?: RateLimitInfo }>;
  /**
   * One Admin API call: records a moderation decision on an asset under moderation (restore).
   * Rejects like listPage.
   */
  updateModeration?(publicId: string, resourceType: string, type: string, status: 'approved' | 'rejected'): Promise<{ readonly rateLimit?: RateLimitInfo }>;
}

/** What a finished write wrote. */
export interface PutResult {
  readonly bytes: number;
}

/** A write of one object. */
export interface PutRequest {
  readonly key: string;
  /** A stream (copied once, never replayed) or a small buffer. */
  readonly body: Readable | Buffer;
  /** Exact number of bytes the body delivers. */
  readonly length: number;
  /** Cloudinary identity; values are ASCII-safe (see core/metadata.ts). */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly contentType?: string;
  readonly signal?: AbortSignal;
  /**
   * The body's sha256 (hex), known once the body has ended (the length check computes it). A
   * destination may send it for the store to check every byte (S3: a checksum trailer).
   */
  readonly sha256?: () => string | undefined;
  /**
   * Resolves when the body's input is open and its bytes are about to flow; rejects when it
   * never will (the body then errors too). A destination may prepare its request meanwhile but
   * sends nothing before: a download that fails to open costs the store no request.
   */
  readonly ready?: Promise<void>;
}

/** A small object and its entity tag (see Destination.readTagged). */
export interface TaggedObject {
  readonly body: Buffer;
  readonly etag: string;
}

/** The condition of a conditional write. */
export type WriteCondition = { readonly ifNoneMatch: '*' } | { readonly ifMatch: string };

/** An S3 bucket, a local folder, or anything that stores objects by key. */
export interface Destination {
  /** Where it writes, for messages (never a secret). */
  readonly description: string;
  /**
   * Checks that the destination exists and can be written, before anything is downloaded.
   * Rejects with a ConfigError that says what to fix.
   */
  check(): Promise<void>;
  /**
   * Checks, without writing, that the destination can be read (for the commands that only read:
   * status, ls, get). Rejects with a ConfigError that says what to fix. Absent: nothing to check.
   */
  checkReadable?(): Promise<void>;
  /** Every object whose key starts with `keyPrefix`. Rejects with a DestinationError. */
  list(keyPrefix: string): AsyncIterable<StoredObject>;
  /** One object's size and time, or undefined when the key does not exist. */
  head(key: string): Promise<StoredObject | undefined>;
  /**
   * Writes an object atomically: it appears whole or not at all, and when the write fails
   * (including when the body errors) the previous object at that key is untouched and no
   * partial upload is left behind. Not retried here: a retry needs a fresh body.
   */
  put(request: PutRequest): Promise<PutResult>;
  /** Reads one object; rejects with a DestinationError (`notFound` when missing). */
  get(key: string): Promise<Readable>;
  /** Deletes one object; deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Copies the object at `fromKey` to `toKey` inside the destination (S3: a server-side
   * CopyObject, no bytes through this process; a folder: a copy renamed into place), metadata
   * kept. Optional: without it, history copies by get and put. Rejects with DestinationError
   * (`notFound` when there is no object at `fromKey`); may be retried.
   */
  copy?(fromKey: string, toKey: string): Promise<void>;
  /**
   * Reads a small object with its entity tag, for a later conditional write; undefined when the
   * key does not exist. Rejects with a DestinationError otherwise.
   */
  readTagged(key: string): Promise<TaggedObject | undefined>;
  /**
   * Writes a small object only if the condition holds: `{ ifNoneMatch: '*' }` (the key does not
   * exist) or `{ ifMatch: etag }` (the object is still the one read with that tag). Resolves with
   * the new entity tag; rejects with a PreconditionFailedError when the condition fails (also when
   * two writers race: exactly one wins), a DestinationError otherwise.
   */
  writeConditional(key: string, body: Buffer, condition: WriteCondition): Promise<string>;
  /**
   * Cleans up after failed writes whose own clean-up failed (S3: a multipart upload whose abort
   * did not reach the server). Called once at the end of a run; never throws.
   */
  settle?(): Promise<void>;
  /**
   * The file a key is stored in, as the store compares names: on a case-insensitive or
   * normalising file system `Photo.jpg` and `photo.jpg` are one file. Two keys with one identity
   * are one object; absent, every key is its own object (S3).
   */
  fileIdentity?(key: string): string;
  /**
   * Aborts multipart uploads under `keyPrefix` started before `olderThan` (and, when given, whose
   * key `accept` takes) — what a killed run leaves behind. Resolves with how many it aborted; 0
   * when the store cannot list them.
   */
  abortStaleUploads?(keyPrefix: string, olderThan: Date, accept?: (key: string) => boolean): Promise<number>;
}
