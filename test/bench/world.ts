import { statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { LISTED_TYPES } from '../../lambda/core/asset.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import type { ResourceType } from '../fakes/cloudinary-fake.ts';
import { startMemoryS3 } from '../fakes/memory-s3.ts';
import type { MemoryS3Handle } from '../fakes/memory-s3.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { BIN, CLI_ENV, s3For } from '../helpers.ts';
import { processCpuSeconds, runMeasured } from './measure.ts';
import { seedBackup } from './seed.ts';
import type { Measured } from './measure.ts';
import { DEFAULTS } from '../../infra/config.ts';
import { functionNodeOptions } from '../../infra/node-options.ts';

/** The bucket every benchmark writes into. */
export const BUCKET = 'bench';
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** A new fake account with the free plan's Admin API limit (500 calls an hour), or `rateLimit`. */
export const startFake = async (rateLimit?: number): Promise<CloudinaryFake> => {
  const fake = new CloudinaryFake({ cloudName: 'bench-cloud', apiKey: '111122223333444', apiSecret: 'bench-secret-value', ...(rateLimit ? { rateLimit } : {}) });
  await fake.start();
  return fake;
};

/** Free bytes of the file system that holds `dir`. */
export const freeBytes = (dir: string): number => {
  const st = statfsSync(dir);
  return st.bavail * st.bsize;
};

/**
 * Where s3rver keeps its files: /dev/shm (a tmpfs) when it has room. This VM's disk creates
 * about 800 small files a second and s3rver writes three per object, which would make the
 * disk, not the backup, the thing measured; every client writes to the same place.
 */
export const S3_DATA_PARENT = ((): string => {
  try {
    if (freeBytes('/dev/shm') > 8 * GiB) return '/dev/shm';
  } catch {
    // no /dev/shm: the system's temporary folder
  }
  return tmpdir();
})();

/** A fresh s3rver (in its own process and temporary folder) with the bench bucket. */
export const startS3 = (): Promise<S3rverHandle> => startS3rver([BUCKET], { parentDir: S3_DATA_PARENT });

/**
 * The S3 client's checksum mode in our runs: 'WHEN_REQUIRED' (what test/fakes/s3rver.ts sets:
 * no CRC on PutObject) or 'sdk-default' (WHEN_SUPPORTED: a CRC32 trailer on every upload, the
 * Lambda's mode against real S3). Recorded in every results file.
 */
export type ChecksumMode = 'WHEN_REQUIRED' | 'sdk-default';
let checksumMode: ChecksumMode = 'WHEN_REQUIRED';

/** Sets the checksum mode of every later cliEnv(). */
export const setChecksumMode = (mode: ChecksumMode): void => {
  checksumMode = mode;
};

/** The checksum mode cliEnv() gives our runs. */
export const currentChecksumMode = (): ChecksumMode => checksumMode;

/**
 * The S3 server of the seeded worlds (benchmarks 2 and 4, `--s3`): `memory` (test/fakes/memory-s3,
 * the default) or `s3rver`. s3rver stores three files per object and walks its store for every
 * listing page, so at 100,000 keys its own CPU outgrows ours and a million keys cannot be seeded
 * at all; the in-memory server answers a listing page in O(log n + 1,000) and applies the same
 * request checks (s3rver-strict.cjs) and the same Destination contract.
 */
export type S3Backend = 'memory' | 's3rver';

/** What the benchmarks use of either S3 server. */
export type BenchS3 = S3rverHandle | MemoryS3Handle;

/** The environment of a CLI run against the fake and an S3 server: nothing else leaks in. */
export const cliEnv = (fake: CloudinaryFake, s3: Pick<BenchS3, 'env'>): Record<string, string | undefined> => {
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    CLOUDINARY_URL: fake.cloudinaryUrl,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // Ours is the bundle users run (run.ts builds it when stale); never tsx behind our back.
    ...CLI_ENV,
    ...s3.env,
  };
  if (checksumMode === 'sdk-default') {
    delete env.AWS_REQUEST_CHECKSUM_CALCULATION;
    delete env.AWS_RESPONSE_CHECKSUM_VALIDATION;
  }
  return env;
};

/** A measured CLI backup and the JSON report it printed. */
export interface BackupRun extends Measured {
  readonly report: Record<string, unknown> & { copied: number; failed: number; unchanged: number; listed: number; cloudinaryApiCalls: number };
}

/**
 * Runs `cloudinary-backup backup ... --json` as a child process (with `node`, default this
 * process's binary) and measures it. Throws when the run fails or prints no report.
 */
export const runBackup = async (
  args: readonly string[],
  env: Record<string, string | undefined>,
  options: { node?: string; nodeArgs?: readonly string[]; bin?: string; timeoutMs?: number } = {},
): Promise<BackupRun> => {
  const m = await runMeasured(options.node ?? process.execPath, [...(options.nodeArgs ?? []), options.bin ?? BIN, 'backup', ...args, '--json'], {
    env,
    timeoutMs: options.timeoutMs ?? 600_000,
  });
  const line = m.stdout.trim().split('\n').pop() ?? '';
  let report: BackupRun['report'] | undefined;
  try {
    report = JSON.parse(line) as BackupRun['report'];
  } catch {
    report = undefined;
  }
  if (m.code !== 0 || !report) {
    throw new Error(
      `backup ${args.join(' ')} failed (exit ${m.code}${m.timedOut ? ', timed out' : ''}):\n${m.stdout.slice(-2000)}\n${m.stderr.slice(-4000)}`,
    );
  }
  return { ...m, report };
};

/** Count and total size of the objects under a prefix (proves a copy is complete). */
export const objectsUnder = async (s3: S3rverHandle, prefix: string): Promise<{ count: number; bytes: number }> => {
  const client = s3For(s3.endpoint);
  let count = 0;
  let bytes = 0;
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of page.Contents ?? []) {
      count += 1;
      bytes += o.Size ?? 0;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  client.destroy();
  return { count, bytes };
};

/** An account of `n` small assets, already backed up once into its own s3rver. */
export interface SeededWorld {
  readonly n: number;
  readonly fake: CloudinaryFake;
  readonly s3: BenchS3;
  readonly s3Backend: S3Backend;
  readonly env: Record<string, string | undefined>;
  readonly target: string;
  /** Assets per resource type. */
  readonly perType: Readonly<Record<ResourceType, number>>;
  /** Seconds the seeding took (see seed.ts). */
  readonly seedSeconds: number;
  /** The fake's Admin API calls an hour (see adminAllowance). */
  readonly adminRateLimit: number;
  stop(): Promise<void>;
}

/**
 * Listing pages one full pass over `perType` needs: every resource type is listed once per
 * delivery type (LISTED_TYPES, lambda/core/asset.ts), 500 per page, one page even when empty.
 * The bench's assets are all `upload`: the other delivery types cost one empty page each.
 */
export const listingPages = (perType: Readonly<Record<string, number>>): number =>
  Object.values(perType).reduce((sum, n) => sum + Math.max(1, Math.ceil(n / 500)) + (LISTED_TYPES.length - 1), 0);

/**
 * The fake's hourly Admin API allowance for an account of `n` assets: the free plan's 500 while
 * one night's listing fits in it with the engine's 10% reserve (up to ~200,000 assets), else
 * 5,000. A million assets list in 2,006 pages, more than the paid plans' 2,000 an hour
 * (Cloudinary support, "Are Cloudinary APIs rate-limited?"): on such a plan the night waits for the next window, which is
 * Cloudinary's limit, not ours; the benchmark measures the run without that wait.
 */
export const adminAllowance = (n: number): number => (n > 200_000 ? 5_000 : 500);

/**
 * Fills a fake account with `n` small assets — 70% images, 20% videos, 10% raw files, in
 * folders of 1,000 (s3rver walks one folder per listing page; one flat folder of 100k keys
 * makes its listing quadratic, which real S3 is not) — and seeds its backup (see seed.ts).
 */
export const seedWorld = async (n: number, log: (line: string) => void, s3Backend: S3Backend = 'memory'): Promise<SeededWorld> => {
  const adminRateLimit = adminAllowance(n);
  const fake = await startFake(adminRateLimit);
  const s3: BenchS3 = s3Backend === 'memory' ? await startMemoryS3({ buckets: [BUCKET] }) : await startS3();
  const perType: Record<ResourceType, number> = { image: 0, video: 0, raw: 0 };
  const version = Math.floor(Date.now() / 1000) - 7200;
  for (let i = 0; i < n; i += 1) {
    const d = i % 10;
    const resourceType: ResourceType = d < 7 ? 'image' : d < 9 ? 'video' : 'raw';
    perType[resourceType] += 1;
    const name = `f${String(Math.floor(i / 1000)).padStart(3, '0')}/a${String(i).padStart(6, '0')}`;
    fake.addAsset({
      publicId: resourceType === 'raw' ? `${name}.bin` : name,
      resourceType,
      bytes: 100 + ((i * 7919) % 1900),
      version,
      tags: i % 4 === 0 ? ['bench', `t${i % 7}`] : [],
      context: i % 5 === 0 ? { alt: `asset ${i}` } : {},
    });
  }
  const env = cliEnv(fake, s3);
  const target = `s3://${BUCKET}/cld`;
  const seedSeconds = await seedBackup(fake, s3, BUCKET, 'cld');
  log(`  seeded ${n.toLocaleString('en')} assets (objects and catalog) in ${seedSeconds.toFixed(1)} s`);
  return {
    n,
    fake,
    s3,
    env,
    target,
    perType,
    seedSeconds,
    s3Backend,
    adminRateLimit,
    stop: async () => {
      await fake.stop();
      await s3.stop();
    },
  };
};

/** CPU seconds each process spent during one run: where the wall time went on 2 cores. */
export interface CpuSplit {
  readonly cli: number | null;
  readonly s3rver: number | null;
  /** This process: the Cloudinary fake (and the HTTP index for rclone). */
  readonly fake: number;
}

/** Runs `fn` and measures the CPU the s3rver process and this process spent meanwhile. */
export const withCpu = async <T extends { cpuSeconds: number | null }>(s3: Pick<BenchS3, 'pid'>, fn: () => Promise<T>): Promise<T & { cpu: CpuSplit }> => {
  const s3Before = processCpuSeconds(s3.pid());
  const selfBefore = process.cpuUsage();
  const r = await fn();
  const self = process.cpuUsage(selfBefore);
  const s3After = processCpuSeconds(s3.pid());
  return {
    ...r,
    cpu: {
      cli: r.cpuSeconds,
      s3rver: s3Before === undefined || s3After === undefined ? null : s3After - s3Before,
      fake: (self.user + self.system) / 1e6,
    },
  };
};

/** A measured no-change run and what it cost on both sides. */
export interface NoChangeResult extends BackupRun {
  readonly cpu: CpuSplit;
  /** Requests s3rver received during the run, by operation. */
  readonly s3Requests: Record<string, number>;
  /** Admin API calls the fake received during the run. */
  readonly adminCalls: number;
  readonly listingCalls: number;
  /** Durable handler runs: invocations, steps and the largest step result. */
  readonly durable?: { readonly invocations: number; readonly steps: number; readonly largestCheckpointBytes: number; readonly timing?: DurableTiming };
}

/** Runs a no-change backup of a seeded world and collects what it cost. */
export const noChangeRun = async (world: SeededWorld, diff: 'list' | 'head', bin?: string): Promise<NoChangeResult> => {
  world.fake.resetStats();
  world.fake.resetRateLimit();
  await world.s3.requestCounts({ reset: true });
  const run = await withCpu(world.s3, () => runBackup(['--to', world.target, '--diff', diff], world.env, bin ? { bin, timeoutMs: 1_800_000 } : { timeoutMs: 1_800_000 }));
  const s3Requests = await world.s3.requestCounts();
  if (run.report.copied !== 0 || run.report.unchanged !== world.n || run.report.failed !== 0) {
    throw new Error(`no-change run (${diff}) of ${world.n}: copied ${run.report.copied}, unchanged ${run.report.unchanged}, failed ${run.report.failed}`);
  }
  return { ...run, s3Requests, adminCalls: world.fake.stats.adminCalls, listingCalls: world.fake.stats.listingCalls };
};

/** Where the durable child's time went: inside our step functions, between them (SDK and test runner), each step's span. */
export interface DurableTiming {
  readonly wallMs: number;
  readonly insideStepsMs: number;
  readonly betweenStepsMs: number;
  readonly spans: ReadonlyArray<{ readonly name: string; readonly startMs: number; readonly endMs: number }>;
}

/** The durable handler's child process (see durable-child.ts). */
const DURABLE_CHILD = new URL('./durable-child.ts', import.meta.url).pathname;

/**
 * A no-change night of a seeded world through the durable handler (LocalDurableTestRunner in its
 * own process): the same figures as noChangeRun, the report being the execution's result. The
 * child runs with the NODE_OPTIONS the template gives the function at its default memory
 * (infra/node-options.ts), or `nodeOptions` (an empty string: none).
 */
export const noChangeDurableRun = async (world: SeededWorld, nodeOptions: string = functionNodeOptions(DEFAULTS.memorySize)): Promise<NoChangeResult> => {
  world.fake.resetStats();
  world.fake.resetRateLimit();
  await world.s3.requestCounts({ reset: true });
  const env = { ...world.env, BENCH_BUCKET: BUCKET, BENCH_PREFIX: 'cld', POWERTOOLS_LOG_LEVEL: 'WARN', POWERTOOLS_METRICS_DISABLED: 'true', ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) };
  const run = await withCpu(world.s3, () => runMeasured(process.execPath, ['--import', 'tsx', DURABLE_CHILD], { env, timeoutMs: 3_600_000 }));
  const s3Requests = await world.s3.requestCounts();
  const line = run.stdout.split('\n').find((l) => l.startsWith('DURABLE-RESULT ')) ?? '';
  const out = line ? (JSON.parse(line.slice('DURABLE-RESULT '.length)) as { status: string; error: string | null; result: BackupRun['report']; invocations: number; steps: number; largestCheckpointBytes: number; timing: DurableTiming }) : undefined;
  if (run.code !== 0 || !out || out.status !== 'SUCCEEDED') throw new Error(`durable no-change run of ${world.n} failed (exit ${run.code}): ${out?.error ?? ''}\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-4000)}`);
  const report = out.result;
  if (report.copied !== 0 || report.unchanged !== world.n || report.failed !== 0) {
    throw new Error(`durable no-change run of ${world.n}: copied ${report.copied}, unchanged ${report.unchanged}, failed ${report.failed}`);
  }
  return { ...run, report, s3Requests, adminCalls: world.fake.stats.adminCalls, listingCalls: world.fake.stats.listingCalls, durable: { invocations: out.invocations, steps: out.steps, largestCheckpointBytes: out.largestCheckpointBytes, timing: out.timing } };
};
