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

/** A reverse proxy in front of the S3 server that records every call. */
export interface RecordingProxy {
  readonly endpoint: string;
  readonly calls: RecordedCall[];
  stop(): Promise<void>;
}

/**
 * Forwards every request unchanged (Host header included, so signatures still verify) to
 * `target` and records the IAM action each one needs.
 */
export const startRecordingProxy = async (target: string): Promise<RecordingProxy> => {
  const to = new URL(target);
  const calls: RecordedCall[] = [];
  const server: Server = createServer((req, res) => {
    calls.push(s3ActionOf(req.method ?? 'GET', req.url ?? '/'));
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
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
};
