import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers.ts';

/** Benchmarks `npm run bench` knows, by number. */
export const BENCH_IDS = [1, 2, 3, 4] as const;
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
}

export const USAGE = `npm run bench -- [--only=1,2,3,4] [--quick] [--out=PATH] [--node=PATH[,PATH]]

  1  full backup throughput (ours at concurrency 8, 4 and 1; rclone at --transfers 4 and 8)
  2  no-change night at scale (--diff list vs --diff head)
  3  memory under big files (one video of 100 MiB, 1 GiB, 3 GiB; every Node.js found)
  4  scaling curve of a no-change run (1k, 10k, 100k assets)

--quick      small sizes, for development (results go to results/quick.json unless --out)
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
  let out: string | undefined;
  let nodes: string[] | undefined;
  for (const arg of argv) {
    const [flag, value] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (flag === '--quick') quick = true;
    else if (flag === '--only' && value) {
      const ids = value.split(',').map((s) => Number(s.trim()));
      const bad = ids.filter((n) => !(BENCH_IDS as readonly number[]).includes(n));
      if (bad.length > 0 || ids.length === 0) throw new Error(`--only takes a comma list of ${BENCH_IDS.join(', ')}\n\n${USAGE}`);
      only = [...new Set(ids as BenchId[])].sort();
    } else if (flag === '--out' && value) out = path.resolve(value);
    else if (flag === '--node' && value) nodes = value.split(',').filter(Boolean).map((p) => path.resolve(p));
    else if (flag === '--help' || flag === '-h') throw new Error(USAGE);
    else throw new Error(`unknown argument ${arg}\n\n${USAGE}`);
  }
  return {
    only,
    quick,
    out: out ?? path.join(ROOT, 'test', 'bench', 'results', quick ? 'quick.json' : 'latest.json'),
    extraNodes: nodes ?? installedNodes(),
  };
};
