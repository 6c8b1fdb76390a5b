import { request as httpRequest, createServer } from 'node:http';
import type { Server } from 'node:http';

/** One S3 call seen on the wire, as the IAM action it needs and the resource it acts on. */
export interface RecordedCall {
  readonly action: string;
  readonly resource: string;
}

/**
 * The IAM action of one path-style S3 request, per the Service Authorization Reference "Actions,
 * resources, and condition keys for Amazon S3" and each API's "Permissions" section:
 * ListObjectsV2 and HeadBucket need s3:ListBucket on the bucket; ListMultipartUploads
 * s3:ListBucketMultipartUploads; GetObject/HeadObject s3:GetObject; PutObject and every step of a
 * multipart upload (Create, UploadPart, Complete) s3:PutObject; AbortMultipartUpload
 * s3:AbortMultipartUpload; DeleteObject s3:DeleteObject.
 */
export const s3ActionOf = (method: string, url: string): RecordedCall => {
  const u = new URL(url, 'http://x');
  const [, bucket = '', ...rest] = u.pathname.split('/');
  const key = rest.map((p) => decodeURIComponent(p)).join('/');
  const q = u.searchParams;
  const bucketArn = `arn:aws:s3:::${bucket}`;
  const objectArn = `arn:aws:s3:::${bucket}/${key}`;
  if (key === '') {
    if (q.has('uploads')) return { action: 's3:ListBucketMultipartUploads', resource: bucketArn };
    return { action: 's3:ListBucket', resource: bucketArn };
  }
  if (method === 'DELETE') return { action: q.has('uploadId') ? 's3:AbortMultipartUpload' : 's3:DeleteObject', resource: objectArn };
  if (method === 'GET' || method === 'HEAD') return { action: 's3:GetObject', resource: objectArn };
  return { action: 's3:PutObject', resource: objectArn };
};

/** One request as it went out: enough to tell which S3 operation it was and what it asked for. */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  /** The S3 operation (PutObject, CopyObject, CreateMultipartUpload, UploadPart, ...). */
  readonly operation: string;
  /** Its x-amz-server-side-encryption header, when it had one. */
  readonly sse?: string;
  /** Its x-amz-server-side-encryption-aws-kms-key-id header, when it had one. */
  readonly sseKey?: string;
  /** The region its SigV4 credential scope names. */
  readonly signingRegion?: string;
}

/** The S3 operation of a path-style request, as the S3 API Reference names it (object operations; bucket ones by method). */
export const s3OperationOf = (method: string, url: string, copySource: boolean): string => {
  const u = new URL(url, 'http://x');
  const q = u.searchParams;
  const [, , ...rest] = u.pathname.split('/');
  if (rest.join('/') === '') return `${method} bucket${q.has('uploads') ? ' ?uploads' : ''}`;
  if (method === 'PUT') return q.has('partNumber') ? (copySource ? 'UploadPartCopy' : 'UploadPart') : copySource ? 'CopyObject' : 'PutObject';
  if (method === 'POST') return q.has('uploads') ? 'CreateMultipartUpload' : q.has('uploadId') ? 'CompleteMultipartUpload' : 'PostObject';
  if (method === 'DELETE') return q.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
  return method === 'HEAD' ? 'HeadObject' : 'GetObject';
};

/** A reverse proxy in front of the S3 server that records every call. */
export interface RecordingProxy {
  readonly endpoint: string;
  readonly calls: RecordedCall[];
  /** Every request, in the order they arrived. */
  readonly requests: RecordedRequest[];
  stop(): Promise<void>;
}

/**
 * Forwards every request unchanged (Host header included, so signatures still verify) to
 * `target` and records the IAM action each one needs.
 */
export const startRecordingProxy = async (target: string): Promise<RecordingProxy> => {
  const to = new URL(target);
  const calls: RecordedCall[] = [];
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    calls.push(s3ActionOf(req.method ?? 'GET', req.url ?? '/'));
    const sse = req.headers['x-amz-server-side-encryption'];
    const sseKey = req.headers['x-amz-server-side-encryption-aws-kms-key-id'];
    const region = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(req.headers.authorization ?? '')?.[1];
    requests.push({
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      operation: s3OperationOf(req.method ?? 'GET', req.url ?? '/', req.headers['x-amz-copy-source'] !== undefined),
      ...(typeof sse === 'string' ? { sse } : {}),
      ...(typeof sseKey === 'string' ? { sseKey } : {}),
      ...(region === undefined ? {} : { signingRegion: region }),
    });
    const upstream = httpRequest({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    requests,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
};
