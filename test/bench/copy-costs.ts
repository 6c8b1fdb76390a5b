import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { Readable } from 'node:stream';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ExactLengthStream } from '../../lambda/transfer/exact-length.ts';
import { firstLine } from './measure.ts';

// Profile follow-up: what each piece of our copy path costs in CPU, measured apart on
// loopback in this one process (both ends included, so only differences between rows mean
// anything). `node --import tsx test/bench/copy-costs.ts OUT.json`. Medians of 3 runs.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const MiB = 2 ** 20;
const SIZE = 32 * MiB;
const CHUNK = Buffer.alloc(64 * 1024, 7);
const agent = new http.Agent({ keepAlive: true });

const cpuOf = async (fn: () => Promise<void>): Promise<number> => {
  const t = process.cpuUsage();
  await fn();
  const u = process.cpuUsage(t);
  return (u.user + u.system) / 1e6;
};
const median3 = async (fn: () => Promise<number>): Promise<number> => {
  const xs = [await fn(), await fn(), await fn()].sort((a, b) => a - b);
  return Math.round((xs[1] as number) * 1000) / 1000;
};
const listen = async (server: http.Server): Promise<string> => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};
const body = (size: number): Readable => Readable.from((function* () { for (let left = size; left > 0; left -= CHUNK.length) yield left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left); })());

const source = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-length': String(SIZE) });
  body(SIZE).pipe(res);
});
const sink = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { ETag: '"x"' }).end());
});
const src = await listen(source);
const dst = await listen(sink);

/** One download piped into one plain PUT, through an ExactLengthStream or not. */
const copy = (check: boolean): Promise<void> =>
  new Promise((resolve, reject) => {
    http.get(`${src}/`, { agent }, (res) => {
      const put = http.request(`${dst}/`, { method: 'PUT', agent, headers: { 'content-length': String(SIZE) } }, (r) => r.resume().on('end', resolve));
      put.on('error', reject);
      if (check) res.pipe(new ExactLengthStream(SIZE, 60_000)).pipe(put);
      else res.pipe(put);
    });
  });
const perGiB = (cpu: number, n: number): number => cpu / ((n * SIZE) / 2 ** 30);
const N = 16;
const rows: Record<string, number> = {};
rows['GET piped to PUT, CPU s/GiB'] = await median3(async () => perGiB(await cpuOf(async () => { for (let i = 0; i < N; i += 1) await copy(false); }), N));
rows['same through ExactLengthStream (count, sha256, held byte), CPU s/GiB'] = await median3(async () => perGiB(await cpuOf(async () => { for (let i = 0; i < N; i += 1) await copy(true); }), N));
rows['sha256 alone, CPU s/GiB'] = await median3(async () => perGiB(await cpuOf(async () => { const h = createHash('sha256'); for (let i = 0; i < (N * SIZE) / CHUNK.length; i += 1) h.update(CHUNK); h.digest(); }), N));

const client = (mode: 'WHEN_REQUIRED' | 'WHEN_SUPPORTED'): S3Client =>
  new S3Client({ endpoint: dst, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, requestChecksumCalculation: mode });
const put = (c: S3Client, size: number): Promise<unknown> => c.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: body(size), ContentLength: size, Metadata: { public_id: 'a', version: '1' } }));
const plainPut = (size: number): Promise<void> =>
  new Promise((resolve, reject) => {
    const r = http.request(`${dst}/b/k`, { method: 'PUT', agent, headers: { 'content-length': String(size) } }, (x) => x.resume().on('end', resolve));
    r.on('error', reject);
    body(size).pipe(r);
  });
const REQ = 500;
for (const mode of ['WHEN_REQUIRED', 'WHEN_SUPPORTED'] as const) {
  const c = client(mode);
  await put(c, 1);
  rows[`SDK PutObject of 1 byte, ${mode}, CPU ms per request`] = await median3(async () => ((await cpuOf(async () => { for (let i = 0; i < REQ; i += 1) await put(c, 1); })) * 1000) / REQ);
  rows[`SDK PutObject of 32 MiB, ${mode}, CPU s/GiB`] = await median3(async () => perGiB(await cpuOf(async () => { for (let i = 0; i < 8; i += 1) await put(c, SIZE); }), 8));
  c.destroy();
}
rows['plain unsigned PUT of 1 byte, CPU ms per request'] = await median3(async () => ((await cpuOf(async () => { for (let i = 0; i < REQ; i += 1) await plainPut(1); })) * 1000) / REQ);
source.close();
sink.close();
agent.destroy();
const out = {
  generatedAt: new Date().toISOString(),
  commit: firstLine('git', ['rev-parse', 'HEAD']) ?? null,
  node: process.version,
  loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  note: 'CPU of this one process: client and loopback server together; medians of 3 runs. Compare rows, not absolute values.',
  rows,
};
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
if (process.argv[2]) writeFileSync(process.argv[2], `${JSON.stringify(out, null, 2)}\n`);
