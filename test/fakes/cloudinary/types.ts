/**
 * The types a test hands the Cloudinary fake or reads back from it: asset specs and assets,
 * request counters, constructor options and fault options.
 */

export type ResourceType = 'image' | 'video' | 'raw';
export const RESOURCE_TYPES: readonly ResourceType[] = ['image', 'video', 'raw'];

/** One `access_control` rule as the Upload API takes and the Admin API lists it. */
export interface FakeAccessRule {
  access_type: string;
  start?: string;
  end?: string;
}

/** What a test gives `addAsset`. */
export interface FakeAssetSpec {
  publicId: string;
  /** Default 'image'. */
  resourceType?: ResourceType;
  /** Delivery type. Default 'upload'; also 'private', 'authenticated', 'fetch', ... */
  type?: string;
  /** Default 'jpg' for images, 'mp4' for videos, '' for raw (then no `format` is listed). */
  format?: string;
  /** Listed size in bytes, default 1000. With `content` too, the listing may lie about the size. */
  bytes?: number;
  /** Upload time in Unix seconds. Default: the fake's clock. */
  version?: number;
  /** ISO date; default the version's time. */
  createdAt?: string;
  tags?: string[];
  context?: Record<string, string>;
  metadata?: Record<string, unknown>;
  width?: number;
  height?: number;
  /** Stored bytes; otherwise deterministic bytes are generated lazily (any size, no memory). */
  content?: Buffer;
  /** Listed secure_url instead of the fake's own delivery URL (attack tests). */
  secureUrlOverride?: string;
  /** Dynamic folders: the Media Library folder. Default '' (the root). */
  assetFolder?: string;
  /** Dynamic folders: the shown name. Default: the last segment of the public_id. */
  displayName?: string;
  /** 'public' (default) or 'authenticated'. */
  accessMode?: string;
  accessControl?: FakeAccessRule[];
  /** Listed as `moderation_status` when the listing asks for moderations. */
  moderationStatus?: string;
  /** Still processing: listed as a placeholder with status "pending", delivery answers 423. */
  processing?: boolean;
}

/** An asset in the fake's store. Change it only through the fake's methods. */
export interface FakeAsset {
  readonly assetId: string;
  readonly publicId: string;
  readonly resourceType: ResourceType;
  readonly type: string;
  readonly format: string;
  /** The size the Admin API lists. */
  readonly bytes: number;
  readonly version: number;
  readonly createdAt: string;
  readonly tags: readonly string[];
  readonly context: Readonly<Record<string, string>>;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly width?: number;
  readonly height?: number;
  readonly content?: Buffer;
  readonly secureUrlOverride?: string;
  readonly assetFolder: string;
  readonly displayName: string;
  readonly accessMode: string;
  readonly accessControl?: readonly FakeAccessRule[];
  readonly moderationStatus?: string;
  readonly processing?: boolean;
  /** Creation order (listing order). */
  readonly seq: number;
  /** Bumped by every replace: seeds the generated content. */
  readonly generation: number;
}

/** An asset as the fake's own parts change it (tests get the readonly FakeAsset). */
export type MutableAsset = { -readonly [K in keyof FakeAsset]: FakeAsset[K] };

export type RequestKind = 'listing' | 'resource' | 'usage' | 'metadata' | 'download' | 'delivery' | 'upload' | 'other';

export interface FakeStats {
  /** Admin API requests received (listing, resource, usage), whatever their outcome. */
  adminCalls: number;
  listingCalls: number;
  /** Downloads started with a 200 (signed downloads and public delivery). */
  downloads: number;
  /** Body bytes actually written by downloads. */
  downloadBytes: number;
  /** Uploads that stored an asset (a chunked upload counts once). */
  uploads: number;
  requests: Record<RequestKind, number>;
}

export interface CloudinaryFakeOptions {
  cloudName?: string;
  apiKey?: string;
  apiSecret?: string;
  /** Admin API calls allowed per hour (Cloudinary free plan: 500). */
  rateLimit?: number;
  /** Clock in epoch milliseconds (rate-limit windows, versions, signature freshness). */
  now?: () => number;
  /**
   * How far a signed request's `timestamp` may be from `now()` (Cloudinary: 1 hour). The SDK
   * stamps real time, so a test whose injected clock is far from real time sets Infinity.
   */
  signatureMaxAgeSeconds?: number;
  /** Length of a rate-limit window in ms (Cloudinary: one hour). Short windows let a CLI test wait for a real reset. */
  rateWindowMs?: number;
  /**
   * Most resources one listing page holds, below what max_results asks (Cloudinary may return
   * fewer): lets a test have many pages with few assets. Default: max_results.
   */
  pageSize?: number;
  /**
   * Formats whose CDN delivery answers 401 (a Free plan's default, see FREE_PLAN_BLOCKED).
   * Default: FREE_PLAN_BLOCKED; [] for an account where the owner unblocked them.
   */
  blockedFormats?: readonly string[];
  /** "Optimize by default": un-transformed image/video URLs serve re-encoded bytes. Default false. */
  optimizeByDefault?: boolean;
  /**
   * Strict transformations (Settings > Security): an image or video URL with a transformation
   * (`fl_original` included) is delivered only when signed; 401 otherwise. Default false.
   */
  strictTransformations?: boolean;
  /** The hash of 8-character delivery URL signatures (the SDK's `signature_algorithm`). Default 'sha1'. */
  urlSignatureAlgorithm?: 'sha1' | 'sha256';
  /**
   * An older per-quota plan: `GET /usage` has no `credits` object, only per-metric limits
   * (Admin API reference, usage response). Default false.
   */
  legacyQuotaPlan?: boolean;
  /**
   * Uploads whose structured `metadata` names a field the account does not define are refused
   * with 400, as Cloudinary refuses them (a restore into another account fails for
   * every such asset). Default false: most tests upload metadata without defining fields.
   */
  requireMetadataFields?: boolean;
  /**
   * The Upload API applies Cloudinary's public_id rules (see checkPublicId). Default true, as
   * Cloudinary does; false only to seed an account through uploads with names it would refuse.
   * Assets added with addAsset are never checked: they stand for what an account already holds,
   * and the rules page says "These requirements may change from time to time", so names made
   * under older rules (or by routes other than this upload) can be listed and must be backed up.
   */
  enforcePublicIdRules?: boolean;
}

export interface ListingFaultOptions {
  /** How many consecutive listings fail. Default 1. */
  times?: number;
  message?: string;
  /** For 420/429: the "Try again on" time (epoch ms). Default: the rate-limit window reset. */
  retryAt?: number;
  /** For 420/429: the "Try again on" time as this many ms after the fault fires (wins over retryAt). */
  retryInMs?: number;
  /** Listings that succeed before the first failure (a fault in the middle of a listing). Default 0. */
  after?: number;
}

/** Options of the download faults (cutDownload, stallDownload, ...). */
export interface DownloadFaultOptions {
  /** Apply to every download of the asset, not only the next one. */
  persistent?: boolean;
}

/** Counters at zero. */
export function emptyStats(): FakeStats {
  return {
    adminCalls: 0,
    listingCalls: 0,
    downloads: 0,
    downloadBytes: 0,
    uploads: 0,
    requests: { listing: 0, resource: 0, usage: 0, metadata: 0, download: 0, delivery: 0, upload: 0, other: 0 },
  };
}
