import { isBackedUpType } from './asset.ts';
import type { Asset, StoredObject } from './asset.ts';
import { keyFor } from './keys.ts';

/** Why an asset is copied. */
export type CopyReason = 'missing' | 'size' | 'version';

/** What one asset needs. */
export type Decision =
  | { readonly action: 'copy'; readonly reason: CopyReason }
  | { readonly action: 'unchanged' }
  | { readonly action: 'skip'; readonly reason: string };

/** One asset with its key and what it needs. */
export interface PlannedAsset {
  readonly asset: Asset;
  readonly key: string;
  readonly decision: Decision;
}

/**
 * The one rule for "is the backup of this asset current". An asset is copied when
 * - its key is missing from the destination, or
 * - the stored size differs from Cloudinary's `bytes` (a replacement or a truncated copy), or
 * - Cloudinary's `version` (the upload time, Unix seconds) is later than the stored object's
 *   last-modified time: the original was replaced by one of the same size after we copied it.
 * Remote delivery types (fetch, social profiles) are someone else's URL: skipped, not copied.
 */
export const decide = (asset: Asset, stored: StoredObject | undefined): Decision => {
  if (!isBackedUpType(asset)) return { action: 'skip', reason: `remote delivery type "${asset.type}"` };
  if (stored === undefined) return { action: 'copy', reason: 'missing' };
  if (stored.size !== asset.bytes) return { action: 'copy', reason: 'size' };
  if (asset.version * 1000 > stored.lastModified.getTime()) return { action: 'copy', reason: 'version' };
  return { action: 'unchanged' };
};

/** Plans one listing page against what the destination holds. */
export const planPage = (
  prefix: string,
  assets: readonly Asset[],
  lookup: (key: string) => StoredObject | undefined,
): PlannedAsset[] =>
  assets.map((asset) => {
    const key = keyFor(prefix, asset);
    return { asset, key, decision: decide(asset, isBackedUpType(asset) ? lookup(key) : undefined) };
  });
