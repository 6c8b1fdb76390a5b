import { catalogRoot } from '../core/keys.ts';
import type { Destination } from '../ports/storage.ts';
import { readJson } from './read-json.ts';

/** The run lease as stored at `<prefix>/_catalog/lease.json` (written by the run that takes it). */
export interface LeaseRecord {
  readonly holder: string;
  readonly runId: string;
  readonly takenAt: string;
  readonly expiresAt: string;
}

/** What `status` says about the lease. */
export interface LeaseView {
  /** True when a run holds the lease now (its expiry is in the future). */
  readonly held: boolean;
  readonly holder?: string;
  readonly runId?: string;
  readonly takenAt?: string;
  readonly expiresAt?: string;
}

/** The lease's key under a prefix. */
export const leaseKey = (prefix: string): string => `${catalogRoot(prefix)}/lease.json`;

/**
 * Reads the lease without taking it. A lease whose expiry has passed is free: a released
 * lease is written with an expiry in the past, and a crashed holder's lease runs out.
 */
export const viewLease = async (destination: Destination, prefix: string, now: Date): Promise<LeaseView> => {
  const rec = await readJson<Partial<LeaseRecord>>(destination, leaseKey(prefix));
  if (!rec) return { held: false };
  const expires = Date.parse(rec.expiresAt ?? '');
  return {
    // A released lease is free whatever the clocks say (see isLive in lease.ts).
    held: (rec as { released?: unknown }).released !== true && Number.isFinite(expires) && expires > now.getTime(),
    ...(rec.holder === undefined ? {} : { holder: rec.holder }),
    ...(rec.runId === undefined ? {} : { runId: rec.runId }),
    ...(rec.takenAt === undefined ? {} : { takenAt: rec.takenAt }),
    ...(rec.expiresAt === undefined ? {} : { expiresAt: rec.expiresAt }),
  };
};
