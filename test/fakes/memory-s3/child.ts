/**
 * Hosts the in-memory S3 server (server.ts) in its own process, so its memory and CPU are
 * measured apart from the process under test. Argument: the buckets, comma-separated; an optional
 * port. Prints {"port":N} on stdout once listening; stops on SIGTERM or when stdin closes.
 *
 * Control paths (no bucket name starts with "_", so none shadows a bucket; not counted):
 *   GET    /_memory-s3/requests          requests by S3 operation since start or the last reset
 *   DELETE /_memory-s3/requests          the same, then resets
 *   GET    /_memory-s3/requests?trace=1  {"counts", "trace": ["<operation> /<bucket>/<key>", ...]}
 *          (with MEMORY_S3_TRACE=1 in the server's environment: the requests of a run, in order)
 *   POST   /_memory-s3/seed?bucket=NAME  NDJSON, one object a line: {"key","seed","size"} (bytes of
 *          test/fakes/content.ts's generator) or {"key","base64"}; optional "metadata" (names
 *          without x-amz-meta-), "contentType", "lastModified" (ms). Answers {"seeded":N}.
 *   GET    /_memory-s3/stats             {"objects":{bucket:N},"uploads":{bucket:[key...]}}
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createInterface } from 'node:readline';
import { md5Of } from './bucket.ts';
import type { MemoryObject, ObjectBody } from './bucket.ts';
import { createMemoryS3Server } from './server.ts';
import type { MemoryS3Server } from './server.ts';

interface SeedLine {
  key: string;
  seed?: string;
  size?: number;
  base64?: string;
  metadata?: Record<string, string>;
  contentType?: string;
  lastModified?: number;
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const seed = async (req: IncomingMessage, res: ServerResponse, state: MemoryS3Server, bucketName: string): Promise<void> => {
  const bucket = state.buckets.get(bucketName);
  if (!bucket) return json(res, 404, { error: `no bucket ${bucketName}` });
  const now = Date.now();
  const entries: Array<readonly [string, MemoryObject]> = [];
  for await (const line of createInterface({ input: req, crlfDelay: Infinity })) {
    if (!line) continue;
    const s = JSON.parse(line) as SeedLine;
    const body: ObjectBody = s.base64 !== undefined ? Buffer.from(s.base64, 'base64') : { seed: String(s.seed), size: Number(s.size) };
    const size = Buffer.isBuffer(body) ? body.length : body.size;
    const metaJson = s.metadata && Object.keys(s.metadata).length ? JSON.stringify(s.metadata) : '';
    entries.push([s.key, { size, etag: md5Of(body), lastModified: s.lastModified ?? now, contentType: s.contentType ?? 'binary/octet-stream', metaJson, body }]);
  }
  json(res, 200, { seeded: bucket.seed(entries) });
};

const control = async (req: IncomingMessage, res: ServerResponse, state: MemoryS3Server): Promise<void> => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/_memory-s3/requests') {
    const counts = state.counts;
    const trace = state.trace;
    if (req.method === 'DELETE') {
      state.counts = {};
      if (trace) state.trace = [];
    }
    return json(res, 200, url.searchParams.get('trace') === '1' ? { counts, trace: trace ?? [] } : counts);
  }
  if (url.pathname === '/_memory-s3/seed' && req.method === 'POST') return seed(req, res, state, url.searchParams.get('bucket') ?? '');
  if (url.pathname === '/_memory-s3/stats') {
    const objects: Record<string, number> = {};
    const uploads: Record<string, string[]> = {};
    for (const [name, b] of state.buckets) {
      objects[name] = b.size;
      uploads[name] = [...b.uploads.values()].map((u) => u.key);
    }
    return json(res, 200, { objects, uploads });
  }
  json(res, 404, { error: 'unknown control path' });
};

const [bucketsArg, portArg] = process.argv.slice(2);
const state = createMemoryS3Server({ buckets: (bucketsArg ?? '').split(',').filter(Boolean) }, control);
state.server.keepAliveTimeout = 60_000;
state.server.listen(Number(portArg ?? 0), '127.0.0.1', () => {
  const address = state.server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
const stop = (): void => {
  state.server.close(() => process.exit(0));
  state.server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
