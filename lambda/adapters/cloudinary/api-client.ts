import querystring from 'node:querystring';
import type http from 'node:http';
import type { CloudinaryConfig } from './config.ts';
import { TimeoutError, agentFor, exchange } from './exchange.ts';
import type { Answer } from './exchange.ts';

/**
 * The rate-limit figures added to every successful Admin API result, named and parsed as the SDK
 * does (cloudinary_npm lib/api_client/execute_request.js: `rate_limit_allowed` from
 * X-FeatureRateLimit-Limit, `rate_limit_reset_at` from X-FeatureRateLimit-Reset,
 * `rate_limit_remaining` from X-FeatureRateLimit-Remaining).
 */
export interface RateLimitFields {
  rate_limit_allowed?: number;
  rate_limit_remaining?: number;
  rate_limit_reset_at?: Date;
}

/** A successful Admin API answer: its JSON object and the rate-limit figures. */
export type AdminResult = Record<string, unknown> & RateLimitFields;

/** Options of the Admin API client. */
export interface AdminApiOptions {
  /** A call whose socket stays idle this long fails (retryable). @default 60000, the SDK's `timeout` */
  readonly timeoutMs?: number;
}

/**
 * Statuses whose body the SDK parses as JSON; any other is "unexpected" (cloudinary_npm
 * lib/api_client/execute_request.js, `includes([200, 400, 401, 403, 404, 409, 420, 429, 500], ...)`).
 */
const JSON_STATUSES = new Set([200, 400, 401, 403, 404, 409, 420, 429, 500]);

/** The SDK's path encoding (cloudinary_npm lib/utils/index.js base_api_url: encodeURIComponent, `'` as %27). */
const encodeSegment = (segment: string): string => encodeURIComponent(segment).replace(/'/g, '%27');

/**
 * Turns an Admin API answer into the SDK's result or rejection, shape for shape (cloudinary_npm
 * lib/api_client/execute_request.js, handle_response), so errors.ts `toSourceError` reads both
 * the same way: a JSON status with an `error` rejects with `{ error: { message, http_code } }`;
 * any other status with a top-level `{ message, http_code }`; a body that is not JSON becomes
 * "Server return invalid JSON response" with its status. Unlike the SDK, the rejection carries
 * no request options or parameters: nothing of the credentials can reach a message.
 */
export const adminAnswer = (answer: Answer): AdminResult => {
  const { status, headers, text } = answer;
  if (!JSON_STATUSES.has(status)) {
    throw { message: `Server returned unexpected status code - ${status}`, http_code: status };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw { error: { message: `Server return invalid JSON response. Status Code ${status}`, http_code: status } };
  }
  const result = parsed as AdminResult & { error?: unknown };
  if (result.error !== undefined && result.error !== null) {
    const error = typeof result.error === 'object' ? (result.error as Record<string, unknown>) : { message: String(result.error) };
    throw { error: { ...error, http_code: status } };
  }
  const header = (name: string): string | undefined => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const limit = header('x-featureratelimit-limit');
  const reset = header('x-featureratelimit-reset');
  const remaining = header('x-featureratelimit-remaining');
  if (limit) result.rate_limit_allowed = parseInt(limit, 10);
  if (reset) result.rate_limit_reset_at = new Date(reset);
  if (remaining) result.rate_limit_remaining = parseInt(remaining, 10);
  return result;
};

/**
 * The Admin API calls this project makes, sent the way the SDK sends them and decoded whole
 * (see exchange.ts for why the SDK's own transport is not used). Each method resolves with the
 * answer's JSON plus the rate-limit fields, and rejects with the SDK's shapes (see adminAnswer),
 * or with an Error for a network failure or a timeout.
 */
export class AdminApi {
  private readonly base: string;
  private readonly authorization: string;
  private readonly timeoutMs: number;
  private readonly agent: http.Agent;

  constructor(config: CloudinaryConfig, options: AdminApiOptions = {}) {
    // cloudinary_npm lib/utils/index.js base_api_url: `<upload_prefix>/v1_1/<cloud_name>/...`.
    this.base = `${config.uploadPrefix}/v1_1/${config.cloudName}`;
    // execute_request.js sets `request_options.auth = key + ":" + secret`, which Node sends as
    // HTTP Basic; the Admin API reference documents Basic authentication with key and secret.
    this.authorization = `Basic ${Buffer.from(`${config.apiKey}:${config.apiSecret}`).toString('base64')}`;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.agent = agentFor(config.uploadPrefix);
  }

  /**
   * `GET /resources/:resource_type/:type` (cloudinary_npm lib/api.js `resources`: the parameters
   * next_cursor, max_results, tags, context, moderations, metadata... as a query string).
   */
  resources(resourceType: string, type: string, params: Readonly<Record<string, string | number | boolean>>): Promise<AdminResult> {
    return this.call('GET', ['resources', resourceType, type], params);
  }

  /** `GET /usage` (lib/api.js `usage`). */
  usage(): Promise<AdminResult> {
    return this.call('GET', ['usage'], {});
  }

  /** `GET /metadata_fields` (lib/api.js `list_metadata_fields`). */
  listMetadataFields(): Promise<AdminResult> {
    return this.call('GET', ['metadata_fields'], {});
  }

  /** `POST /metadata_fields` with a JSON body (lib/api.js `add_metadata_field`, `content_type = "json"`). */
  addMetadataField(field: Readonly<Record<string, unknown>>): Promise<AdminResult> {
    return this.call('POST', ['metadata_fields'], field, 'json');
  }

  /** `POST /resources/:resource_type/:type/:public_id`, form-encoded (lib/api.js `update`). */
  update(publicId: string, resourceType: string, type: string, params: Readonly<Record<string, string | number | boolean>>): Promise<AdminResult> {
    return this.call('POST', ['resources', resourceType, type, publicId], params);
  }

  /**
   * One call as execute_request.js makes it: a GET carries its parameters in the query string
   * (`api_url += "?" + query_params`), a POST in a form-encoded (or JSON) body with its length.
   */
  private async call(method: 'GET' | 'POST', path: readonly string[], params: Readonly<Record<string, unknown>>, body: 'form' | 'json' = 'form'): Promise<AdminResult> {
    const encoded = body === 'json' ? JSON.stringify(params) : querystring.stringify(params as querystring.ParsedUrlQueryInput);
    const url = new URL(`${this.base}/${path.map(encodeSegment).join('/')}${method === 'GET' ? `?${encoded}` : ''}`);
    const payload = method === 'GET' ? undefined : Buffer.from(encoded, 'utf8');
    const headers: Record<string, string> = {
      'Content-Type': body === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
      'User-Agent': 'cloudinary-backup',
      Authorization: this.authorization,
      ...(payload ? { 'Content-Length': String(payload.length) } : {}),
    };
    let answer: Answer;
    try {
      answer = await exchange(url, { method, headers, timeoutMs: this.timeoutMs, agent: this.agent }, (req) => req.end(payload));
    } catch (err) {
      // Network errors carry no request details; a timeout says what happened, no code (retried).
      if (err instanceof TimeoutError) throw new Error(err.message);
      throw err;
    }
    return adminAnswer(answer);
  }
}
