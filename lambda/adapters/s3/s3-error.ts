import type { IncomingMessage } from 'node:http';

/** The most of an error response read: S3's error documents are a few hundred bytes. */
const MAX_ERROR_BODY = 64 * 1024;

/**
 * An S3 error answer to a request sent without the SDK, shaped like the SDK's own service
 * exceptions (`name` = S3's error Code, `$metadata.httpStatusCode`, `$fault`), so the destination
 * maps it exactly as it maps the SDK's (status 403/404/412, name NoSuchBucket, ...).
 */
export class S3ResponseError extends Error {
  override readonly name: string;
  readonly $metadata: { readonly httpStatusCode: number; readonly requestId?: string };
  /** 'server' for 5xx (and SlowDown): a later try may succeed; 'client' otherwise. */
  readonly $fault: 'client' | 'server';

  constructor(status: number, code: string | undefined, message: string | undefined, requestId?: string) {
    // Without a Code (a HEAD-style empty body, a proxy's HTML page) the status is all there is.
    super(message ?? code ?? `HTTP ${status}`);
    this.name = code ?? `Http${status}`;
    this.$metadata = { httpStatusCode: status, ...(requestId ? { requestId } : {}) };
    this.$fault = status >= 500 || code === 'SlowDown' ? 'server' : 'client';
  }
}

const tag = (xml: string, name: string): string | undefined => {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return m?.[1] === undefined ? undefined : unescapeXml(m[1]);
};

const unescapeXml = (s: string): string =>
  s.replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e] ?? '');

/**
 * Reads an error response into an S3ResponseError. S3's REST error document ("Error responses",
 * https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#RESTErrorResponses):
 * `<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>...</RequestId>
 * ...</Error>`, the HTTP status from the page's table of error codes (403 AccessDenied, 404
 * NoSuchBucket, 412 PreconditionFailed, 503 SlowDown, 500 InternalError). Only Code, Message
 * and RequestId are kept: nothing of the request (and so no credential) goes into the error.
 */
export const readS3Error = async (res: IncomingMessage): Promise<S3ResponseError> => {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      if (size < MAX_ERROR_BODY) chunks.push(chunk);
      size += chunk.length;
    }
  } catch {
    // The connection broke mid-answer: the status still says what happened.
  }
  const xml = Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY).toString('utf8');
  const requestId = tag(xml, 'RequestId') ?? headerOf(res, 'x-amz-request-id');
  return new S3ResponseError(res.statusCode ?? 0, tag(xml, 'Code'), tag(xml, 'Message'), requestId);
};

const headerOf = (res: IncomingMessage, name: string): string | undefined => {
  const v = res.headers[name];
  return typeof v === 'string' ? v : undefined;
};
