import path from 'node:path';
import { SINGLE_PUT_MAX } from '../../lambda/core/part-size.ts';
import type { CloudinaryFake, ResourceType } from '../fakes/cloudinary-fake.ts';
import type { BenchContext } from './context.ts';
import { startHttpIndex } from './http-index.ts';
import type { HttpIndex } from './http-index.ts';
import { limitCopy } from './limit.ts';
import { mixedSizes } from './mixed-sizes.ts';
import { nodeBinaries } from './nodes.ts';
import type { NodeBinary } from './nodes.ts';
import type { Measured } from './measure.ts';
import { runMeasured } from './measure.ts';
import { BIN, CLI_ENV } from '../helpers.ts';
import { rcloneCopy, rcloneVersion } from './rclone.ts';
import type { BenchResult, Cell, TargetCheck } from './table.ts';
import { mbps, mib, round, seconds } from './table.ts';
import { BUCKET, GiB, MiB, S3_DATA_PARENT, cliEnv, currentChecksumMode, freeBytes, objectsUnder, runBackup, startFake, startS3, withCpu } from './world.ts';
import type { CpuSplit } from './world.ts';

const KiB = 1024;

interface Case {
  readonly label: string;
  readonly tool: 'ours' | 'rclone' | 'limit';
  /** Copies (ours, the limit) or --transfers (rclone) in flight. */
  readonly concurrency: number;
  /** Node.js binary for ours. @default this process's */
  readonly node?: NodeBinary;
  /** Another checkout's CLI (--baseline), measured as ours. */
  readonly bin?: string;
}

/** One measured run of one case. */
interface Sample {
  readonly wallMs: number;
  readonly peakRssBytes: number;
  readonly cpuSeconds: number | null;
  readonly s3rverCpu: number | null;
  readonly fakeCpu: number;
  readonly requests: number;
}

/** The median (the mean of the middle two for an even count); null when nothing was measured. */
const median = (xs: readonly (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
};

const TOOL_LABEL = { ours: 'ours', rclone: 'rclone', limit: 'limit (GET piped to PUT)' } as const;

/** Runs one case once against a fresh s3rver and proves every byte landed. */
const measureOnce = async (
  ctx: BenchContext,
  c: Case,
  world: { fake: CloudinaryFake; index: HttpIndex; count: number; total: number },
  run: number,
): Promise<Sample> => {
  const s3 = await startS3();
  try {
    const prefix = c.bin ? 'baseline' : c.tool;
    let m: Measured & { cpu: CpuSplit };
    if (c.tool === 'ours') {
      world.fake.resetRateLimit();
      const args = ['--to', `s3://${BUCKET}/${prefix}`, '--concurrency', String(c.concurrency)];
      const prof = ctx.options.cpuProfDir;
      const nodeArgs = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`, `--cpu-prof-name=${c.bin ? 'baseline' : 'ours'}-c${c.concurrency}-run${run}.cpuprofile`] : [];
      const env = cliEnv(world.fake, s3);
      // A --baseline checkout starts as its own bin decides (an older bin always uses tsx).
      if (c.bin) delete env.CLOUDINARY_BACKUP_LOADER;
      const r = await withCpu(s3, () => runBackup(args, env, { ...(c.node ? { node: c.node.bin } : {}), ...(c.bin ? { bin: c.bin } : {}), nodeArgs }));
      if (r.report.copied !== world.count || r.report.failed !== 0) throw new Error(`${c.label}: copied ${r.report.copied}, failed ${r.report.failed}`);
      m = r;
    } else if (c.tool === 'rclone') {
      m = await withCpu(s3, () => rcloneCopy(world.index.url, s3, BUCKET, prefix, c.concurrency));
    } else {
      m = await withCpu(s3, () => limitCopy(world.index, s3, BUCKET, prefix, c.concurrency));
    }
    const requests = await s3.requestCounts();
    // Only the assets: our catalog and report live under _catalog/ and _reports/.
    let landed = { count: 0, bytes: 0 };
    for (const rt of ['image', 'video', 'raw']) {
      const o = await objectsUnder(s3, `${prefix}/${rt}/`);
      landed = { count: landed.count + o.count, bytes: landed.bytes + o.bytes };
    }
    if (landed.count !== world.count || landed.bytes !== world.total) {
      throw new Error(`${c.label}: ${landed.count} objects, ${landed.bytes} bytes landed; expected ${world.count}, ${world.total}`);
    }
    ctx.log(`    ${c.label} run ${run}: ${seconds(m.wallMs)} s, ${mbps(world.total, m.wallMs)} MB/s, CPU ${m.cpuSeconds === null ? "?" : round(m.cpuSeconds, 2)} s`);
    return {
      wallMs: m.wallMs,
      peakRssBytes: m.peakRssBytes,
      cpuSeconds: m.cpuSeconds,
      s3rverCpu: m.cpu.s3rver,
      fakeCpu: m.cpu.fake,
      requests: Object.values(requests).reduce((a, b) => a + b, 0),
    };
  } finally {
    await s3.stop();
  }
};

/**
 * 1. A full first backup of mixed sizes from the fake into s3rver: ours, `rclone copy`
 * from an HTTP index of the same bytes, and the limit (a plain GET piped into a PUT signed over its headers only,
 * nothing checked) at each number in flight, in the same run. The cases take turns, run after
 * run, so a burst of load elsewhere on the machine hits every tool; every figure is the median
 * of the runs. Every run starts with an empty s3rver and must land every byte.
 */
export const benchThroughput = async (ctx: BenchContext): Promise<BenchResult> => {
  const started = Date.now();
  const o = ctx.options;
  const spec = ctx.quick
    ? { count: o.assets ?? 40, total: (o.mib ?? 64) * MiB, min: 20 * KiB, max: 8 * MiB }
    : { count: o.assets ?? 400, total: (o.mib ?? 1024) * MiB, min: 20 * KiB, max: 50 * MiB };
  const sizes = mixedSizes(spec.count, spec.total, spec.min, spec.max);
  const fake = await startFake();
  const version = Math.floor(Date.now() / 1000) - 3600;
  sizes.forEach((bytes, i) => {
    const resourceType: ResourceType = bytes > 10 * MiB ? 'video' : i % 8 === 0 ? 'raw' : 'image';
    const name = `bench-${String(i).padStart(4, '0')}`;
    fake.addAsset({ publicId: resourceType === 'raw' ? `${name}.bin` : name, resourceType, bytes, version });
  });
  const index = await startHttpIndex(fake);
  const rclone = rcloneVersion();
  const notes: string[] = [
    `${spec.count} assets, ${(spec.total / MiB).toLocaleString('en')} MiB in all, ${spec.min / KiB} KiB to ${spec.max / MiB} MiB ` +
      `(median ${Math.round([...sizes].sort((a, b) => a - b)[Math.floor(sizes.length / 2)] as number / KiB)} KiB; ` +
      `${sizes.filter((s) => s > SINGLE_PUT_MAX).length} over ${SINGLE_PUT_MAX / MiB} MiB go multipart); s3rver data in ${S3_DATA_PARENT}.`,
    `Every figure is the median of ${o.runs} runs; the cases took turns run after run. Our checksum mode: ${currentChecksumMode()}.`,
    'Ours: the CLI as a child process, as users run it (bin/cloudinary-backup.js loading the esbuild bundle dist/cli.mjs; start-up included, see the --version rows), catalog and report included. ' +
      'rclone: `rclone copy` from an Apache-style index of the same bytes (HEAD per file, then GET), all defaults but --transfers. ' +
      'Limit: test/bench/limit-copier.mjs, one GET piped into one PUT per file, signed over its headers only (UNSIGNED-PAYLOAD; no SDK, no hashing, no checks, handed the file list).',
    `Ours runs on node ${process.version} unless the row names another. MB/s = 10^6 bytes per second of wall time. ` +
      'CPU s: user+system of the copying process; CPU s/GiB the same per GiB copied; s3rver and the fake (this process) shown apart. ' +
      'vs limit: the limit\'s wall time over this row\'s at the same number in flight (1.0 = as fast as the limit).',
  ];
  const cases: Case[] = o.inflight.flatMap((n): Case[] => [
    { label: `ours, ${n} in flight`, tool: 'ours', concurrency: n },
    ...(o.baselineDir ? [{ label: `baseline (${path.basename(o.baselineDir)}), ${n} in flight`, tool: 'ours', concurrency: n, bin: path.join(o.baselineDir, 'bin', 'cloudinary-backup.js') } as const] : []),
    ...(rclone ? [{ label: `rclone, --transfers ${n}`, tool: 'rclone', concurrency: n } as const] : []),
    { label: `${TOOL_LABEL.limit}, ${n} in flight`, tool: 'limit', concurrency: n },
  ]);
  // Memory with 8 copies in flight under the other Node.js majors (the Lambda runs 24).
  for (const node of nodeBinaries(ctx.extraNodes).slice(1)) cases.push({ label: `ours, 8 in flight, node ${node.version}`, tool: 'ours', concurrency: 8, node });
  if (!rclone) notes.push('rclone is not on PATH: its rows are skipped (apt-get install rclone).');
  else notes.push(`Peer: ${rclone}.`);
  const samples = new Map<Case, Sample[]>(cases.map((c) => [c, []]));
  try {
    for (let run = 1; run <= o.runs; run += 1) {
      for (const c of cases) {
        if (freeBytes(S3_DATA_PARENT) < spec.total * 2 + GiB) throw new Error(`not enough free space in ${S3_DATA_PARENT} for ${spec.total} bytes`);
        samples.get(c)?.push(await measureOnce(ctx, c, { fake, index, count: spec.count, total: spec.total }, run));
      }
    }
  } finally {
    await index.stop();
    await fake.stop();
  }
  const result = summarize(cases, samples, spec, notes, started, rclone !== undefined);
  return { ...result, rows: [...result.rows, ...(await startUpRows(o.runs, o.baselineDir))] };
};

/** The fixed cost of a start: `--version` of ours (and of --baseline), medians of `runs` runs taking turns. */
const startUpRows = async (runs: number, baselineDir: string | undefined): Promise<Record<string, Cell>[]> => {
  const bins = [
    { label: 'ours, --version (start-up only)', bin: BIN, env: { ...CLI_ENV } },
    ...(baselineDir ? [{ label: `baseline (${path.basename(baselineDir)}), --version (start-up only)`, bin: path.join(baselineDir, 'bin', 'cloudinary-backup.js'), env: {} }] : []),
  ];
  const got = new Map<string, Measured[]>(bins.map((b) => [b.label, []]));
  for (let run = 1; run <= runs; run += 1) {
    for (const b of bins) {
      const m = await runMeasured(process.execPath, [b.bin, '--version'], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...b.env }, timeoutMs: 60_000 });
      if (m.code !== 0) throw new Error(`${b.label}: exit ${m.code}: ${m.stderr}`);
      got.get(b.label)?.push(m);
    }
  }
  return bins.map((b) => {
    const ms = got.get(b.label) ?? [];
    const cpu = median(ms.map((m) => m.cpuSeconds));
    return {
      case: b.label,
      'in flight': null,
      'wall s': seconds(median(ms.map((m) => m.wallMs)) as number),
      'MB/s': null,
      'vs limit': null,
      'peak RSS MiB': mib(median(ms.map((m) => m.peakRssBytes)) as number),
      'CPU s': cpu === null ? null : round(cpu, 2),
      'CPU s/GiB': null,
      's3rver CPU s': null,
      'fake CPU s': null,
      'S3 requests': null,
      'wall s, each run': ms.map((m) => seconds(m.wallMs)).join(' / '),
    };
  });
};

/** The table (medians), the performance targets and every run's figures for the JSON. */
const summarize = (
  cases: readonly Case[],
  samples: ReadonlyMap<Case, readonly Sample[]>,
  spec: { total: number },
  notes: string[],
  started: number,
  haveRclone: boolean,
): BenchResult => {
  const wall = (tool: Case['tool'], n: number): number | null => {
    const c = cases.find((x) => x.tool === tool && x.concurrency === n && !x.node && !x.bin);
    return c ? median((samples.get(c) ?? []).map((s) => s.wallMs)) : null;
  };
  const rows: Record<string, Cell>[] = cases.map((c) => {
    const ss = samples.get(c) ?? [];
    const w = median(ss.map((s) => s.wallMs)) as number;
    const cpu = median(ss.map((s) => s.cpuSeconds));
    const limit = wall('limit', c.concurrency);
    return {
      case: c.label,
      'in flight': c.concurrency,
      'wall s': seconds(w),
      'MB/s': mbps(spec.total, w),
      'vs limit': limit === null ? null : round(limit / w, 2),
      'peak RSS MiB': mib(median(ss.map((s) => s.peakRssBytes)) as number),
      'CPU s': cpu === null ? null : round(cpu),
      'CPU s/GiB': cpu === null ? null : round(cpu / (spec.total / GiB), 2),
      's3rver CPU s': ((x) => (x === null ? null : round(x)))(median(ss.map((s) => s.s3rverCpu))),
      'fake CPU s': round(median(ss.map((s) => s.fakeCpu)) as number),
      'S3 requests': median(ss.map((s) => s.requests)),
      'wall s, each run': ss.map((s) => seconds(s.wallMs)).join(' / '),
    };
  });
  const targets: TargetCheck[] = [];
  for (const n of [...new Set(cases.map((c) => c.concurrency))]) {
    const ours = wall('ours', n);
    const limit = wall('limit', n);
    const peer = wall('rclone', n);
    if (ours !== null && limit !== null) {
      const ratio = limit / ours;
      targets.push({ name: `speed ≥ 0.9× the limit's at ${n} in flight`, target: '≥ 0.90', measured: `${round(ratio, 2)}`, met: ratio >= 0.9, margin: `${Math.round(ratio * 100)}% of the limit` });
    }
    targets.push({
      name: `faster than rclone at ${n} in flight`,
      target: peer !== null ? `< ${seconds(peer)} s` : 'rclone on PATH',
      measured: ours !== null ? `${seconds(ours)} s` : 'not measured',
      met: ours !== null && peer !== null ? ours < peer : null,
      margin: ours !== null && peer !== null ? `${round(peer / ours, 2)}× rclone's speed` : haveRclone ? 'not measured' : 'no rclone',
    });
  }
  const details: Record<string, unknown> = {};
  for (const c of cases) details[c.label] = samples.get(c);
  return {
    id: 1,
    title: 'Full backup throughput (fake → s3rver)',
    columns: ['case', 'in flight', 'wall s', 'MB/s', 'vs limit', 'peak RSS MiB', 'CPU s', 'CPU s/GiB', 's3rver CPU s', 'fake CPU s', 'S3 requests', 'wall s, each run'],
    rows,
    targets,
    notes,
    seconds: (Date.now() - started) / 1000,
    details,
  };
};
