import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { ClientRequest } from 'node:http';
import type { Readable } from 'node:stream';
import { TimeoutError, exchange } from './exchange.ts';
import type { Answer } from './exchange.ts';

/** Signed Upload API parameters as name/value pairs, array values already spread (`tags[]`). */
export type UploadFields = ReadonlyArray<readonly [string, unknown]>;

/** One Upload API request: where, its signed fields, the file's name, and any extra headers. */
export interface UploadPost {
  /** `<upload_prefix>/v1_1/<cloud>/<resource_type>/upload`. */
  readonly url: URL;
  readonly fields: UploadFields;
  /** Written unescaped into a multipart header, as the SDK does: ASCII only (see core/upload-params.ts). */
  readonly filename: string;
  /** Content-Range and X-Unique-Upload-Id of a chunk. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly agent: http.Agent;
}

/** A boundary like the SDK's (cloudinary_npm lib/utils/index.js random_public_id). */
export const newBoundary = (): string => randomBytes(12).toString('base64').replace(/[^a-z0-9]/g, '');

/**
 * The multipart body up to the file's bytes, as cloudinary_npm lib/uploader.js writes it: one part
 * per field (encodeFieldPart, UTF-8), then the file part's header (encodeFilePart, name "file",
 * `application/octet-stream`). Null and undefined fields are left out, as there.
 */
export const multipartHead = (boundary: string, fields: UploadFields, filename: string): Buffer => {
  const parts = fields
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([name, value]) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${String(value)}\r\n`, 'utf8'));
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`, 'binary'));
  return Buffer.concat(parts);
};

/** The end of the body after the file's bytes (cloudinary_npm lib/upload_stream.js `_flush`). */
export const multipartTail = (boundary: string): Buffer => Buffer.from(`\r\n--${boundary}--`, 'ascii');

/**
 * Statuses whose body the SDK's uploader parses as JSON (cloudinary_npm lib/uploader.js call_api,
 * `includes([200, 400, 401, 404, 420, 429, 500], res.statusCode)`); any other is unexpected.
 */
const JSON_STATUSES = new Set([200, 400, 401, 404, 420, 429, 500]);

/**
 * Turns an upload answer into the result, or throws what the SDK's v2 uploader hands its callback
 * (lib/uploader.js handle_response and parseResult): `{ message, http_code, name }`. uploader.ts
 * `toUploadError` reads it.
 */
export const uploadAnswer = (answer: Answer): Record<string, unknown> => {
  const { status, text } = answer;
  if (!JSON_STATUSES.has(status)) {
    throw { message: `Server returned unexpected status code - ${status}`, http_code: status, name: 'UnexpectedResponse' };
  }
  let parsed: unknown;
  let invalid: string | undefined;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    invalid = String(err);
  }
  if (invalid !== undefined || typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw { message: `Server return invalid JSON response. Status Code ${status}. ${invalid ?? 'not an object'}`, http_code: status, name: 'Error' };
  }
  const result = parsed as Record<string, unknown>;
  const error = result['error'];
  if (error !== undefined && error !== null) {
    const fields = typeof error === 'object' ? (error as Record<string, unknown>) : { message: String(error) };
    throw { name: 'Error', ...fields, http_code: status };
  }
  return result;
};

/** Writes a buffer, waiting for the request to take more when its buffer is full. */
const write = (req: ClientRequest, data: Buffer): Promise<void> =>
  new Promise<void>((resolve) => {
    if (req.write(data)) {
      resolve();
      return;
    }
    const done = (): void => {
      req.off('drain', done);
      req.off('close', done);
      resolve();
    };
    req.on('drain', done);
    req.on('close', done);
  });

/**
 * Sends one multipart upload request whose file bytes come from `file` (a stream, or one buffer
 * for a chunk) and reads the whole answer (exchange.ts). When the stream fails, or delivers a
 * different number of bytes than `length`, the request is destroyed before its closing
 * boundary: Cloudinary never sees a complete body, so nothing partial is stored. Rejects with
 * the stream's error, `{ message: 'Request Timeout', http_code: 499 }` when the socket stays
 * idle for `timeoutMs` (the SDK's own code for it, lib/uploader.js post), a network Error, or
 * the SDK's shapes for Cloudinary's answers (uploadAnswer).
 */
export const postUpload = async (post: UploadPost, file: Readable | Buffer, length: number): Promise<Record<string, unknown>> => {
  const boundary = newBoundary();
  // cloudinary_npm lib/uploader.js post: the multipart content type, Content-Range and
  // X-Unique-Upload-Id for a chunk. The SDK streams without a length; a chunk is one buffer and
  // gets its Content-Length.
  const headers: Record<string, string> = {
    'Content-Type': `multipart/form-data; boundary=${boundary}`,
    'User-Agent': 'cloudinary-backup',
    ...post.headers,
  };
  const head = multipartHead(boundary, post.fields, post.filename);
  const tail = multipartTail(boundary);
  if (Buffer.isBuffer(file)) headers['Content-Length'] = String(head.length + file.length + tail.length);
  const send = (req: ClientRequest): void => {
    const body = async (): Promise<void> => {
      await write(req, head);
      let sent = 0;
      if (Buffer.isBuffer(file)) {
        sent = file.length;
        await write(req, file);
      } else {
        for await (const chunk of file as AsyncIterable<Buffer>) {
          if (req.destroyed) return;
          sent += chunk.length;
          await write(req, chunk);
        }
      }
      if (sent !== length) throw new Error(`the file delivered ${sent} bytes, ${length} expected; the upload was not completed`);
      req.end(tail);
    };
    body().catch((err: unknown) => req.destroy(err instanceof Error ? err : new Error(String(err))));
  };
  let answer: Answer;
  try {
    answer = await exchange(post.url, { method: 'POST', headers, timeoutMs: post.timeoutMs, agent: post.agent }, send);
  } catch (err) {
    if (err instanceof TimeoutError) throw { message: 'Request Timeout', http_code: 499, name: 'TimeoutError' };
    throw err;
  }
  return uploadAnswer(answer);
};
