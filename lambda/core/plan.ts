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
  /**
   * The version of the object this copy replaces, when the backup recorded it current at the key
   * and the copy brings another: that object is retired into history first (docs/history.md).
   */
  readonly replaces?: number;
}

/** What the backup recorded when it wrote a key (the catalog entry of the last completed run). */
export interface Recorded {
  /** Cloudinary's version of the original the object holds. */
  readonly version: number;
  /** False when that version was listed but not copied (the entry is `stale`). */
  readonly current: boolean;
}

/**
 * The one rule for "is the backup of this asset current". An asset is copied when
 * - its key is missing from the destination, or
 * - the stored size differs from Cloudinary's `bytes` (a replacement or a truncated copy), or
 * - the version recorded when the object was written (the catalog) is not Cloudinary's
 *   `version`, or that version was never copied: the original was replaced by one of the same
 *   size after we copied it.
 * Only when no record exists (a backup made by something else, a lost catalog) does the rule fall
 * back to the clocks: `version` (the upload time, Unix seconds) later than the stored object's
 * last-modified time. Clocks differ between Cloudinary and the destination, and folders carry
 * arbitrary mtimes, so the record always wins.
 * Remote delivery types (fetch, social profiles) are someone else's URL: skipped, not copied.
 */
export const decide = (asset: Asset, stored: StoredObject | undefined, recorded?: Recorded): Decision => {
  if (!isBackedUpType(asset)) return { action: 'skip', reason: `remote delivery type "${asset.type}"` };
  if (stored === undefined) return { action: 'copy', reason: 'missing' };
  if (stored.size !== asset.bytes) return { action: 'copy', reason: 'size' };
  if (recorded !== undefined) return recorded.current && recorded.version === asset.version ? { action: 'unchanged' } : { action: 'copy', reason: 'version' };
  if (asset.version * 1000 > stored.lastModified.getTime()) return { action: 'copy', reason: 'version' };
  return { action: 'unchanged' };
};

/** Plans one listing page against what the destination holds. */
export const planPage = (
  prefix: string,
  assets: readonly Asset[],
  lookup: (key: string) => StoredObject | undefined,
  recordOf: (key: string) => Recorded | undefined = () => undefined,
): PlannedAsset[] =>
  assets.map((asset) => {
    const key = keyFor(prefix, asset);
    if (!isBackedUpType(asset)) return { asset, key, decision: decide(asset, undefined) };
    const stored = lookup(key);
    const recorded = recordOf(key);
    const decision = decide(asset, stored, recorded);
    const replaces = decision.action === 'copy' && stored && recorded?.current && recorded.version !== asset.version ? recorded.version : undefined;
    return { asset, key, decision, ...(replaces === undefined ? {} : { replaces }) };
  });
