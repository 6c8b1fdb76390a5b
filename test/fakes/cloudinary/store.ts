/** The fake account's assets: what every endpoint reads and the Upload API and tests change. */
import { createHash } from 'node:crypto';
import { bufferChunks, collect, seededChunks, sha256Of } from '../content.ts';
import { HttpError } from '../http-util.ts';
import { isoSeconds } from './params.ts';
import { RESOURCE_TYPES } from './types.ts';
import type { FakeAsset, FakeAssetSpec, MutableAsset, ResourceType } from './types.ts';

/** The store's key of an asset: an asset is one (resource_type, type, public_id). */
export function assetKey(publicId: string, resourceType: string, type: string): string {
  return `${resourceType}/${type}/${publicId}`;
}

/** The format an asset gets when none is given: 'jpg' for images, 'mp4' for videos, none for raw. */
export function defaultFormat(resourceType: ResourceType): string {
  return resourceType === 'image' ? 'jpg' : resourceType === 'video' ? 'mp4' : '';
}

function defaultDims(resourceType: ResourceType): [number, number] {
  return resourceType === 'video' ? [1920, 1080] : [1200, 800];
}

/** A `:resource_type` path segment; anything else is a 404 with Cloudinary's message. */
export function parseResourceType(value: string): ResourceType {
  if ((RESOURCE_TYPES as readonly string[]).includes(value)) return value as ResourceType;
  throw new HttpError(404, `Invalid resource_type ${value}`);
}

/** Assets by key and in creation order (the listing order), with their served bytes. */
export class AssetStore {
  private readonly assets = new Map<string, MutableAsset>();
  /** Every asset, ascending `seq` (the listing order). */
  private readonly orderedAssets: MutableAsset[] = [];
  private seqCounter = 0;
  private readonly shaCache = new Map<string, string>();

  constructor(
    private readonly cloudName: string,
    private readonly nowSeconds: () => number,
  ) {}

  /** Every asset, ascending `seq`; the endpoints read it, never change it. */
  get ordered(): readonly MutableAsset[] {
    return this.orderedAssets;
  }

  /** Adds (or overwrites, keeping nothing) an asset. */
  add(spec: FakeAssetSpec): MutableAsset {
    const resourceType = spec.resourceType ?? 'image';
    const type = spec.type ?? 'upload';
    const key = assetKey(spec.publicId, resourceType, type);
    if (this.assets.has(key)) this.delete(spec.publicId, resourceType, type);
    const version = spec.version ?? this.nowSeconds();
    const seq = ++this.seqCounter;
    const asset: MutableAsset = {
      assetId: createHash('md5').update(`${this.cloudName}:${key}:${seq}`).digest('hex'),
      publicId: spec.publicId,
      resourceType,
      type,
      format: spec.format ?? defaultFormat(resourceType),
      bytes: spec.bytes ?? spec.content?.length ?? 1000,
      version,
      createdAt: spec.createdAt ?? isoSeconds(version * 1000),
      tags: [...(spec.tags ?? [])],
      context: { ...(spec.context ?? {}) },
      metadata: { ...(spec.metadata ?? {}) },
      seq,
      generation: 0,
      assetFolder: spec.assetFolder ?? '',
      displayName: spec.displayName ?? (spec.publicId.split('/').pop() ?? spec.publicId),
      accessMode: spec.accessMode ?? 'public',
    };
    if (spec.accessControl) asset.accessControl = spec.accessControl.map((r) => ({ ...r }));
    if (spec.moderationStatus !== undefined) asset.moderationStatus = spec.moderationStatus;
    if (spec.processing) asset.processing = true;
    const dims = spec.width !== undefined || resourceType !== 'raw' ? defaultDims(resourceType) : undefined;
    if (dims) {
      asset.width = spec.width ?? dims[0];
      asset.height = spec.height ?? dims[1];
    }
    if (spec.content) asset.content = spec.content;
    if (spec.secureUrlOverride !== undefined) asset.secureUrlOverride = spec.secureUrlOverride;
    this.assets.set(key, asset);
    this.orderedAssets.push(asset);
    return asset;
  }

  /** A new version of an existing asset (see CloudinaryFake.replaceAsset). */
  replace(
    publicId: string,
    resourceType: ResourceType,
    type: string,
    changes: { bytes?: number; content?: Buffer; version?: number; format?: string },
  ): MutableAsset {
    const asset = this.mustGet(publicId, resourceType, type);
    asset.version = changes.version ?? Math.max(this.nowSeconds(), asset.version + 1);
    asset.generation += 1;
    if (changes.content) asset.content = changes.content;
    else delete asset.content;
    asset.bytes = changes.bytes ?? changes.content?.length ?? asset.bytes;
    if (changes.format !== undefined) asset.format = changes.format;
    return asset;
  }

  /** Replaces tags / context / structured metadata where given; the version stays. */
  updateMetadata(
    publicId: string,
    resourceType: ResourceType,
    type: string,
    changes: { tags?: string[]; context?: Record<string, string>; metadata?: Record<string, unknown> },
  ): MutableAsset {
    const asset = this.mustGet(publicId, resourceType, type);
    if (changes.tags) asset.tags = [...changes.tags];
    if (changes.context) asset.context = { ...changes.context };
    if (changes.metadata) asset.metadata = { ...changes.metadata };
    return asset;
  }

  /** Removes an asset; false when it was not there. */
  delete(publicId: string, resourceType: ResourceType, type: string): boolean {
    const key = assetKey(publicId, resourceType, type);
    const asset = this.assets.get(key);
    if (!asset) return false;
    this.assets.delete(key);
    const at = this.lowerBound(asset.seq);
    if (this.orderedAssets[at] === asset) this.orderedAssets.splice(at, 1);
    return true;
  }

  /** The asset, or undefined. */
  get(publicId: string, resourceType: string, type: string): MutableAsset | undefined {
    return this.assets.get(assetKey(publicId, resourceType, type));
  }

  /** The asset; a test that names a missing one gets a plain error (a test bug, not an HTTP answer). */
  mustGet(publicId: string, resourceType: ResourceType, type: string): MutableAsset {
    const asset = this.assets.get(assetKey(publicId, resourceType, type));
    if (!asset) throw new Error(`CloudinaryFake: no asset ${assetKey(publicId, resourceType, type)}`);
    return asset;
  }

  /** First index in `ordered` whose seq >= `seq`. */
  lowerBound(seq: number): number {
    let lo = 0;
    let hi = this.orderedAssets.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.orderedAssets[mid] as MutableAsset).seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The bytes delivery and download serve, in chunks. */
  contentChunks(asset: FakeAsset): Generator<Buffer> {
    const seeded = this.contentSeed(asset);
    return seeded ? seededChunks(seeded.seed, seeded.size) : bufferChunks(asset.content as Buffer);
  }

  /** The content.ts seed and size of generated bytes; undefined when the asset holds its bytes. */
  contentSeed(asset: FakeAsset): { seed: string; size: number } | undefined {
    return asset.content ? undefined : { seed: `${asset.assetId}:${asset.generation}`, size: asset.bytes };
  }

  /** The served bytes as one buffer (small assets only). */
  contentOf(asset: FakeAsset): Buffer {
    return collect(this.contentChunks(asset));
  }

  /** Size of what is served (differs from the listed `bytes` only when a test made it lie). */
  servedSize(asset: FakeAsset): number {
    return asset.content ? asset.content.length : asset.bytes;
  }

  /** Hex SHA-256 of the served bytes (computed by streaming, cached per version). */
  expectedSha256(asset: FakeAsset): string {
    const key = `${asset.assetId}:${asset.generation}:${asset.content ? 'c' : asset.bytes}`;
    let sha = asset.content ? undefined : this.shaCache.get(key);
    if (sha === undefined) {
      sha = sha256Of(this.contentChunks(asset));
      if (!asset.content) this.shaCache.set(key, sha);
    }
    return sha;
  }
}
