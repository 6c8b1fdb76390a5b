import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** A running s3rver in a child process. */
export interface S3rverHandle {
  readonly endpoint: string;
  readonly port: number;
  readonly directory: string;
  /** Environment for a process that should talk to this server. */
  readonly env: Record<string, string>;
  /** Multipart uploads left open in a bucket (s3rver has no ListMultipartUploads). */
  openUploads(bucket: string): Promise<string[]>;
  stop(): Promise<void>;
  /**
   * Stops the process but keeps its data (for restart tests). SIGTERM (the default) lets
   * requests in flight finish; SIGKILL drops them, as a crash does.
   */
  kill(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts again on the same port and data directory. */
  restart(): Promise<void>;
  /** Requests received since start (or the last reset), by S3 operation (e.g. HeadObject). */
  requestCounts(options?: { reset?: boolean }): Promise<Record<string, number>>;
  /** Process id of the running s3rver (for CPU and memory figures). */
  pid(): number | undefined;
  /** Arms S3 error injection (see s3rver-child.cjs); replaces earlier rules. */
  injectFaults(rules: readonly S3FaultRule[]): Promise<void>;
  /** Clears the rules; resolves with how many errors each operation answered. */
  clearFaults(): Promise<Record<string, number>>;
  /** Requests the buckets' rules (S3rverOptions.buckets) refused: writes without encryption, requests signed for another region. */
  policyRefusals(): Promise<{ sse: number; redirect: number }>;
}

/** What a bucket of a real account adds to S3's own rules (see s3rver-policy.cjs). */
export interface BucketRules {
  /** The bucket lives in this region: a request signed for another is answered 301 PermanentRedirect. */
  readonly region?: string;
  /** A bucket policy denies writes without x-amz-server-side-encryption (with a mode: without that value). */
  readonly requireSse?: true | 'AES256' | 'aws:kms';
}

/** One injected S3 error: requests of `op` on keys containing `key` answer `status`. */
export interface S3FaultRule {
  readonly op: 'PutObject' | 'CreateMultipartUpload' | 'UploadPart' | 'CompleteMultipartUpload' | 'AbortMultipartUpload';
  /** Substring of the object key. @default '' (every key) */
  readonly key?: string;
  /** @default 500 */
  readonly status?: number;
  /** S3 error code. @default 'InternalError' */
  readonly code?: string;
  /** How many requests fail. @default every one */
  readonly times?: number;
}

/** Options of startS3rver. */
export interface S3rverOptions {
  /** Folder in which the data folder is made (e.g. a tmpfs for the benchmarks). @default os.tmpdir() */
  readonly parentDir?: string;
  /** Rules per bucket (region, encryption policy). @default none */
  readonly rules?: Readonly<Record<string, BucketRules>>;
}

/**
 * Which request checksums the tests' S3 clients use. `S3_TEST_CHECKSUMS=sdk-default` keeps the
 * SDK's defaults (`WHEN_SUPPORTED`: a CRC32 on every upload, a streamed body sent as
 * `aws-chunked` with a trailer), which is what the Lambda sends to AWS; anything else sets
 * `WHEN_REQUIRED` (plain bodies), as S3-compatible servers without checksum support need.
 */
export const S3_CHECKSUMS: 'sdk-default' | 'when-required' = process.env.S3_TEST_CHECKSUMS === 'sdk-default' ? 'sdk-default' : 'when-required';

/** The SDK environment variables for S3_CHECKSUMS (none: the SDK's defaults). */
export const checksumEnv = (): Record<string, string> =>
  S3_CHECKSUMS === 'sdk-default' ? {} : { AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED', AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED' };

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 's3rver-child.cjs');

const launch = (directory: string, buckets: string[], port: number, rules: Readonly<Record<string, BucketRules>> = {}): Promise<{ child: ChildProcess; port: number }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--openssl-legacy-provider', CHILD, directory, buckets.join(','), String(port)], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, S3RVER_BUCKET_RULES: JSON.stringify(rules) },
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`s3rver exited early (${code})`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      resolve({ child, port: (JSON.parse(line) as { port: number }).port });
    });
  });

/** Starts s3rver on 127.0.0.1 with the given buckets, in a fresh temporary directory. */
export const startS3rver = async (buckets: string[], options: S3rverOptions = {}): Promise<S3rverHandle> => {
  const directory = await mkdtemp(path.join(options.parentDir ?? tmpdir(), 's3rver-'));
  let { child, port } = await launch(directory, buckets, 0, options.rules);
  const endpoint = `http://127.0.0.1:${port}`;
  const killChild = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.removeAllListeners('exit');
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  };
  return {
    endpoint,
    port,
    directory,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      ...checksumEnv(),
    },
    openUploads: async (bucket) => {
      try {
        return await readdir(path.join(directory, bucket, '._S3rver_uploads'));
      } catch {
        return [];
      }
    },
    requestCounts: async (options = {}) => {
      const res = await fetch(`${endpoint}/_s3rver/requests`, { method: options.reset ? 'DELETE' : 'GET' });
      return (await res.json()) as Record<string, number>;
    },
    injectFaults: async (rules) => {
      const r = await fetch(`${endpoint}/_s3rver/faults`, { method: 'PUT', body: JSON.stringify({ rules }) });
      if (!r.ok) throw new Error(`s3rver fault control answered ${r.status}`);
    },
    clearFaults: async () => {
      const r = await fetch(`${endpoint}/_s3rver/faults`, { method: 'DELETE' });
      return ((await r.json()) as { injected: Record<string, number> }).injected;
    },
    policyRefusals: async () => (await (await fetch(`${endpoint}/_s3rver/policy`)).json()) as { sse: number; redirect: number },
    pid: () => child.pid,
    kill: killChild,
    restart: async () => {
      await killChild();
      ({ child } = await launch(directory, [], port, options.rules));
    },
    stop: async () => {
      await killChild();
      await rm(directory, { recursive: true, force: true });
    },
  };
};
