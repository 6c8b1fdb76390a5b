import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { S3_CHECKSUMS } from './fakes/s3rver.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = path.join(ROOT, 'bin', 'cloudinary-backup.js');

/**
 * The environment every spawned CLI gets: it must run the bundle users run (dist/cli.mjs, built
 * by npm's `prepare`), never fall back to compiling the sources with tsx (bin/cloudinary-backup.js).
 */
export const CLI_ENV = { CLOUDINARY_BACKUP_LOADER: 'bundle' } as const;

let bundleReady: Promise<void> | undefined;

/**
 * Builds the bundle when it is older than the sources (a developer who edited a file and runs one
 * test file), once per process, so the CLI the tests spawn is built from the sources they read.
 * `--keep-old`: other test files may be running the previous bundle meanwhile.
 */
export const prepareCli = (): Promise<void> =>
  (bundleReady ??= (async () => {
    const { staleReason } = (await import(pathToFileURL(path.join(ROOT, 'bin', 'bundle-state.js')).href)) as { staleReason: (root: string) => string | undefined };
    if (staleReason(ROOT) === undefined) return;
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-cli.mjs'), '--keep-old'], { stdio: 'inherit' });
    const still = staleReason(ROOT);
    if (still !== undefined) throw new Error(`the CLI bundle is still stale after a build: ${still}`);
  })());

/** What a CLI run printed and returned. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real CLI as a child process. `onStart` gets the child (e.g. to signal it). */
export const runCli = (
  args: string[],
  env: Record<string, string | undefined>,
  timeoutMs = 240_000,
  onStart?: (child: import('node:child_process').ChildProcess) => void,
): Promise<CliResult> =>
  prepareCli().then(() => new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...CLI_ENV, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    onStart?.(child);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  }));

/** Parses the single JSON object a `--json` run prints, failing loudly otherwise. */
export const parseReport = (r: CliResult): Record<string, unknown> & { failures: { publicId: string; error: string }[] } => {
  const lines = r.stdout.trim().split('\n');
  if (lines.length !== 1) throw new Error(`expected one JSON line on stdout, got ${lines.length}:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return JSON.parse(lines[0] as string);
};

/**
 * An S3 client for s3rver, with the checksum mode the run asked for (S3_TEST_CHECKSUMS), signing
 * for `region` (a bucket given a region of its own in startS3rver's rules answers others with 301).
 */
export const s3For = (endpoint: string, region = 'us-east-1'): S3Client =>
  new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    // As createS3Client does (lambda/adapters/s3/client.ts): S3 refuses aws-chunked chunks under 8 KiB but the last.
    ...(S3_CHECKSUMS === 'sdk-default' ? { requestStreamBufferSize: 64 * 1024 } : { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }),
  });

/** sha256 of a stream. */
export const sha256OfStream = async (s: Readable | AsyncIterable<Uint8Array>): Promise<string> => {
  const h = createHash('sha256');
  for await (const c of s) h.update(c);
  return h.digest('hex');
};

/** sha256 of an S3 object, or undefined when it does not exist. */
export const s3Sha = async (s3: S3Client, bucket: string, key: string): Promise<string | undefined> => {
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await sha256OfStream(r.Body as Readable);
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
    throw err;
  }
};

/** The HTTP status and S3 error code (the SDK error's name) a rejected S3 command carried; fails when it did not reject. */
export const rejection = async (p: Promise<unknown>): Promise<{ status: number | undefined; code: string }> => {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; $metadata?: { httpStatusCode?: number } };
    return { status: e.$metadata?.httpStatusCode, code: e.name };
  }
  return assert.fail('the request succeeded');
};
