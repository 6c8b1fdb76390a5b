import { LeaseLostError } from '../core/errors.ts';
import type { RunLease } from './run-lease.ts';

/**
 * Renews the run lease on a timer from the moment it is taken until the run ends (the command
 * line: a rate-limit wait or a long page must not outlive the 10-minute lease). Losing the lease
 * calls `onLost` (the engine cancels the run); any other renewal error is left to the next tick.
 */
export class LeaseHeartbeat {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly lease: RunLease,
    private readonly onLost: () => void,
  ) {}

  /** Starts renewing every `everyMs`; does nothing when already running. */
  start(everyMs: number): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.lease.renew(undefined).catch((err: unknown) => {
        if (err instanceof LeaseLostError) this.onLost();
      });
    }, everyMs);
    // The timer alone must not keep the process alive.
    this.timer.unref();
  }

  /** Stops renewing (a renewal in flight still ends). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
