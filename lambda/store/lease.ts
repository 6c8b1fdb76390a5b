import { hostname } from 'node:os';
import { LeaseHeldError, LeaseLostError, PreconditionFailedError } from '../core/errors.ts';
import type { LeaseHolder } from '../core/errors.ts';
import { catalogRoot } from '../core/keys.ts';
import type { Destination } from '../ports/storage.ts';

/**
 * How long a durable run's lease lasts without renewal. It renews it after every step and every
 * wait; its longest wait is one Admin API window (an hour) and a step lasts at most one
 * invocation (15 minutes), so two hours is never reached by a live run, and a killed run's lease
 * is taken over two hours after its last renewal.
 */
export const LEASE_LIFETIME_MS = 2 * 3600_000;

/**
 * A command-line run's lease: it renews it on a timer (every CLI_LEASE_RENEW_MS, and after every
 * page), so a short lifetime is safe, and a run killed on another machine blocks the backup for
 * ten minutes at most; on the same machine it is taken over at once (isOrphaned). A rate-limit
 * wait in the CLI sleeps in-process, with the timer still renewing.
 */
export const CLI_LEASE_LIFETIME_MS = 10 * 60_000;
/** How often a command-line run renews its lease. */
export const CLI_LEASE_RENEW_MS = 2 * 60_000;

/** A held lease: what a checkpoint keeps to renew or release it (JSON, a few hundred bytes). */
export interface LeaseToken {
  readonly etag: string;
  readonly holder: string;
  readonly runId: string;
  readonly takenAt: string;
  /** When this run last wrote the lease (take or renewal), ISO-8601. */
  readonly renewedAt: string;
}

/** Where this process runs, recorded in a command-line run's lease (see isOrphaned). */
export interface ProcessId {
  readonly host: string;
  readonly pid: number;
}

/** This process, as a lease records it. */
export const thisProcess = (): ProcessId => ({ host: hostname(), pid: process.pid });

/**
 * True when a lease was taken by a process on this machine that no longer runs (a command-line
 * run killed with SIGKILL or a power cut): it is taken over at once instead of after its expiry.
 * `kill(pid, 0)` checks existence only; EPERM means the process exists under another user.
 */
export const isOrphaned = (held: LeaseHolder, me: ProcessId = thisProcess()): boolean => {
  if (held.host !== me.host || held.pid === undefined || held.pid === me.pid) return false;
  try {
    process.kill(held.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
};

/**
 * Whether a lease record still holds: not released, and not past its expiry. A released record
 * is free at once, so a reader whose clock is behind the releaser's (a laptop and the Lambda)
 * does not see it held for the difference.
 */
export const isLive = (held: LeaseHolder, now: Date): boolean => held.released !== true && Date.parse(held.expiresAt) > now.getTime();

/** The outcome of trying to take the lease. */
export type TakeResult = { readonly held: LeaseToken } | { readonly heldBy: LeaseHolder };

/** The lease object's key: `<prefix>/_catalog/lease.json`. */
export const leaseKey = (prefix: string): string => `${catalogRoot(prefix)}/lease.json`;

/** Who this process is, for the lease's `holder` (never a secret). */
export const describeHolder = (kind: string, env: NodeJS.ProcessEnv = process.env): string =>
  env.AWS_LAMBDA_FUNCTION_NAME ? `${kind} (Lambda ${env.AWS_LAMBDA_FUNCTION_NAME})` : `${kind} (pid ${process.pid} on ${hostname()})`;

const encode = (h: LeaseHolder): Buffer => Buffer.from(`${JSON.stringify(h, null, 2)}\n`, 'utf8');

const parse = (body: Buffer): LeaseHolder | undefined => {
  try {
    const v = JSON.parse(body.toString('utf8')) as Partial<LeaseHolder>;
    return typeof v.expiresAt === 'string' && typeof v.holder === 'string' ? (v as LeaseHolder) : undefined;
  } catch {
    return undefined;
  }
};

/**
 * The run lease: one object in the backup, written only with conditional writes, so that two
 * runs on one bucket/prefix or folder never interleave (a scheduled retry, a duplicate async
 * delivery, a manual invoke, a CLI run). Taking it is `If-None-Match: *`, or `If-Match` on the
 * ETag of an expired lease (a killed run's); renewing and releasing are `If-Match` on the ETag
 * this run wrote. Releasing overwrites it with an expiry in the past, so no delete permission is
 * needed. Whoever loses a race gets a 412 and stops.
 */
export class Lease {
  readonly key: string;

  constructor(
    private readonly destination: Destination,
    prefix: string,
    private readonly where: string,
    private readonly lifetimeMs = LEASE_LIFETIME_MS,
    /** Set for a command-line run: recorded, so a run killed on this machine is noticed at once. */
    private readonly owner?: ProcessId,
  ) {
    this.key = leaseKey(prefix);
  }

  /** Takes the lease for `runId`, or says who holds it. Throws DestinationError on other failures. */
  async take(holder: string, runId: string, now = new Date(), reclaim = false): Promise<TakeResult> {
    const record = (): LeaseHolder => ({
      holder,
      runId,
      takenAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.lifetimeMs).toISOString(),
      ...(this.owner ?? {}),
    });
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const current = await this.destination.readTagged(this.key);
      const held = current && parse(current.body);
      const ours = reclaim && held?.holder === holder;
      if (held && isLive(held, now) && !isOrphaned(held) && !ours) return { heldBy: held };
      try {
        const r = record();
        const etag = await this.destination.writeConditional(this.key, encode(r), current ? { ifMatch: current.etag } : { ifNoneMatch: '*' });
        return { held: { etag, holder, runId, takenAt: r.takenAt, renewedAt: now.toISOString() } };
      } catch (err) {
        if (!(err instanceof PreconditionFailedError)) throw err;
        // Someone wrote between our read and our write: read again and decide again.
      }
    }
    const current = await this.destination.readTagged(this.key);
    const held = current && parse(current.body);
    if (held) return { heldBy: held };
    throw new LeaseHeldError(this.where, { holder: 'unknown', runId: 'unknown', takenAt: now.toISOString(), expiresAt: now.toISOString() });
  }

  /**
   * Takes the lease or throws LeaseHeldError. With `reclaim`, a lease whose holder is exactly
   * `holder` is taken over (a durable execution whose start step is tried again; the holder names
   * the execution, so two executions never match).
   */
  async acquire(holder: string, runId: string, now = new Date(), reclaim = false): Promise<LeaseToken> {
    const r = await this.take(holder, runId, now, reclaim);
    if ('heldBy' in r) throw new LeaseHeldError(this.where, r.heldBy);
    return r.held;
  }

  /**
   * Writes this run's lease record with `If-Match` on the token's tag. A checkpoint may hold an
   * older tag than the object (a step that renewed, then failed and was run again from its
   * checkpoint): when the lease still names this run, that is our own write, and the write goes
   * on from the object's current tag. Resolves with the new tag; throws LeaseLostError when
   * another run took the lease over.
   */
  private async writeOwn(token: LeaseToken, record: LeaseHolder): Promise<string> {
    let etag = token.etag;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        return await this.destination.writeConditional(this.key, encode(record), { ifMatch: etag });
      } catch (err) {
        if (!(err instanceof PreconditionFailedError)) throw err;
        const current = await this.destination.readTagged(this.key);
        const held = current && parse(current.body);
        if (!current || held?.runId !== token.runId) throw new LeaseLostError(this.where, { cause: err });
        etag = current.etag;
      }
    }
    throw new LeaseLostError(this.where);
  }

  /** Extends the lease by its lifetime. Throws LeaseLostError when another run took it over. */
  async renew(token: LeaseToken, now = new Date()): Promise<LeaseToken> {
    const r: LeaseHolder = { holder: token.holder, runId: token.runId, takenAt: token.takenAt, expiresAt: new Date(now.getTime() + this.lifetimeMs).toISOString(), ...(this.owner ?? {}) };
    return { ...token, renewedAt: now.toISOString(), etag: await this.writeOwn(token, r) };
  }

  /**
   * Whether a lease written at `token.renewedAt` is due for renewal: after an eighth of its
   * lifetime (15 minutes for the durable run's two hours), so a run renews a few times an hour
   * rather than on every step (one S3 request saved per listing page).
   */
  due(token: LeaseToken, now = new Date()): boolean {
    return now.getTime() - Date.parse(token.renewedAt) >= this.lifetimeMs / 8;
  }

  /** Gives the lease up (an expired record, written only if this run still holds it). */
  async release(token: LeaseToken, now = new Date()): Promise<void> {
    const r: LeaseHolder = { holder: token.holder, runId: token.runId, takenAt: token.takenAt, expiresAt: new Date(now.getTime() - 1).toISOString(), released: true };
    await this.writeOwn(token, r);
  }

  /** The lease's holder now, or undefined when it is free (for `status`). */
  async holder(now = new Date()): Promise<LeaseHolder | undefined> {
    const current = await this.destination.readTagged(this.key);
    const held = current && parse(current.body);
    return held && isLive(held, now) ? held : undefined;
  }
}
