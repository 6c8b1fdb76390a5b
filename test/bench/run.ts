import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, totalmem } from 'node:os';
import path from 'node:path';
import { benchBigFiles } from './bench-big-files.ts';
import { benchNoChange } from './bench-no-change.ts';
import { benchScaling } from './bench-scaling.ts';
import { benchThroughput } from './bench-throughput.ts';
import { benchPrepareMemory } from './bench-prepare-memory.ts';
import { benchVerifyRestore } from './bench-verify-restore.ts';
import { createContext } from './context.ts';
import type { BenchContext } from './context.ts';
import { parseOptions } from './options.ts';
import type { BenchId } from './options.ts';
import { rcloneVersion } from './rclone.ts';
import { formatResult } from './table.ts';
import type { BenchResult } from './table.ts';
import { S3_DATA_PARENT, setChecksumMode } from './world.ts';
import { firstLine } from './measure.ts';
import { prepareCli } from '../helpers.ts';

/** The 1-, 5- and 15-minute load averages, rounded. */
const loads = (): number[] => loadavg().map((l) => Math.round(l * 100) / 100);

/** The commit benchmarked, and whether the worktree had changes on top of it. */
const commit = (): { commit: string | null; dirty: boolean | null } => {
  const head = firstLine('git', ['rev-parse', 'HEAD']) ?? null;
  const status = firstLine('git', ['status', '--porcelain', '--untracked-files=no']);
  return { commit: head, dirty: head === null ? null : status !== undefined && status !== '' };
};

// `npm run bench`: runs the benchmarks of docs/performance.md, prints their tables and writes the same
// figures as JSON. Not part of `npm test`.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const BENCHES: Record<BenchId, (ctx: BenchContext) => Promise<BenchResult>> = {
  1: benchThroughput,
  2: benchNoChange,
  3: benchBigFiles,
  4: benchScaling,
  5: benchPrepareMemory,
  6: benchVerifyRestore,
};

/** 2 and 4 share their seeded accounts, so they run next to each other; 3 (big files) last. */
const ORDER: readonly BenchId[] = [1, 2, 4, 5, 6, 3];

const main = async (): Promise<number> => {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  setChecksumMode(options.checksums);
  // Ours runs as users run it: the bundle, built now when older than the sources.
  await prepareCli();
  const started = Date.now();
  const log = (line: string): void => {
    process.stderr.write(`[${String(Math.round((Date.now() - started) / 1000)).padStart(4)} s] ${line}\n`);
  };
  const machine = {
    ...commit(),
    date: new Date().toISOString(),
    /** Our S3 client's requestChecksumCalculation: WHEN_REQUIRED, or the SDK's default (WHEN_SUPPORTED). */
    checksumMode: options.checksums,
    runsPerFigure: options.runs,
    /** 1-, 5- and 15-minute load averages before the first benchmark. */
    loadAverageBefore: loads(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    rclone: rcloneVersion() ?? null,
    s3rverData: S3_DATA_PARENT,
    /** S3 server of the seeded accounts of benchmarks 2 and 4 (--s3). */
    s3Backend: options.s3Backend,
    /** 1-minute load average before the first benchmark: other work on the machine skews wall times. */
    loadBefore: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
  log(`benchmarks ${options.only.join(', ')}${options.quick ? ' (quick)' : ''} on ${machine.cpus} x ${machine.cpuModel}, node ${machine.node}`);
  if (machine.loadBefore > 0.5) {
    log(`WARNING: load average ${machine.loadBefore} before the start: something else is running, wall times will be slower than the machine can do`);
  }
  const ctx = createContext({ quick: options.quick, extraNodes: options.extraNodes, options, log });
  const results: BenchResult[] = [];
  const errors: Array<{ id: number; error: string }> = [];
  const todo = ORDER.filter((id) => options.only.includes(id));
  try {
    for (const id of todo) {
      log(`benchmark ${id}`);
      try {
        results.push(await BENCHES[id](ctx));
      } catch (err) {
        const error = (err as Error).stack ?? String(err);
        log(`benchmark ${id} FAILED: ${error}`);
        errors.push({ id, error });
      }
      // Seeded accounts are only shared by 2 and 4: free their disk before the big files.
      if (!todo.slice(todo.indexOf(id) + 1).some((n) => n === 2 || n === 4)) await ctx.dropWorlds();
    }
  } finally {
    await ctx.dropWorlds();
  }
  results.sort((a, b) => a.id - b.id);
  const totalSeconds = Math.round((Date.now() - started) / 1000);
  const loadAfter = Math.round((loadavg()[0] ?? 0) * 100) / 100;
  const loadAverageAfter = loads();
  process.stdout.write(`# cloudinary-backup benchmarks${options.quick ? ' (quick)' : ''}\n`);
  process.stdout.write(
    `machine: ${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}; node ${machine.node}; ${machine.rclone ?? 'no rclone'}; ` +
      `load ${machine.loadBefore} before, ${loadAfter} after\n` +
      `commit ${machine.commit ?? '?'}${machine.dirty ? ' (with uncommitted changes)' : ''}; checksums ${machine.checksumMode}; figures are medians of ${options.runs} runs where noted\n`,
  );
  for (const r of results) process.stdout.write(`${formatResult(r)}\n`);
  for (const e of errors) process.stdout.write(`\n## ${e.id}. FAILED\n${e.error}\n`);
  process.stdout.write(`\ntotal ${totalSeconds} s\n`);
  const json = { generatedAt: new Date().toISOString(), quick: options.quick, machine: { ...machine, loadAfter, loadAverageAfter }, totalSeconds, results, errors };
  await mkdir(path.dirname(options.out), { recursive: true });
  await writeFile(options.out, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`results written to ${path.relative(process.cwd(), options.out)}\n`);
  return errors.length > 0 ? 1 : 0;
};

process.exitCode = await main();
