import http from 'node:http';
import https from 'node:https';
import { Transform } from 'node:stream';
import type { TransformCallback, Writable } from 'node:stream';
import type { UploadApiOptions } from 'cloudinary';
import { RESOURCE_TYPES } from '../../core/asset.ts';
import type { ResourceType } from '../../core/asset.ts';
import { messageOf } from '../../core/errors.ts';
import { encodeKeyValues, placementParams, uploadFilename } from '../../core/upload-params.ts';
import { UploadError } from '../../ports/upload.ts';
import type { UploadRequest, UploadResult, Uploader } from '../../ports/upload.ts';
import type { CloudinaryConfig } from './config.ts';
import type { CloudinaryV2 } from './sdk.ts';

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
 * Regroups a stream into pieces of exactly `size` bytes (the last may be shorter). The SDK's
 * chunker appends every write to its buffer with Buffer.concat, which is quadratic in the
 * writes per chunk (3.5 s of copying for 25 MB in 64 KB reads); one write per chunk is linear.
 */
export class Regroup extends Transform {
  private parts: Buffer[] = [];
  private held = 0;

  constructor(private readonly size: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let rest = chunk;
    while (this.held + rest.length >= this.size) {
      const take = this.size - this.held;
      this.parts.push(rest.subarray(0, take));
      this.push(Buffer.concat(this.parts, this.size));
      this.parts = [];
      this.held = 0;
      rest = rest.subarray(take);
    }
    if (rest.length > 0) {
      this.parts.push(rest);
      this.held += rest.length;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.held > 0) this.push(Buffer.concat(this.parts, this.held));
    this.parts = [];
    done();
  }
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
 * The Upload API through the SDK: `upload_stream` for files up to the chunk size, and
 * `upload_chunked_stream` (what `upload_large` uses, with the resource type given explicitly)
 * above it. Context and structured metadata are encoded here (core/upload-params.ts), so keys
 * and values with `=` or `|` survive. Each upload gets its own HTTP agent: when the body fails
 * half-way, the agent's sockets are destroyed so Cloudinary never sees a completed request.
 */
export class CloudinaryUploader implements Uploader {
  readonly description: string;
  private readonly chunkSize: number;
  private readonly requestTimeoutMs: number;
  private readonly secure: boolean;

  constructor(
    private readonly sdk: CloudinaryV2,
    config: CloudinaryConfig,
    options: CloudinaryUploaderOptions = {},
  ) {
    this.description = `Cloudinary cloud "${config.cloudName}"`;
    this.chunkSize = Math.max(MIN_CHUNK_SIZE, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 600_000;
    // The SDK picked http or https from upload_prefix when it was loaded; the agent must match.
    this.secure = new URL(config.uploadPrefix).protocol === 'https:';
  }

  upload(request: UploadRequest): Promise<UploadResult> {
    const resourceType = request.resourceType as ResourceType;
    if (!RESOURCE_TYPES.includes(resourceType)) {
      return Promise.reject(new UploadError(`unknown resource type "${request.resourceType}" (expected ${RESOURCE_TYPES.join(', ')})`, undefined, false));
    }
    const agent = this.secure ? new https.Agent({ keepAlive: false }) : new http.Agent({ keepAlive: false });
    const options = this.uploadOptions(request, resourceType, agent);
    return new Promise<UploadResult>((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | undefined, result?: UploadResult): void => {
        if (settled) return;
        settled = true;
        if (err) {
          // Cuts any request still open, so a partial body never completes an upload.
          agent.destroy();
          reject(err);
        } else resolve(result as UploadResult);
      };
      const callback = (err?: unknown, res?: SdkUploadResult): void => {
        if (err || !res) {
          finish(toUploadError(err ?? { message: 'no response' }, request.publicId));
          return;
        }
        finish(undefined, {
          publicId: res.public_id ?? request.publicId,
          version: res.version ?? 0,
          bytes: res.bytes ?? 0,
          existing: res.existing === true,
        });
      };
      const chunked = request.length > this.chunkSize;
      const sink: Writable = chunked
        ? this.sdk.uploader.upload_chunked_stream(options, callback)
        : this.sdk.uploader.upload_stream(options, callback);
      const input = chunked ? request.body.pipe(new Regroup(this.chunkSize)) : request.body;
      request.body.once('error', (err) => {
        input.unpipe(sink);
        if (input !== request.body) input.destroy();
        sink.destroy();
        finish(err);
      });
      input.pipe(sink);
    });
  }

  /** The upload parameters of one request (the SDK's names), sent through `agent`. */
  private uploadOptions(request: UploadRequest, resourceType: ResourceType, agent: http.Agent): UploadApiOptions {
    const context = encodeKeyValues(request.context);
    const metadata = encodeKeyValues(request.metadata);
    return {
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
      chunk_size: this.chunkSize,
      timeout: this.requestTimeoutMs,
      disable_promises: true,
      agent,
    };
  }
}
