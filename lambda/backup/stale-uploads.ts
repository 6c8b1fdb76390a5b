import { normalizePrefix } from '../core/keys.ts';
import type { Destination } from '../ports/storage.ts';
import type { EngineOptions } from './options.ts';

/** A multipart upload older than this (ms) is a killed run's leftover. */
const DEFAULT_STALE_UPLOAD_AGE_MS = 3600_000;

/**
 * Aborts the multipart uploads a killed run left, under the type folders only (never another
 * app's uploads elsewhere in the bucket). Under a prefix, one listing of the prefix's uploads,
 * filtered to the type folders, instead of one per resource type (two requests fewer
 * every night); at the bucket's root one listing per type folder, so another app's uploads
 * elsewhere in the bucket are never listed. Resolves with how many were aborted (0 for a
 * destination without multipart uploads); rejects like the destination's listing.
 */
export const abortStaleUploads = async (
  destination: Destination,
  options: Pick<EngineOptions, 'prefix' | 'resourceTypes' | 'staleUploadAgeMs'>,
  now: Date,
): Promise<number> => {
  const root = normalizePrefix(options.prefix);
  const olderThan = new Date(now.getTime() - (options.staleUploadAgeMs ?? DEFAULT_STALE_UPLOAD_AGE_MS));
  const folders = options.resourceTypes.map((rt) => `${root ? `${root}/` : ''}${rt}/`);
  if (root) return (await destination.abortStaleUploads?.(`${root}/`, olderThan, (key) => folders.some((f) => key.startsWith(f)))) ?? 0;
  let aborted = 0;
  for (const folder of folders) aborted += (await destination.abortStaleUploads?.(folder, olderThan)) ?? 0;
  return aborted;
};
