import type { Destination } from '../ports/storage.ts';
import type { CatalogPointer } from '../store/catalog.ts';
import type { LeaseToken } from '../store/lease.ts';
import type { EngineOptions, CountingSource } from './options.ts';
import type { RunLease } from './run-lease.ts';
import { saveMetadataFieldsOfRun } from './save-metadata-fields.ts';
import { abortStaleUploads } from './stale-uploads.ts';

/** What a run's start uses of its engine. */
export interface StartParts {
  readonly source: CountingSource;
  readonly destination: Destination;
  readonly options: EngineOptions;
  readonly lease: RunLease;
  /** Reads the previous catalog's pointer (CatalogPages.readPrevious): only once the lease is held. */
  readPointer(): Promise<CatalogPointer | undefined>;
  /** Starts the lease's renewal timer (called as soon as the lease is held). */
  startHeartbeat(): void;
  /** Stops it again (a start that fails). */
  stopHeartbeat(): void;
}

/** What a start found and did. */
export interface Started {
  readonly token: LeaseToken | undefined;
  readonly pointer: CatalogPointer | undefined;
  readonly staleUploadsAborted: number;
  readonly metadataFields: number | undefined;
  /** Admin API calls the start made (the metadata-field definitions). */
  readonly apiCalls: number;
}

/**
 * Takes the lease after the destination's check, both at once (the fixed cost of a run
 * is a chain of round trips before the first byte). The check's error comes first, as when the two
 * ran one after the other: a bucket that is missing or refuses writes says so (exit 2) even when
 * another run holds the lease; a lease this call took while the check failed is released before
 * the error goes on. Resolves only when both succeeded, so no copy can start before.
 */
const checkAndTake = async (parts: StartParts, runId: string, now: Date): Promise<LeaseToken> => {
  const [checked, taken] = await Promise.allSettled([parts.destination.check(), parts.lease.acquire(runId, now)]);
  if (checked.status === 'rejected') {
    if (taken.status === 'fulfilled') await parts.lease.releaseQuietly();
    throw checked.reason;
  }
  if (taken.status === 'rejected') throw taken.reason;
  return taken.value;
};

/**
 * Opens a run (see BackupEngine.start). Unless it is a dry run (which writes nothing, not even a
 * probe, and takes no lease): checks the destination and takes the lease, then, holding it, aborts
 * the multipart uploads a killed run left, reads the catalog pointer and saves the metadata-field
 * definitions, those three at once (they touch different keys; the pointer is read only under the
 * lease, so no other run can commit between its read and this run's commit). A start that fails
 * after taking the lease frees it at once rather than at its expiry, after every request it made
 * has ended (so none writes after the release).
 */
export const startRun = async (parts: StartParts, runId: string, now: Date): Promise<Started> => {
  const { options } = parts;
  if (options.dryRun) {
    return { token: undefined, pointer: await parts.readPointer(), staleUploadsAborted: 0, metadataFields: undefined, apiCalls: 0 };
  }
  const token = await checkAndTake(parts, runId, now);
  if (options.leaseRenewMs !== undefined) parts.startHeartbeat();
  const callsBefore = parts.source.apiCalls;
  const [stale, pointer, fields] = await Promise.allSettled([
    abortStaleUploads(parts.destination, options, now),
    parts.readPointer(),
    saveMetadataFieldsOfRun(parts.source, parts.destination, options.prefix, now),
  ]);
  if (stale.status === 'rejected' || pointer.status === 'rejected') {
    parts.stopHeartbeat();
    await parts.lease.releaseQuietly();
    // The stale-upload listing's error first, as when it ran before the pointer read.
    throw stale.status === 'rejected' ? stale.reason : (pointer as PromiseRejectedResult).reason;
  }
  return {
    token,
    pointer: pointer.value,
    staleUploadsAborted: stale.value,
    // saveMetadataFieldsOfRun never rejects (a failure keeps the previous definitions).
    metadataFields: fields.status === 'fulfilled' ? fields.value : undefined,
    apiCalls: parts.source.apiCalls - callsBefore,
  };
};
