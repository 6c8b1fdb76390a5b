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
  /** Stops the process but keeps its data (for restart tests). */
  kill(): Promise<void>;
  /** Starts again on the same port and data directory. */
  restart(): Promise<void>;
}

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 's3rver-child.cjs');

const launch = (directory: string, buckets: string[], port: number): Promise<{ child: ChildProcess; port: number }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--openssl-legacy-provider', CHILD, directory, buckets.join(','), String(port)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`s3rver exited early (${code})`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      resolve({ child, port: (JSON.parse(line) as { port: number }).port });
    });
  });

/** Starts s3rver on 127.0.0.1 with the given buckets, in a fresh temporary directory. */
export const startS3rver = async (buckets: string[]): Promise<S3rverHandle> => {
  const directory = await mkdtemp(path.join(tmpdir(), 's3rver-'));
  let { child, port } = await launch(directory, buckets, 0);
  const endpoint = `http://127.0.0.1:${port}`;
  const killChild = async (): Promise<void> => {
    if (child.exitCode !== null) return;
    child.removeAllListeners('exit');
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
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
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    },
    openUploads: async (bucket) => {
      try {
        return await readdir(path.join(directory, bucket, '._S3rver_uploads'));
      } catch {
        return [];
      }
    },
    kill: killChild,
    restart: async () => {
      await killChild();
      ({ child } = await launch(directory, [], port));
    },
    stop: async () => {
      await killChild();
      await rm(directory, { recursive: true, force: true });
    },
  };
};
