// Per-file timelines of benchmark 1's account: ours (and a --baseline checkout) against
// the limit copier, in the same runs, every HTTP request of each traced by http-trace.mjs, ours
// with a V8 CPU profile beside it. Prints, per tool, where the time between the first and the
// last request went: waiting for the GET's answer, reading its body, finishing the PUT after the
// last byte, and the gaps between one file's PUT answer and the next file's GET.
//
// Usage: node --import tsx test/bench/bench-timeline.ts [--inflight=1] [--runs=3] [--assets=160]
//   [--mib=336] [--baseline=DIR] [--out=DIR] (traces and profiles are kept in DIR) [--no-prof]
//   [--variants=NAME:VAR=VALUE,...;NAME2:...] (ours again with an environment) [--json=FILE] [--what=TEXT]
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import type { ResourceType } from '../fakes/cloudinary-fake.ts';
import { ROOT } from '../helpers.ts';
import { startHttpIndex } from './http-index.ts';
import { limitCopy } from './limit.ts';
import { mixedSizes } from './mixed-sizes.ts';
import { BUCKET, MiB, cliEnv, runBackup, startFake, startS3 } from './world.ts';
import { medians, summarizeTrace, tracePhases } from './timeline-summary.ts';
import { firstLine } from './measure.ts';
import type { TraceFile } from './timeline-summary.ts';

const arg = (name: string, fallback: string): string =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;

const inflight = Number(arg('inflight', '1'));
const runs = Number(arg('runs', '3'));
const count = Number(arg('assets', '160'));
const total = Number(arg('mib', '336')) * MiB;
const baseline = arg('baseline', '');
const outDir = path.resolve(arg('out', '/tmp/timeline'));
const TRACE = path.join(ROOT, 'test', 'bench', 'http-trace.mjs');
// --no-prof: no V8 CPU profile (it samples worker threads too, and costs CPU of its own).
const prof = (tool: string, run: number): string[] =>
  process.argv.includes('--no-prof') ? [] : ['--cpu-prof', `--cpu-prof-dir=${outDir}`, `--cpu-prof-name=${tool}-c${inflight}-run${run}.cpuprofile`];

await mkdir(outDir, { recursive: true });
const fake = await startFake();
const version = Math.floor(Date.now() / 1000) - 3600;
mixedSizes(count, total, 20 * 1024, 50 * MiB).forEach((bytes, i) => {
  const resourceType: ResourceType = bytes > 10 * MiB ? 'video' : i % 8 === 0 ? 'raw' : 'image';
  const name = `bench-${String(i).padStart(4, '0')}`;
  fake.addAsset({ publicId: resourceType === 'raw' ? `${name}.bin` : name, resourceType, bytes, version });
});
const index = await startHttpIndex(fake);
// Extra runs of ours with an environment (experiments): --variants=NAME:VAR=VALUE,VAR2=VALUE;NAME2:...
const variants = new Map<string, Record<string, string>>(
  arg('variants', '')
    .split(';')
    .filter(Boolean)
    .map((v) => {
      const [name, vars] = v.split(':') as [string, string];
      return [name, Object.fromEntries(vars.split(',').map((kv) => kv.split('=') as [string, string]))];
    }),
);
const tools = ['ours', ...variants.keys(), ...(baseline ? ['baseline'] : []), 'limit'];
const loadBefore = loadavg().map((l) => Math.round(l * 100) / 100);
const started = new Date().toISOString();
const results = new Map<string, Record<string, number>[]>(tools.map((t) => [t, []]));
try {
  for (let run = 1; run <= runs; run += 1) {
    for (const tool of tools) {
      const s3 = await startS3();
      const trace = path.join(outDir, `${tool}-c${inflight}-run${run}.trace.json`);
      try {
        let wallMs: number;
        let cpu: number | null;
        if (tool === 'limit') {
          const nodeArgs = ['--import', TRACE, ...prof(tool, run)];
          const m = await limitCopy(index, s3, BUCKET, tool, inflight, { nodeArgs, env: { HTTP_TRACE_OUT: trace } });
          wallMs = m.wallMs;
          cpu = m.cpuSeconds;
        } else {
          fake.resetRateLimit();
          const env: Record<string, string | undefined> = { ...cliEnv(fake, s3), ...variants.get(tool), HTTP_TRACE_OUT: trace };
          if (tool === 'baseline') delete env.CLOUDINARY_BACKUP_LOADER;
          const nodeArgs = ['--import', TRACE, ...prof(tool, run)];
          const r = await runBackup(['--to', `s3://${BUCKET}/${variants.has(tool) ? 'ours' : tool}`, '--concurrency', String(inflight)], env, {
            nodeArgs,
            ...(tool === 'baseline' ? { bin: path.join(baseline, 'bin', 'cloudinary-backup.js') } : {}),
          });
          if (r.report.copied !== count) throw new Error(`${tool}: copied ${r.report.copied}`);
          wallMs = r.wallMs;
          cpu = r.cpuSeconds;
        }
        const t = JSON.parse(await readFile(trace, 'utf8')) as TraceFile;
        console.log(`\n== ${tool}, ${inflight} in flight, run ${run}: wall ${(wallMs / 1000).toFixed(2)} s, CPU ${cpu?.toFixed(2)} s`);
        console.log(summarizeTrace(t, s3.endpoint));
        results.get(tool)?.push({ run, wallS: Math.round(wallMs / 10) / 100, cpuS: cpu ?? Number.NaN, ...tracePhases(t, s3.endpoint) });
      } finally {
        await s3.stop();
      }
    }
  }
} finally {
  await index.stop();
  await fake.stop();
}
const json = arg('json', '');
if (json) {
  const gib = total / 2 ** 30;
  const byTool = Object.fromEntries(
    [...results].map(([tool, rows]) => {
      const m = medians(rows);
      const withGiB: Record<string, number> = { ...m, cpuSPerGiB: Math.round(((m.cpuS ?? Number.NaN) / gib) * 100) / 100 };
      return [tool, { medians: withGiB, runs: rows }];
    }),
  );
  const limitWall = byTool.limit?.medians.wallS;
  for (const v of Object.values(byTool)) (v.medians as Record<string, number>).vsLimit = limitWall === undefined ? Number.NaN : Math.round((limitWall / (v.medians.wallS as number)) * 100) / 100;
  const status = firstLine('git', ['status', '--porcelain', '--untracked-files=no']);
  await writeFile(
    json,
    `${JSON.stringify(
      {
        what: arg('what', ''),
        command: `node --import tsx test/bench/bench-timeline.ts ${process.argv.slice(2).join(' ')}`,
        generatedAt: new Date().toISOString(),
        machine: {
          commit: firstLine('git', ['rev-parse', 'HEAD']),
          dirty: Boolean(status),
          date: started,
          node: process.version,
          checksumMode: 'WHEN_REQUIRED',
          runsPerFigure: runs,
          loadAverageBefore: loadBefore,
          loadAverageAfter: loadavg().map((l) => Math.round(l * 100) / 100),
        },
        account: { assets: count, mib: total / MiB, inflight },
        notes: [
          'Medians of the runs; the tools took turns run after run. wallS/cpuS: the whole process (GNU time). vsLimit: the limit copier\'s median wall over this row\'s.',
          'Trace figures (test/bench/http-trace.mjs, ms on the monotonic clock): per-file medians over the copies; GET head -> PUT created: from the download\'s answer to the upload\'s request object; cpuS_thread_*: /proc thread CPU at exit (main = the JavaScript thread).',
        ],
        tools: byTool,
      },
      null,
      1,
    )}\n`,
  );
}
