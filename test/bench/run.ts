import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, totalmem } from 'node:os';
import path from 'node:path';
import { benchBigFiles } from './bench-big-files.ts';
import { benchNoChange } from './bench-no-change.ts';
import { benchScaling } from './bench-scaling.ts';
import { benchThroughput } from './bench-throughput.ts';
import { createContext } from './context.ts';
import type { BenchContext } from './context.ts';
import { parseOptions } from './options.ts';
import type { BenchId } from './options.ts';
import { rcloneVersion } from './rclone.ts';
import { formatResult } from './table.ts';
import type { BenchResult } from './table.ts';
import { S3_CHECKSUMS } from '../fakes/s3rver.ts';
import { S3_DATA_PARENT } from './world.ts';

/** The commit measured, `+dirty` when tracked files differ from it (then the figures are not that commit's). */
const commitOf = (): string => {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
};

// `npm run bench`: runs the benchmarks of issue 6, prints their tables and writes the same
// figures as JSON. Not part of `npm test`.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const BENCHES: Record<BenchId, (ctx: BenchContext) => Promise<BenchResult>> = {
  1: benchThroughput,
  2: benchNoChange,
  3: benchBigFiles,
  4: benchScaling,
};

/** 2 and 4 share their seeded accounts, so they run next to each other; 3 (big files) last. */
const ORDER: readonly BenchId[] = [1, 2, 4, 3];

const main = async (): Promise<number> => {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const started = Date.now();
  const log = (line: string): void => {
    process.stderr.write(`[${String(Math.round((Date.now() - started) / 1000)).padStart(4)} s] ${line}\n`);
  };
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    rclone: rcloneVersion() ?? null,
    s3rverData: S3_DATA_PARENT,
    /** 1-minute load average before the first benchmark: other work on the machine skews wall times. */
    loadBefore: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
  log(`benchmarks ${options.only.join(', ')}${options.quick ? ' (quick)' : ''} on ${machine.cpus} x ${machine.cpuModel}, node ${machine.node}`);
  if (machine.loadBefore > 0.5) {
    log(`WARNING: load average ${machine.loadBefore} before the start: something else is running, wall times will be slower than the machine can do`);
  }
  const ctx = createContext({ quick: options.quick, extraNodes: options.extraNodes, log });
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
  process.stdout.write(`# cloudinary-backup benchmarks${options.quick ? ' (quick)' : ''}\n`);
  process.stdout.write(
    `machine: ${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}; node ${machine.node}; ${machine.rclone ?? 'no rclone'}; ` +
      `load ${machine.loadBefore} before, ${loadAfter} after\n`,
  );
  for (const r of results) process.stdout.write(`${formatResult(r)}\n`);
  for (const e of errors) process.stdout.write(`\n## ${e.id}. FAILED\n${e.error}\n`);
  process.stdout.write(`\ntotal ${totalSeconds} s\n`);
  // Every figure the README quotes must trace to a file that says what was measured, when, on
  // which Node.js, how loaded the machine was and with which S3 checksum setting (issue 16).
  const json = {
    generatedAt: new Date().toISOString(),
    commit: commitOf(),
    checksums: S3_CHECKSUMS === 'sdk-default' ? 'SDK defaults (WHEN_SUPPORTED: CRC32, aws-chunked streams)' : 'WHEN_REQUIRED (no checksums)',
    quick: options.quick,
    machine: { ...machine, loadAfter },
    totalSeconds,
    results,
    errors,
  };
  await mkdir(path.dirname(options.out), { recursive: true });
  await writeFile(options.out, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`results written to ${path.relative(process.cwd(), options.out)}\n`);
  return errors.length > 0 ? 1 : 0;
};

process.exitCode = await main();
