import type http from 'node:http';
import type { UploadApiOptions } from 'cloudinary';
import { RESOURCE_TYPES } from '../../core/asset.ts';
import type { ResourceType } from '../../core/asset.ts';
import { messageOf } from '../../core/errors.ts';
import { encodeKeyValues, placementParams, uploadFilename } from '../../core/upload-params.ts';
import { UploadError } from '../../ports/upload.ts';
import type { UploadRequest, UploadResult, Uploader } from '../../ports/upload.ts';
import type { CloudinaryConfig } from './config.ts';
import { agentFor } from './exchange.ts';
import type { CloudinaryV2 } from './sdk.ts';
import { newBoundary, postUpload } from './upload-client.ts';
import type { UploadFields, UploadPost } from './upload-client.ts';

/** The SDK's default chunk size for chunked uploads (20 MB). */
export const DEFAULT_CHUNK_SIZE = 20_000_000;
/** Cloudinary refuses chunks under 5 MB (except the last one). */
export const MIN_CHUNK_SIZE = 5 * 1024 * 1024;

/** Options of the uploader. */
export interface CloudinaryUploaderOptions {
  /** Files larger than this are sent in chunks of this size. @default 20 MB */
  readonly chunkSize?: number;
  /** An upload request with no progress for this long fails (retryable). @default 10 minutes */
  readonly requestTimeoutMs?: number;
}

interface SdkError {
  message?: unknown;
  http_code?: unknown;
  error?: { message?: unknown; http_code?: unknown };
}

interface SdkUploadResult {
  public_id?: string;
  version?: number;
  bytes?: number;
  existing?: boolean;
}

/**
 * Reads a stream as pieces of exactly `size` bytes (the last may be shorter): the chunks of a
 * chunked upload. Each chunk is assembled once from the reads that make it up.
 */
export async function* chunksOf(body: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let held = 0;
  for await (const piece of body) {
    let rest = piece;
    while (held + rest.length >= size) {
      const take = size - held;
      parts.push(rest.subarray(0, take));
      yield Buffer.concat(parts, size);
      parts = [];
      held = 0;
      rest = rest.subarray(take);
    }
    if (rest.length > 0) {
      parts.push(rest);
      held += rest.length;
    }
  }
  if (held > 0) yield Buffer.concat(parts, held);
}

/** Turns what the SDK called back with into an UploadError that says what to do. */
export const toUploadError = (err: unknown, publicId: string): UploadError => {
  const e = (err ?? {}) as SdkError;
  const code = typeof e.http_code === 'number' ? e.http_code : typeof e.error?.http_code === 'number' ? e.error.http_code : undefined;
  const message = typeof e.error?.message === 'string' ? e.error.message : messageOf(err);
  if (code === 401) {
    return new UploadError(
      `Cloudinary refused the upload of "${publicId}" (401: ${message}). Check the API key and secret in CLOUDINARY_URL: uploads are signed with the secret.`,
      code,
      false,
      { cause: err },
    );
  }
  // 499 is the SDK's own request timeout; 420/429 are rate limits; no code means the
  // connection failed. Those may work on another try; any other 4xx will not.
  const retryable = code === undefined || code >= 500 || code === 499 || code === 420 || code === 429 || code === 408;
  // The plan's media_limits (GET /usage; Free: 10 MB images and raw files, 100 MB videos) refuse
  // a larger file whatever is retried: say which limit and what can be done.
  const hint = /file size too large/i.test(message)
    ? ' — the target account\'s plan does not accept a file this large (its limits are media_limits in GET /usage): upgrade the plan, or restore this asset into an account that allows it'
    : '';
  return new UploadError(`upload failed${code ? ` (HTTP ${code})` : ''}: ${message}${hint}`, code, retryable, { cause: err });
};

/**
 * The SDK's parameter building and signing, which this project uses as they are (cloudinary_npm
 * lib/utils/index.js): `build_upload_params` maps upload options to Upload API parameters, and
 * `process_request_params` signs them (`sign_request`: timestamp, signature and api_key). Not in
 * the SDK's type declarations, so named here.
 */
interface SdkSigning {
  build_upload_params(options: Readonly<Record<string, unknown>>): Record<string, unknown>;
  process_request_params(params: Record<string, unknown>, options: Readonly<Record<string, unknown>>): Record<string, unknown>;
  hashToParameters(params: Readonly<Record<string, unknown>>): Array<[string, unknown]>;
}

/** The SDK's signing functions, checked to be there (a later SDK could move them). */
export const sdkSigning = (sdk: CloudinaryV2): SdkSigning => {
  const utils = sdk.utils as unknown as Partial<SdkSigning>;
  for (const name of ['build_upload_params', 'process_request_params', 'hashToParameters'] as const) {
    if (typeof utils[name] !== 'function') throw new Error(`the cloudinary SDK has no utils.${name}; this tool needs the version in its package-lock`);
  }
  return utils as SdkSigning;
};

/**
 * The Upload API: one request for files up to the chunk size, and a chunked upload above it.
 * The SDK builds and signs the parameters; the requests are sent and their answers read by the
 * project's own client (upload-client.ts), because the SDK decodes an answer chunk by chunk
 * and so corrupts the names it returns. Context and structured metadata are encoded here
 * (core/upload-params.ts), so keys and values with `=` or `|` survive. When the body fails
 * half-way the request is destroyed, so Cloudinary never sees a completed request.
 */
export class CloudinaryUploader implements Uploader {
  readonly description: string;
  private readonly chunkSize: number;
  private readonly requestTimeoutMs: number;
  private readonly signing: SdkSigning;
  private readonly apiBase: string;
  private readonly agent: http.Agent;

  constructor(
    sdk: CloudinaryV2,
    config: CloudinaryConfig,
    options: CloudinaryUploaderOptions = {},
  ) {
    this.description = `Cloudinary cloud "${config.cloudName}"`;
    this.chunkSize = Math.max(MIN_CHUNK_SIZE, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 600_000;
    this.signing = sdkSigning(sdk);
    // cloudinary_npm lib/utils/index.js api_url: `<upload_prefix>/v1_1/<cloud>/<resource_type>/upload`.
    this.apiBase = `${config.uploadPrefix}/v1_1/${config.cloudName}`;
    this.agent = agentFor(config.uploadPrefix);
  }

  async upload(request: UploadRequest): Promise<UploadResult> {
    const resourceType = request.resourceType as ResourceType;
    if (!RESOURCE_TYPES.includes(resourceType)) {
      throw new UploadError(`unknown resource type "${request.resourceType}" (expected ${RESOURCE_TYPES.join(', ')})`, undefined, false);
    }
    const options = this.uploadOptions(request, resourceType);
    const url = new URL(`${this.apiBase}/${encodeURIComponent(resourceType)}/upload`);
    const post = { url, filename: options.filename as string, timeoutMs: this.requestTimeoutMs, agent: this.agent };
    let res: SdkUploadResult;
    try {
      if (request.length > this.chunkSize) {
        res = await this.uploadChunked(request, options, post);
      } else {
        res = await postUpload({ ...post, fields: this.signed(options) }, request.body, request.length);
      }
    } catch (err) {
      // The body's own failure is the caller's to see as it is (Uploader contract).
      if (bodyFailed(request, err)) throw err;
      throw toUploadError(err, request.publicId);
    }
    return {
      publicId: res.public_id ?? request.publicId,
      version: res.version ?? 0,
      bytes: res.bytes ?? 0,
      existing: res.existing === true,
    };
  }

  /**
   * A chunked upload as cloudinary_npm lib/uploader.js upload_chunked_stream sends it: one
   * X-Unique-Upload-Id for all chunks; each chunk re-signed with a fresh timestamp and sent with
   * `Content-Range: bytes <start>-<end>/<total>`, the total -1 until the last chunk. The last
   * chunk's answer is the upload's; an error on any chunk ends the upload.
   */
  private async uploadChunked(
    request: UploadRequest,
    options: Readonly<Record<string, unknown>>,
    post: Omit<UploadPost, 'fields' | 'headers'>,
  ): Promise<SdkUploadResult> {
    const uploadId = newBoundary();
    const it = chunksOf(request.body as AsyncIterable<Buffer>, this.chunkSize);
    let sent = 0;
    let next = await it.next();
    for (;;) {
      if (next.done) throw new Error('the file delivered no bytes; the upload was not completed');
      const chunk = next.value;
      const following = await it.next();
      const last = following.done === true;
      if (last && sent + chunk.length !== request.length) {
        throw new Error(`the file delivered ${sent + chunk.length} bytes, ${request.length} expected; the upload was not completed`);
      }
      const range = `bytes ${sent}-${sent + chunk.length - 1}/${last ? sent + chunk.length : -1}`;
      const headers = { 'Content-Range': range, 'X-Unique-Upload-Id': uploadId };
      const result = await postUpload({ ...post, headers, fields: this.signed(options) }, chunk, chunk.length);
      sent += chunk.length;
      if (last) return result;
      next = following;
    }
  }

  /** The signed parameters of one request, with a fresh timestamp (lib/uploader.js call_api). */
  private signed(options: Readonly<Record<string, unknown>>): UploadFields {
    const params = this.signing.build_upload_params(options);
    return this.signing.hashToParameters(this.signing.process_request_params(params, options));
  }

  /** The upload options of one request (the SDK's names). */
  private uploadOptions(request: UploadRequest, resourceType: ResourceType): Record<string, unknown> {
    const context = encodeKeyValues(request.context);
    const metadata = encodeKeyValues(request.metadata);
    const options: UploadApiOptions = {
      resource_type: resourceType,
      type: request.type,
      public_id: request.publicId,
      overwrite: request.overwrite,
      ...(request.overwrite ? { invalidate: true } : {}),
      ...(request.tags.length > 0 ? { tags: [...request.tags] } : {}),
      ...(context !== undefined ? { context } : {}),
      ...(metadata !== undefined ? { metadata } : {}),
      ...placementParams(request.placement),
      // Upload API `moderation`: `manual` needs no add-on (cloudinary_npm docs/moderate-upload.md).
      ...(request.manualModeration ? { moderation: 'manual' } : {}),
      filename: uploadFilename(request.publicId, request.format),
    };
    return options as Record<string, unknown>;
  }
}

/** Whether an upload failed because its body stream did (that error is passed on as it is). */
const bodyFailed = (request: UploadRequest, err: unknown): boolean =>
  err instanceof Error && request.body.errored === err;
