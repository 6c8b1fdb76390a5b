import { LEASE_LIFETIME_MS, Lease, describeHolder } from '../store/lease.ts';
import type { LeaseToken } from '../store/lease.ts';
import type { Destination } from '../ports/storage.ts';
import { LeaseLostError } from '../core/errors.ts';
import type { EngineOptions } from './options.ts';

/**
 * The run lease as one engine holds it: the token this process last wrote (newer than a
 * checkpoint's after a renewal), renewals serialised (a timer and a step may both ask), and a
 * release that happens once.
 */
export class RunLease {
  private readonly lease: Lease;
  private token: LeaseToken | undefined;
  private renewing: Promise<unknown> = Promise.resolve();
  /** Set once released: a renewal still in flight or asked later must not bring the lease back. */
  private released = false;
  /** Set when a renewal found another run's lease: from then on this run writes nothing more. */
  private lost: LeaseLostError | undefined;

  constructor(destination: Destination, private readonly options: EngineOptions) {
    const where = `${destination.description}${options.prefix ? ` (prefix ${options.prefix})` : ''}`;
    this.lease = new Lease(destination, options.prefix, where, options.leaseLifetimeMs ?? LEASE_LIFETIME_MS, options.leaseOwner);
  }

  /** Takes the lease for a new run (LeaseHeldError when another run holds it). */
  async acquire(runId: string, now: Date): Promise<LeaseToken> {
    this.token = await this.lease.acquire(this.options.holder ?? describeHolder('cloudinary-backup'), runId, now, this.options.leaseReclaimable ?? false);
    this.released = false;
    return this.token;
  }

  /** Renews from the newest token known (`fromState`: a checkpoint's); only when due unless forced. Throws LeaseLostError. */
  async renew(fromState: LeaseToken | undefined, force = true): Promise<LeaseToken | undefined> {
    const from = this.token ?? fromState;
    if (!from || this.released || (!force && !this.lease.due(from))) return from;
    const next = this.renewing.then(() => (this.released ? from : this.lease.renew(this.token ?? from)));
    this.renewing = next.catch(() => undefined);
    try {
      this.token = await next;
    } catch (err) {
      if (err instanceof LeaseLostError) this.lost = err;
      throw err;
    }
    return this.token;
  }

  /**
   * Throws the LeaseLostError a renewal met. Called before every catalog write: once another run
   * holds the lease it writes its catalog pages into the same slots (both start from the same
   * committed pointer), so a page this run wrote after the loss would overwrite the other's.
   */
  assertHeld(): void {
    if (this.lost) throw this.lost;
  }

  /** Releases the lease (LeaseLostError when another run took it over). */
  async release(fromState: LeaseToken | undefined): Promise<void> {
    this.released = true;
    await this.renewing;
    const token = this.token ?? fromState;
    this.token = undefined;
    if (token) await this.lease.release(token);
  }

  /** Releases it if this process holds it; a failure is left to the lease's expiry. */
  async releaseQuietly(): Promise<void> {
    this.released = true;
    await this.renewing;
    const token = this.token;
    this.token = undefined;
    if (token) await this.lease.release(token).catch(() => undefined);
  }
}
