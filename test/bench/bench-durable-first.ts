/**
 * A first full backup through the durable handler (no page barrier in a durable step):
 * benchmark 1's account (mixed sizes 20 KiB–50 MiB, the same generator and layout) backed up by
 * `durable-child.ts` (LocalDurableTestRunner, 8 in flight, in its own process so its CPU and peak
 * RSS are its own), this checkout against a `--baseline` checkout, taking turns, each run into a
 * fresh s3rver that must receive every byte. Listing pages of the fake's default size (500) and,
 * with `--page-sizes`, smaller ones (more pages, so more page boundaries).
 *
 *   node --import tsx test/bench/bench-durable-first.ts OUT.json --baseline=/tmp/old [--runs=3]
 *        [--assets=400] [--mib=1024] [--page-sizes=500,50]
 *
 * The baseline directory holds another commit's `lambda/` and `test/bench/durable-child.ts` (and a
 * node_modules link), e.g. `git archive <commit> lambda test package.json tsconfig.json | tar -x -C
 * /tmp/old && ln -s $PWD/node_modules /tmp/old/node_modules`.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import type { ResourceType } from '../fakes/cloudinary-fake.ts';
import { runMeasured } from './measure.ts';
import { mixedSizes } from './mixed-sizes.ts';
import { BUCKET, MiB, S3_DATA_PARENT, cliEnv, currentChecksumMode, objectsUnder, startS3, withCpu } from './world.ts';

const KiB = 1024;
const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const out = process.argv[2];
const baseline = arg('baseline');
if (!out || out.startsWith('--') || !baseline) throw new Error('usage: bench-durable-first.ts OUT.json --baseline=DIR [--runs=3] [--assets=400] [--mib=1024] [--page-sizes=500,50]');
const runs = Number(arg('runs') ?? 3);
const spec = { count: Number(arg('assets') ?? 400), total: Number(arg('mib') ?? 1024) * MiB, min: 20 * KiB, max: 50 * MiB };
const pageSizes = (arg('page-sizes') ?? '500').split(',').map(Number);
const here = path.resolve(new URL('../..', import.meta.url).pathname);
const versions = [
  { label: 'baseline', dir: path.resolve(baseline) },
  { label: 'ours', dir: here },
];
const git = (args: string[]): string | null => {
  try {
    return execFileSync('git', args, { cwd: here, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
};

/** Benchmark 1's account (bench-throughput.ts): the same sizes, resource types and names. */
const account = async (pageSize: number): Promise<{ fake: CloudinaryFake; total: number }> => {
  const fake = new CloudinaryFake({ cloudName: 'bench-cloud', apiKey: '111122223333444', apiSecret: 'bench-secret-value', ...(pageSize < 500 ? { pageSize } : {}) });
  await fake.start();
  const sizes = mixedSizes(spec.count, spec.total, spec.min, spec.max);
  const version = Math.floor(Date.now() / 1000) - 3600;
  sizes.forEach((bytes, i) => {
    const resourceType: ResourceType = bytes > 10 * MiB ? 'video' : i % 8 === 0 ? 'raw' : 'image';
    const name = `bench-${String(i).padStart(4, '0')}`;
    fake.addAsset({ publicId: resourceType === 'raw' ? `${name}.bin` : name, resourceType, bytes, version });
  });
  return { fake, total: sizes.reduce((a, b) => a + b, 0) };
};

/** One durable first backup by `dir`'s durable-child.ts into a fresh s3rver; every byte must land. */
const once = async (dir: string, fake: CloudinaryFake, total: number) => {
  const s3 = await startS3();
  try {
    fake.resetRateLimit();
    fake.resetStats();
    const env = { ...cliEnv(fake, s3), BENCH_BUCKET: BUCKET, BENCH_PREFIX: 'cld', POWERTOOLS_LOG_LEVEL: 'WARN', POWERTOOLS_METRICS_DISABLED: 'true' };
    const m = await withCpu(s3, () => runMeasured(process.execPath, ['--import', 'tsx', path.join(dir, 'test/bench/durable-child.ts')], { env, timeoutMs: 1_800_000 }));
    const line = m.stdout.split('\n').find((l) => l.startsWith('DURABLE-RESULT ')) ?? '';
    const r = line ? (JSON.parse(line.slice('DURABLE-RESULT '.length)) as { status: string; error: string | null; result: { copied: number; failed: number }; invocations: number; steps: number }) : undefined;
    if (m.code !== 0 || r?.status !== 'SUCCEEDED') throw new Error(`${dir}: exit ${m.code} ${r?.error ?? ''}\n${m.stderr.slice(-3000)}`);
    let landed = { count: 0, bytes: 0 };
    for (const rt of ['image', 'video', 'raw']) {
      const o = await objectsUnder(s3, `cld/${rt}/`);
      landed = { count: landed.count + o.count, bytes: landed.bytes + o.bytes };
    }
    if (r.result.copied !== spec.count || r.result.failed !== 0 || landed.count !== spec.count || landed.bytes !== total) {
      throw new Error(`${dir}: copied ${r.result.copied}, failed ${r.result.failed}, landed ${landed.count} objects / ${landed.bytes} bytes of ${spec.count} / ${total}`);
    }
    return { wallMs: m.wallMs, cpuSeconds: m.cpuSeconds, peakRssBytes: m.peakRssBytes, s3rverCpu: m.cpu.s3rver, fakeCpu: m.cpu.fake, invocations: r.invocations, steps: r.steps, listingCalls: fake.stats.listingCalls };
  } finally {
    await s3.stop();
  }
};

const median = (xs: readonly (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
  return v.length === 0 ? null : (v[Math.floor(v.length / 2)] as number);
};

const loadBefore = loadavg().map((l) => Math.round(l * 100) / 100);
const rows: Record<string, unknown>[] = [];
for (const pageSize of pageSizes) {
  const { fake, total } = await account(pageSize);
  const samples = new Map<string, Awaited<ReturnType<typeof once>>[]>(versions.map((v) => [v.label, []]));
  for (let run = 1; run <= runs; run += 1) {
    for (const v of versions) {
      const s = await once(v.dir, fake, total);
      samples.get(v.label)?.push(s);
      process.stderr.write(`pages of ${pageSize}, ${v.label} run ${run}: ${(s.wallMs / 1000).toFixed(2)} s wall, ${s.cpuSeconds ?? '?'} s CPU, ${Math.round(s.peakRssBytes / MiB)} MiB peak, ${s.steps} steps, load ${loadavg()[0]?.toFixed(2)}\n`);
    }
  }
  await fake.stop();
  for (const v of versions) {
    const ss = samples.get(v.label) ?? [];
    const wall = median(ss.map((s) => s.wallMs));
    rows.push({
      case: `${v.label}, listing pages of ${pageSize}, 8 in flight`,
      medianWallSeconds: wall === null ? null : Math.round(wall) / 1000,
      medianMBps: wall === null ? null : Math.round((total / 1e6 / (wall / 1000)) * 10) / 10,
      medianCpuSeconds: median(ss.map((s) => s.cpuSeconds)),
      medianPeakRssMiB: Math.round((median(ss.map((s) => s.peakRssBytes)) ?? 0) / MiB),
      medianS3rverCpuSeconds: median(ss.map((s) => s.s3rverCpu)),
      samples: ss,
    });
  }
}
const json = {
  generatedAt: new Date().toISOString(),
  what: 'first full backup through the durable handler (test/bench/durable-child.ts: LocalDurableTestRunner, CONCURRENCY 8), benchmark 1 account',
  account: { assets: spec.count, totalBytes: spec.total, minBytes: spec.min, maxBytes: spec.max, s3rverData: S3_DATA_PARENT },
  commit: git(['rev-parse', '--short', 'HEAD']),
  dirty: (git(['status', '--porcelain', '--untracked-files=no']) ?? '') !== '',
  baseline: { dir: versions[0]?.dir, commit: process.env.BASELINE_COMMIT ?? null },
  node: process.version,
  checksums: currentChecksumMode(),
  runsPerFigure: runs,
  order: 'baseline and ours take turns, run after run',
  loadBefore,
  loadAfter: loadavg().map((l) => Math.round(l * 100) / 100),
  rows,
};
await writeFile(out, `${JSON.stringify(json, null, 2)}\n`);
process.stderr.write(`${rows.map((r) => `${String(r.case)}: ${String(r.medianWallSeconds)} s, ${String(r.medianMBps)} MB/s, CPU ${String(r.medianCpuSeconds)} s, ${String(r.medianPeakRssMiB)} MiB`).join('\n')}\n`);
