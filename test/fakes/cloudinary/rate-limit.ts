/**
 * The Admin API's hourly allowance (free plan: 500 calls an hour; Cloudinary support article
 * "Are Cloudinary APIs rate-limited?"). Every Admin answer carries
 * `X-FeatureRateLimit-Limit`, `-Remaining` and `-Reset`, the headers the SDK reads into
 * `rate_limit_allowed`, `rate_limit_remaining` and `rate_limit_reset_at` (cloudinary_npm
 * lib/api_client/execute_request.js); a spent allowance answers 420 "Rate Limit Exceeded. Try
 * again on ...".
 */
import { HttpError } from '../http-util.ts';
import { formatTryAgain } from './params.ts';

/** Fixed windows aligned to multiples of the window length on the fake's clock. */
export class RateWindow {
  private windowStart = 0;
  private used = 0;

  constructor(
    /** Admin API calls allowed per window. */
    readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  /** Starts a fresh window with the whole allowance. */
  reset(): void {
    this.roll(true);
    this.used = 0;
  }

  /** Sets how many calls remain in the current window. */
  setRemaining(remaining: number): void {
    this.roll(false);
    this.used = Math.max(0, this.limit - remaining);
  }

  /** When the current window resets (epoch ms). */
  resetAt(): number {
    this.roll(false);
    return this.windowStart + this.windowMs;
  }

  /** The rate-limit headers of an answer sent now. */
  headers(): Record<string, string> {
    this.roll(false);
    return {
      'X-FeatureRateLimit-Limit': String(this.limit),
      'X-FeatureRateLimit-Remaining': String(Math.max(0, this.limit - this.used)),
      'X-FeatureRateLimit-Reset': new Date(this.windowStart + this.windowMs).toUTCString(),
    };
  }

  /** Charges one Admin call and returns the headers; throws the 420 when the window's allowance is spent. */
  charge(): Record<string, string> {
    this.roll(false);
    if (this.used >= this.limit) {
      const message = `Rate Limit Exceeded. Try again on ${formatTryAgain(this.windowStart + this.windowMs)}`;
      throw new HttpError(420, message, this.headers());
    }
    this.used += 1;
    return this.headers();
  }

  private roll(force: boolean): void {
    const start = Math.floor(this.now() / this.windowMs) * this.windowMs;
    if (force || start !== this.windowStart) {
      this.windowStart = start;
      this.used = 0;
    }
  }
}
