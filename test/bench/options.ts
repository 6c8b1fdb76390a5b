import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers.ts';

/** Benchmarks `npm run bench` knows, by number. */
export const BENCH_IDS = [1, 2, 3, 4, 5, 6] as const;
export type BenchId = (typeof BENCH_IDS)[number];

/** What one `npm run bench` run does. */
export interface BenchOptions {
  /** Which benchmarks run (`--only=1,3`). @default all */
  readonly only: readonly BenchId[];
  /** Small sizes for development (`--quick`): the same code paths in about a minute. */
  readonly quick: boolean;
  /** Where the JSON goes (`--out=PATH`). @default test/bench/results/latest.json */
  readonly out: string;
  /** Extra Node.js binaries benchmark 3 runs the CLI with (`--node=PATH[,PATH]`, or auto-detected). */
  readonly extraNodes: readonly string[];
  /** Runs of each case in benchmark 1; every figure printed is their median (`--runs=N`). @default 3 */
  readonly runs: number;
  /** Benchmark 1's account (`--assets=N --mib=M`); sizes 20 KiB–50 MiB. @default 400 assets, 1,024 MiB */
  readonly assets?: number;
  readonly mib?: number;
  /** Copies in flight benchmark 1 measures (`--inflight=8,4,1`). @default 8, 4, 1 */
  readonly inflight: readonly number[];
  /** S3 client checksums of our runs (`--checksums=sdk-default`). @default WHEN_REQUIRED */
  readonly checksums: 'WHEN_REQUIRED' | 'sdk-default';
  /** Account sizes of benchmark 4 (`--scale=10000,100000`). @default 1k, 10k, 100k */
  readonly scale?: readonly number[];
  /** Runs of each case of benchmark 4 at 500,000 assets and more (`--large-runs=N`). @default 1 */
  readonly largeRuns: number;
  /** Another checkout's CLI measured beside ours in benchmark 1 (`--baseline=DIR`): before/after in one run. */
  readonly baselineDir?: string;
  /** Folder for `node --cpu-prof` profiles of our CLI in benchmark 1 (`--cpu-prof=DIR`). */
  readonly cpuProfDir?: string;
  /** Benchmark 4 also runs the durable handler under LocalDurableTestRunner (`--durable`). */
  readonly durable: boolean;
  /** S3 server of the seeded accounts of benchmarks 2 and 4 (`--s3=memory|s3rver`). @default memory (see world.ts S3Backend) */
  readonly s3Backend: 'memory' | 's3rver';
}

export const USAGE = `npm run bench -- [--only=1,2,3,4] [--quick] [--out=PATH] [--node=PATH[,PATH]]

  1  full backup throughput (ours at concurrency 8, 4 and 1; rclone at --transfers 4 and 8)
  2  no-change night at scale (--diff list vs --diff head)
  3  memory under big files (one video of 100 MiB, 1 GiB, 3 GiB; every Node.js found)
  4  scaling curve of a no-change run (1k, 10k, 100k assets; --scale)
  5  bytes per asset of the engine's prepare() (10k, 100k, 1M; --scale): 8ab8645's Maps vs KeyIndex
  6  peak RSS and bytes per asset of verify and restore --dry-run (10k, 100k, 1M; --scale; --baseline=DIR beside)

--quick      small sizes, for development (results go to results/quick.json unless --out)
--runs=N     runs of each case of benchmark 1; figures are medians (default 3)
--assets=N --mib=M   benchmark 1's account: N assets, M MiB in all (default 400, 1024)
--inflight=8,4,1     copies in flight benchmark 1 measures (ours, rclone, the limit)
--checksums=sdk-default   our S3 client computes the SDK's default CRC checksums (default WHEN_REQUIRED)
--large-runs=N       runs of each case of benchmark 4 at 500,000 assets and more (default 1; a 1M run takes minutes)
--scale=N,N,...      account sizes of benchmark 4 (default 1000,10000,100000), 5 and 6 (10000,100000,1000000)
--baseline=DIR       also run DIR/bin/cloudinary-backup.js (e.g. an older commit's files) in benchmark 1, DIR/lambda in 6
--s3=memory|s3rver   S3 server of benchmarks 2 and 4's seeded accounts (default memory: test/fakes/memory-s3)
--durable            benchmark 4 also measures the durable handler (LocalDurableTestRunner, own process)
--cpu-prof=DIR       write a V8 CPU profile of each of our runs in benchmark 1 to DIR
--node=...   Node.js binaries to run the CLI with in benchmark 3, besides this one; by default
             every test/bench/.nodes/*/node_modules/node/bin/node (see test/bench/README.md)`;

/** Node binaries installed for the benchmark with `npm install --prefix test/bench/.nodes/<major> node@<major>`. */
const installedNodes = (): string[] => {
  const dir = path.join(ROOT, 'test', 'bench', '.nodes');
  let majors: string[];
  try {
    majors = readdirSync(dir);
  } catch {
    return [];
  }
  return majors.sort().map((m) => path.join(dir, m, 'node_modules', 'node', 'bin', 'node'));
};

/** Parses `npm run bench -- ...`; throws with the usage text on a bad argument. */
export const parseOptions = (argv: readonly string[]): BenchOptions => {
  let only: BenchId[] = [...BENCH_IDS];
  let quick = false;
  let durable = false;
  let s3Backend: BenchOptions['s3Backend'] = 'memory';
  let out: string | undefined;
  let nodes: string[] | undefined;
  let runs = 3;
  let largeRuns = 1;
  let assets: number | undefined;
  let mibTotal: number | undefined;
  let inflight = [8, 4, 1];
  let cpuProfDir: string | undefined;
  let baselineDir: string | undefined;
  let scale: number[] | undefined;
  let checksums: BenchOptions['checksums'] = 'WHEN_REQUIRED';
  const positive = (flag: string, v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} takes a whole number ≥ 1\n\n${USAGE}`);
    return n;
  };
  for (const arg of argv) {
    const [flag, value] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (flag === '--quick') quick = true;
    else if (flag === '--durable') durable = true;
    else if (flag === '--s3' && (value === 'memory' || value === 's3rver')) s3Backend = value;
    else if (flag === '--only' && value) {
      const ids = value.split(',').map((s) => Number(s.trim()));
      const bad = ids.filter((n) => !(BENCH_IDS as readonly number[]).includes(n));
      if (bad.length > 0 || ids.length === 0) throw new Error(`--only takes a comma list of ${BENCH_IDS.join(', ')}\n\n${USAGE}`);
      only = [...new Set(ids as BenchId[])].sort();
    } else if (flag === '--out' && value) out = path.resolve(value);
    else if (flag === '--node' && value) nodes = value.split(',').filter(Boolean).map((p) => path.resolve(p));
    else if (flag === '--runs' && value) runs = positive(flag, value);
    else if (flag === '--large-runs' && value) largeRuns = positive(flag, value);
    else if (flag === '--assets' && value) assets = positive(flag, value);
    else if (flag === '--mib' && value) mibTotal = positive(flag, value);
    else if (flag === '--inflight' && value) inflight = value.split(',').map((v) => positive(flag, v));
    else if (flag === '--checksums' && (value === 'sdk-default' || value === 'WHEN_REQUIRED')) checksums = value;
    else if (flag === '--scale' && value) scale = value.split(',').map((v) => positive(flag, v));
    else if (flag === '--baseline' && value) baselineDir = path.resolve(value);
    else if (flag === '--cpu-prof' && value) cpuProfDir = path.resolve(value);
    else if (flag === '--help' || flag === '-h') throw new Error(USAGE);
    else throw new Error(`unknown argument ${arg}\n\n${USAGE}`);
  }
  return {
    only,
    quick,
    out: out ?? path.join(ROOT, 'test', 'bench', 'results', quick ? 'quick.json' : 'latest.json'),
    extraNodes: nodes ?? installedNodes(),
    runs,
    largeRuns,
    durable,
    s3Backend,
    inflight,
    checksums,
    ...(assets ? { assets } : {}),
    ...(mibTotal ? { mib: mibTotal } : {}),
    ...(cpuProfDir ? { cpuProfDir } : {}),
    ...(baselineDir ? { baselineDir } : {}),
    ...(scale ? { scale } : {}),
  };
};
