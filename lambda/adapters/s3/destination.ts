import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  ListMultipartUploadsCommand,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { StoredObject } from '../../core/asset.ts';
import { ConfigError, DestinationError, PreconditionFailedError, messageOf } from '../../core/errors.ts';
import type { ServerSideEncryption } from '../../core/sse.ts';
import type { Destination, PutRequest, PutResult, TaggedObject, WriteCondition } from '../../ports/storage.ts';
import { SINGLE_PUT_MAX, choosePartSize } from '../../core/part-size.ts';
import { copyObject } from './copy-object.ts';
import { listObjectsPage } from './list-page.ts';
import { SignedPut } from './signed-put.ts';
import { sseParams } from './sse.ts';
import { bucketProblem } from './bucket-errors.ts';

/** Options of the S3 destination. */
export interface S3DestinationOptions {
  /** Parts uploaded at once for one object. @default 2 */
  readonly queueSize?: number;
  /** Key written by check() to prove the bucket takes writes. */
  readonly probeKey: string;
  /** Largest object sent as one streaming PutObject; bigger ones go multipart. @default SINGLE_PUT_MAX */
  readonly singlePutMax?: number;
  /** Server-side encryption every write asks for (objects, catalog, lease, reports, the probe). @default none */
  readonly sse?: ServerSideEncryption;
}

const httpStatus = (err: unknown): number | undefined =>
  (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

const isNotFound = (err: unknown): boolean =>
  httpStatus(err) === 404 || ['NotFound', 'NoSuchKey', 'NoSuchBucket'].includes((err as Error).name);

/** An S3 bucket (or any S3-compatible server). Retries are the SDK's own (maxAttempts). */
export class S3Destination implements Destination {
  readonly description: string;
  private readonly queueSize: number;
  /** Multipart uploads of failed writes (upload id -> key), aborted again by settle(). */
  private readonly failedUploads = new Map<string, string>();
  /** Streamed single PUTs without the SDK's middleware (signed-put.ts). */
  private readonly signedPut: SignedPut;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly options: S3DestinationOptions,
  ) {
    this.description = `s3://${bucket}`;
    this.queueSize = options.queueSize ?? 2;
    this.signedPut = new SignedPut(client, bucket, options.sse);
  }

  async check(): Promise<void> {
    await this.checkReadable('s3:ListBucket and s3:PutObject');
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: this.options.probeKey, Body: 'ok', ContentLength: 2, ...sseParams(this.options.sse) }),
      );
    } catch (err) {
      // A bucket policy (or an SCP) that requires the encryption header refuses exactly this.
      const sse = this.options.sse === undefined ? ', and whether the bucket requires encryption (then add --sse AES256, or --sse aws:kms)' : '';
      throw new ConfigError(`Bucket "${this.bucket}" does not accept writes (${messageOf(err)}). Check that the credentials allow s3:PutObject${sse}.`, { cause: err });
    }
  }

  /** HeadBucket: a ConfigError naming the setting to fix (bucket-errors.ts) when the bucket cannot be used. */
  async checkReadable(needs = 's3:ListBucket and s3:GetObject'): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      throw bucketProblem(err, this.bucket, needs) ?? new ConfigError(`Cannot reach bucket "${this.bucket}": ${messageOf(err)}. Check AWS_REGION, credentials and AWS_ENDPOINT_URL_S3.`, { cause: err });
    }
  }

  async *list(keyPrefix: string): AsyncIterable<StoredObject> {
    try {
      // Pages of 1,000 as paginateListObjectsV2 asked for them, read by list-page.ts.
      let token: string | undefined;
      do {
        const page = await listObjectsPage(this.client, { Bucket: this.bucket, Prefix: keyPrefix, MaxKeys: 1000, ...(token ? { ContinuationToken: token } : {}) });
        yield* page.objects;
        token = page.nextToken;
      } while (token);
    } catch (err) {
      throw new DestinationError(`listing s3://${this.bucket}/${keyPrefix} failed: ${messageOf(err)}`, { cause: err });
    }
  }

  async head(key: string): Promise<StoredObject | undefined> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { key, size: r.ContentLength ?? 0, lastModified: r.LastModified ?? new Date(0) };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw new DestinationError(`HeadObject s3://${this.bucket}/${key} failed: ${messageOf(err)}`, { cause: err });
    }
  }

  async readTagged(key: string): Promise<TaggedObject | undefined> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const body = Buffer.from((await r.Body?.transformToByteArray()) ?? new Uint8Array());
      return { body, etag: r.ETag ?? '' };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw new DestinationError(`reading s3://${this.bucket}/${key} failed: ${messageOf(err)}`, { cause: err });
    }
  }

  /**
   * S3 conditional writes (PutObject `If-None-Match: *` / `If-Match`, "Add preconditions to S3
   * operations with conditional requests" in the S3 user guide): 412 PreconditionFailed when the
   * condition fails, 409 ConditionalRequestConflict when a concurrent write to the key won.
   */
  async writeConditional(key: string, body: Buffer, condition: WriteCondition): Promise<string> {
    try {
      const r = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentLength: body.length,
          ContentType: 'application/json',
          ...sseParams(this.options.sse),
          ...('ifNoneMatch' in condition ? { IfNoneMatch: '*' } : { IfMatch: condition.ifMatch }),
        }),
      );
      return r.ETag ?? '';
    } catch (err) {
      const status = httpStatus(err);
      // If-Match on a key that no longer exists answers 404 NoSuchKey: the condition failed too.
      if (status === 412 || status === 409 || (status === 404 && 'ifMatch' in condition)) throw new PreconditionFailedError(`s3://${this.bucket}/${key}`, { cause: err });
      throw new DestinationError(`writing s3://${this.bucket}/${key} failed: ${messageOf(err)}`, { cause: err });
    }
  }

  async put(request: PutRequest): Promise<PutResult> {
    // An error of the body before the SDK listens would have no listener and end the process;
    // the SDK (and putOnce's own listener) still see it through the stream's state.
    if (!Buffer.isBuffer(request.body)) request.body.on('error', () => undefined);
    if (Buffer.isBuffer(request.body) || request.length <= (this.options.singlePutMax ?? SINGLE_PUT_MAX)) return this.putOnce(request);
    return this.putMultipart(request);
  }

  /** The PutObject parameters of a write (the multipart upload takes the same). */
  private objectParams(request: PutRequest) {
    return {
      Bucket: this.bucket,
      Key: request.key,
      Body: request.body,
      ContentLength: request.length,
      ...(request.metadata ? { Metadata: { ...request.metadata } } : {}),
      ...(request.contentType ? { ContentType: request.contentType } : {}),
      ...sseParams(this.options.sse),
    };
  }

  /** One PutObject with the whole (streamed) body. */
  private async putOnce(request: PutRequest): Promise<PutResult> {
    // The HTTP handler pipes the body into the request, and a pipe does not end the request
    // when the body fails: the PUT would wait for bytes that never come. Abort it instead.
    const ac = new AbortController();
    const body = request.body;
    const onBodyError = (): void => ac.abort();
    const onAbort = (): void => ac.abort();
    if (!Buffer.isBuffer(body)) body.once('error', onBodyError);
    request.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // Neither way retries a streaming body (it cannot be replayed); the engine retries with a
      // fresh download. Small buffers (the catalog, the probe) stay on the SDK, whose own
      // retries can replay them; conditional writes go through writeConditional, also the SDK.
      if (!Buffer.isBuffer(body) && (await this.signedPut.accepts(request))) {
        await this.signedPut.put({ ...request, body }, ac.signal);
      } else {
        // The SDK sends its headers at once: not before the body's input is open.
        if (request.ready !== undefined) await request.ready;
        await this.client.send(new PutObjectCommand(this.objectParams(request)), { abortSignal: ac.signal });
      }
      return { bytes: request.length };
    } catch (err) {
      const cause = !Buffer.isBuffer(body) && body.errored ? body.errored : err;
      throw new DestinationError(`writing s3://${this.bucket}/${request.key} failed: ${messageOf(cause)}`, { cause });
    } finally {
      if (!Buffer.isBuffer(body)) body.off('error', onBodyError);
      request.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** A multipart upload through lib-storage, parts sized for the object (core/part-size.ts). */
  private async putMultipart(request: PutRequest): Promise<PutResult> {
    // No CreateMultipartUpload for a download that fails to open.
    if (request.ready !== undefined) {
      try {
        await request.ready;
      } catch (err) {
        throw new DestinationError(`writing s3://${this.bucket}/${request.key} failed: ${messageOf(err)}`, { cause: err });
      }
    }
    const upload = new Upload({
      client: this.client,
      queueSize: this.queueSize,
      partSize: choosePartSize(request.length),
      leavePartsOnError: false,
      params: this.objectParams(request),
    });
    // On abort, end the body rather than calling upload.abort(): lib-storage then waits for the
    // parts in flight before it aborts the multipart upload. upload.abort() returns at once and
    // its AbortMultipartUpload can overtake a part still being written, which S3 may then keep
    // (an S3 server can re-create the upload for the late part).
    const body = request.body;
    const onAbort = (): void => {
      if (!Buffer.isBuffer(body)) body.destroy(new Error('aborted'));
    };
    request.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await upload.done();
      return { bytes: request.length };
    } catch (err) {
      // lib-storage aborts a failed multipart upload once; when S3 was unreachable that abort
      // failed too and the parts would stay, billed. settle() tries again at the end of the run.
      if (upload.uploadId) this.failedUploads.set(upload.uploadId, request.key);
      // S3's own message ("We encountered an internal error") does not say what failed where:
      // a report line must. A body error stays the cause.
      throw new DestinationError(`writing s3://${this.bucket}/${request.key} failed: ${messageOf(err)}`, { cause: err });
    } finally {
      request.signal?.removeEventListener('abort', onAbort);
    }
  }

  async abortStaleUploads(keyPrefix: string, olderThan: Date, accept: (key: string) => boolean = () => true): Promise<number> {
    let aborted = 0;
    try {
      let markers: { KeyMarker?: string; UploadIdMarker?: string } = {};
      for (;;) {
        const page = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: keyPrefix, ...markers }));
        for (const u of page.Uploads ?? []) {
          if (!u.Key || !u.UploadId || !u.Initiated || u.Initiated >= olderThan || !accept(u.Key)) continue;
          await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.Key, UploadId: u.UploadId }));
          aborted += 1;
        }
        if (!page.IsTruncated) break;
        markers = {
          ...(page.NextKeyMarker ? { KeyMarker: page.NextKeyMarker } : {}),
          ...(page.NextUploadIdMarker ? { UploadIdMarker: page.NextUploadIdMarker } : {}),
        };
      }
    } catch {
      // Not allowed (no s3:ListBucketMultipartUploads) or not implemented by this server: the
      // bucket's lifecycle rule (AbortIncompleteMultipartUpload) is the fallback.
    }
    return aborted;
  }

  async settle(): Promise<void> {
    for (const [uploadId, key] of this.failedUploads) {
      try {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }));
        this.failedUploads.delete(uploadId);
      } catch (err) {
        // NoSuchUpload: lib-storage's own abort went through. Anything else: the bucket's
        // lifecycle rule (AbortIncompleteMultipartUpload) removes the parts later.
        if (isNotFound(err) || (err as Error).name === 'NoSuchUpload') this.failedUploads.delete(uploadId);
      }
    }
  }

  async get(key: string): Promise<Readable> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return r.Body as Readable;
    } catch (err) {
      throw new DestinationError(`reading s3://${this.bucket}/${key} failed: ${messageOf(err)}`, { cause: err, notFound: isNotFound(err) });
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      throw new DestinationError(`deleting s3://${this.bucket}/${key} failed: ${messageOf(err)}`, { cause: err });
    }
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    // A bucket policy that requires the encryption header refuses CopyObject without it, as PutObject.
    return copyObject(this.client, this.bucket, fromKey, toKey, sseParams(this.options.sse));
  }
}
