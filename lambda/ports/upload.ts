import type { Readable } from 'node:stream';
import type { UploadedFields } from '../core/upload-params.ts';

/** One asset to upload, with everything Cloudinary keeps about it. */
export interface UploadRequest extends UploadedFields {
  /** Send the asset to the manual moderation queue (it arrives `pending`). */
  readonly manualModeration?: boolean;
  /** The bytes, read once (a retry needs a fresh stream). */
  readonly body: Readable;
  /** Exact number of bytes `body` delivers; decides between a single and a chunked upload. */
  readonly length: number;
  /** Replace an asset that exists; otherwise Cloudinary keeps it and answers `existing`. */
  readonly overwrite: boolean;
}

/** What Cloudinary answered. */
export interface UploadResult {
  readonly publicId: string;
  readonly version: number;
  readonly bytes: number;
  /** True when the asset was already there and `overwrite` was off: nothing was stored. */
  readonly existing: boolean;
}

/** An upload Cloudinary refused or that did not complete. */
export class UploadError extends Error {
  override readonly name = 'UploadError';
  constructor(
    message: string,
    /** The HTTP status Cloudinary answered, when it answered. */
    readonly httpCode: number | undefined,
    /** Whether another try (with a fresh body) may succeed. */
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The credentials (API key, secret or signature) were refused: every other upload will fail too. */
  get credentialsRefused(): boolean {
    return this.httpCode === 401;
  }
}

/** The Upload API of one account. */
export interface Uploader {
  /** The account uploads go to (for messages). */
  readonly description: string;
  /**
   * Uploads one asset and resolves when Cloudinary has stored it (or reports it `existing`).
   * Rejects with an UploadError; when `body` errors, rejects with the body's error and makes sure
   * nothing partial is stored. Not retried here: a retry needs a fresh body.
   */
  upload(request: UploadRequest): Promise<UploadResult>;
}

/**
 * An optional ability of a destination: reading an object's user metadata (the `cld-*` identity,
 * see core/metadata.ts). S3 has it; a local folder keeps no metadata.
 */
export interface MetadataReader {
  /** The object's user metadata (keys lower-cased), or undefined when the key does not exist. */
  headMetadata(key: string): Promise<Readonly<Record<string, string>> | undefined>;
}
