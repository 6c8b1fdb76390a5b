import { SourceError, messageOf } from '../../core/errors.ts';

/** Reads "Try again on 2026-11-25 10:00:00 UTC" from a rate-limit message. */
export const parseRetryAt = (message: string): Date | undefined => {
  const m = /try again on (\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\s*UTC)?/i.exec(message);
  if (!m) return undefined;
  const d = new Date(`${m[1]}T${m[2]}Z`);
  return Number.isNaN(d.getTime()) ? undefined : d;
};

/** A SourceError from a rate limit, with the time Cloudinary said to come back. */
export class RateLimitedError extends SourceError {
  constructor(
    message: string,
    httpCode: number,
    readonly retryAt: Date | undefined,
  ) {
    super(message, httpCode);
  }
}

/**
 * Turns a rejection of an Admin API call into a SourceError. The project's client
 * (api-client.ts) rejects with the SDK's shapes: the SDK rejects with
 * `{ error: { message, http_code } }` for 400/401/403/404/409/420/429/500, with a top-level
 * `{ message, http_code }` for other statuses, and with a plain Error for network failures.
 * Only the message and code are kept: the rest may hold request details.
 */
export const toSourceError = (err: unknown, what: string): SourceError => {
  const e = err as { error?: { http_code?: unknown; message?: unknown }; http_code?: unknown; code?: unknown; message?: unknown };
  const code =
    typeof e?.error?.http_code === 'number' ? e.error.http_code : typeof e?.http_code === 'number' ? e.http_code : undefined;
  let message = messageOf(err);
  if (typeof e?.error?.message === 'object' && e.error.message !== null) message = messageOf(e.error.message);
  else if (typeof e?.message === 'object' && e.message !== null) message = messageOf(e.message);
  if (code === 420 || code === 429) {
    return new RateLimitedError(`${what}: ${message}`, code, parseRetryAt(message));
  }
  if (code === 401) {
    return new SourceError(
      `${what}: Cloudinary refused the credentials (401: ${message}). Check the API key and secret in CLOUDINARY_URL.`,
      code,
    );
  }
  return new SourceError(`${what}: ${code ? `HTTP ${code}: ` : ''}${message}`, code);
};

/** Whether another try at the same Admin API call may succeed. */
export const isRetryable = (err: SourceError): boolean =>
  err.httpCode === undefined || err.httpCode >= 500 || err.httpCode === 200 || err.httpCode === 408;
