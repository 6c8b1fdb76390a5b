/** The shared state every endpoint of the Cloudinary fake reads: one per CloudinaryFake. */
import type { ServerResponse } from 'node:http';
import type { UrlSignatureAlgorithm } from './delivery-signature.ts';
import type { DownloadFaults } from './download-faults.ts';
import type { ListingFaults } from './listing.ts';
import type { MetadataFieldStore } from './metadata-fields.ts';
import type { RateWindow } from './rate-limit.ts';
import type { AssetStore } from './store.ts';
import type { FakeStats } from './types.ts';
import type { UsageMeter } from './usage.ts';

/** Account settings fixed at construction (see CloudinaryFakeOptions for each). */
export interface FakeSettings {
  readonly signatureMaxAge: number;
  readonly pageSize: number | undefined;
  readonly blockedFormats: ReadonlySet<string>;
  readonly optimizeByDefault: boolean;
  readonly strictTransformations: boolean;
  readonly urlSignatureAlgorithm: UrlSignatureAlgorithm;
  readonly requireMetadataFields: boolean;
  readonly enforcePublicIdRules: boolean;
}

/** What the endpoint functions share; the CloudinaryFake builds it once. */
export interface FakeContext {
  readonly cloudName: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly settings: FakeSettings;
  /** The fake's clock in epoch ms. */
  now(): number;
  /** `http://127.0.0.1:PORT`: the host `secure_url` points at. */
  origin(): string;
  /** The current counters (resetStats replaces the object, so read it at each use). */
  stats(): FakeStats;
  readonly store: AssetStore;
  readonly rate: RateWindow;
  readonly usage: UsageMeter;
  readonly listingFaults: ListingFaults;
  readonly downloadFaults: DownloadFaults;
  readonly metadataFields: MetadataFieldStore;
  /** Chunked uploads in progress, by X-Unique-Upload-Id. */
  readonly chunkSessions: Map<string, Array<{ start: number; data: Buffer }>>;
  /** Stalled downloads, closed by stop(). */
  readonly stalled: Set<ServerResponse>;
}

/** The fake's clock in Unix seconds (versions, signature timestamps, expires_at). */
export function nowSeconds(ctx: Pick<FakeContext, 'now'>): number {
  return Math.floor(ctx.now() / 1000);
}
