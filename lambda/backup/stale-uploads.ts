import { normalizePrefix } from '../core/keys.ts';
import type { Destination } from '../ports/storage.ts';
import type { EngineOptions } from './options.ts';

/** A multipart upload older than this (ms) is a killed run's leftover. */
const DEFAULT_STALE_UPLOAD_AGE_MS = 3600_000;

/**
 * Aborts the multipart uploads a killed run left, under the type folders only (never another
 * app's uploads elsewhere in the bucket). Resolves with how many were aborted (0 for a
 * destination without multipart uploads); rejects like the destination's listing.
 */
export const abortStaleUploads = async (
  destination: Destination,
  options: Pick<EngineOptions, 'prefix' | 'resourceTypes' | 'staleUploadAgeMs'>,
  now: Date,
): Promise<number> => {
  const root = normalizePrefix(options.prefix);
  const olderThan = new Date(now.getTime() - (options.staleUploadAgeMs ?? DEFAULT_STALE_UPLOAD_AGE_MS));
  let aborted = 0;
  for (const rt of options.resourceTypes) aborted += (await destination.abortStaleUploads?.(`${root ? `${root}/` : ''}${rt}/`, olderThan)) ?? 0;
  return aborted;
};
