/**
 * Starts the in-memory S3 server (test/fakes/memory-s3/) in its own process: the benchmarks'
 * S3 at a million keys, where s3rver (three files per object, a walk of its store for every
 * listing page) would measure itself rather than us. Same credentials and environment as
 * startS3rver (test/fakes/s3rver.ts), same operation names in requestCounts().
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { checksumEnv } from './s3rver.ts';

/** One object of a bulk seed: its bytes, or content.ts's generator seed and size. */
export type SeedObject = {
  readonly key: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly contentType?: string;
} & ({ readonly seed: string; readonly size: number } | { readonly base64: string });

/** A running in-memory S3 server. */
export interface MemoryS3Handle {
  readonly endpoint: string;
  readonly port: number;
  /** Environment for a process that should talk to this server. */
  readonly env: Record<string, string>;
  /** Requests received since start (or the last reset), by S3 operation (e.g. HeadObject). */
  requestCounts(options?: { reset?: boolean }): Promise<Record<string, number>>;
  /** Stores objects straight into a bucket (not counted as requests); resolves with how many. */
  seed(bucket: string, objects: Iterable<SeedObject>): Promise<number>;
  /** Keys of the multipart uploads open in a bucket. */
  openUploads(bucket: string): Promise<string[]>;
  /** Process id of the server (for its CPU and memory figures). */
  pid(): number | undefined;
  stop(): Promise<void>;
}

/** Options of startMemoryS3. */
export interface MemoryS3Options {
  readonly buckets: readonly string[];
  /** V8 old space of the server process, MiB (a million seeded objects take ~1 GiB). @default 6144 */
  readonly maxOldSpaceMiB?: number;
}

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'memory-s3', 'child.ts');
/** Lines per seed request: keeps each request's body to a few MiB. */
const SEED_BATCH = 20_000;

/** Starts the server on 127.0.0.1 with the given (empty) buckets. */
export const startMemoryS3 = async (options: MemoryS3Options): Promise<MemoryS3Handle> => {
  const child: ChildProcess = spawn(process.execPath, [`--max-old-space-size=${options.maxOldSpaceMiB ?? 6144}`, '--import', 'tsx', CHILD, options.buckets.join(',')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`memory-s3 exited early (${code})`)));
    createInterface({ input: child.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
  });
  child.removeAllListeners('exit');
  const endpoint = `http://127.0.0.1:${port}`;
  const postSeed = async (bucket: string, lines: string[]): Promise<number> => {
    const r = await fetch(`${endpoint}/_memory-s3/seed?bucket=${encodeURIComponent(bucket)}`, { method: 'POST', body: lines.join('\n') });
    if (!r.ok) throw new Error(`memory-s3 seed answered ${r.status}: ${await r.text()}`);
    return ((await r.json()) as { seeded: number }).seeded;
  };
  return {
    endpoint,
    port,
    env: { AWS_ENDPOINT_URL_S3: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', ...checksumEnv() },
    requestCounts: async (o = {}) => {
      const r = await fetch(`${endpoint}/_memory-s3/requests`, { method: o.reset ? 'DELETE' : 'GET' });
      return (await r.json()) as Record<string, number>;
    },
    seed: async (bucket, objects) => {
      let seeded = 0;
      let batch: string[] = [];
      for (const o of objects) {
        batch.push(JSON.stringify(o));
        if (batch.length === SEED_BATCH) {
          seeded += await postSeed(bucket, batch);
          batch = [];
        }
      }
      if (batch.length > 0) seeded += await postSeed(bucket, batch);
      return seeded;
    },
    openUploads: async (bucket) => {
      const r = await fetch(`${endpoint}/_memory-s3/stats`);
      return ((await r.json()) as { uploads: Record<string, string[]> }).uploads[bucket] ?? [];
    },
    pid: () => child.pid,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
};
