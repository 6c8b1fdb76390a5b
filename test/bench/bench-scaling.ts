import path from 'node:path';
import { BIN } from '../helpers.ts';
import type { BenchContext } from './context.ts';
import { runMeasured } from './measure.ts';
import type { BenchResult, Cell, TargetCheck } from './table.ts';
import { mib, round, seconds } from './table.ts';
import { requestSummary } from './bench-no-change.ts';
import { noChangeDurableRun, noChangeRun } from './world.ts';
import type { NoChangeResult, SeededWorld } from './world.ts';

/** Growth allowed over linear before the curve counts as worse than linear. */
const TOLERANCE = 1.1;
/** Target: a 1,000,000-asset no-change night within 512 MiB and 4 minutes on this machine. */
const RSS_LIMIT_MIB = 512;
const WALL_LIMIT_S = 240;

const median = (xs: readonly number[]): number => {
  const v = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
};

/** The run whose `by` is the median (the lower middle for an even count). */
const medianRun = <T>(rs: readonly T[], by: (r: T) => number): T => [...rs].sort((a, b) => by(a) - by(b))[Math.floor((rs.length - 1) / 2)] as T;

const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

/** What is measured: our CLI, with --durable our durable handler, and another checkout's CLI with --baseline (same worlds, same run). */
const variants = (ctx: BenchContext): Array<{ label: string; run: (w: SeededWorld) => Promise<NoChangeResult> }> => {
  const base = ctx.options.baselineDir;
  return [
    { label: 'ours', run: (w) => noChangeRun(w, 'list', BIN) },
    ...(ctx.options.durable ? [{ label: 'ours, durable handler', run: (w: SeededWorld) => noChangeDurableRun(w) }] : []),
    ...(base ? [{ label: `baseline (${path.basename(base)})`, run: (w: SeededWorld) => noChangeRun(w, 'list', path.join(base, 'bin', 'cloudinary-backup.js')) }] : []),
  ];
};

/**
 * 4. The scaling curve of a no-change run (--diff list): wall time, peak RSS, CPU, Admin API calls
 * and S3 requests per 1,000 assets at growing account sizes (`--scale`), against the CLI's own
 * start-up. Each figure is the median of `--runs` runs, except where the row says otherwise
 * (accounts of 500,000 and more are run `--large-runs` times, once by default: one run takes
 * minutes on this machine).
 */
export const benchScaling = async (ctx: BenchContext): Promise<BenchResult> => {
  const started = Date.now();
  const sizes = ctx.options.scale ?? (ctx.quick ? [1_000, 5_000] : [1_000, 10_000, 100_000]);
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const boot = await runMeasured(process.execPath, [BIN, '--version'], { env, timeoutMs: 60_000 });
  const rows: Record<string, Cell>[] = [{ cli: 'ours', assets: 0, runs: 1, 'wall s': seconds(boot.wallMs), 'peak RSS MiB': mib(boot.peakRssBytes) }];
  const points = new Map<string, Array<{ n: number; wallMs: number; rss: number }>>();
  const details: Record<string, unknown> = {};
  for (const n of sizes) {
    const world = await ctx.world(n);
    details[`Admin API allowance of the fake @ ${n}`] = `${world.adminRateLimit} calls an hour (test/bench/world.ts adminAllowance)`;
    const runs = n >= 500_000 ? ctx.options.largeRuns : ctx.options.runs;
    // The seeded catalog has one page per listing page, as no version writes it now: the first
    // night rewrites it in pages of ~10,000 (not measured, its figures in the details); the
    // measured runs are the nights after, as every night after the first is.
    ctx.log(`  warm-up run, ${n.toLocaleString('en')} assets`);
    const warm = await noChangeRun(world, 'list', BIN);
    details[`warm-up @ ${n}`] = { wallMs: warm.wallMs, peakRssBytes: warm.peakRssBytes, s3Requests: warm.s3Requests, adminCalls: warm.adminCalls };
    for (const v of variants(ctx)) {
      const rs: NoChangeResult[] = [];
      for (let i = 0; i < runs; i += 1) {
        ctx.log(`  no-change run, ${n.toLocaleString('en')} assets, ${v.label}, run ${i + 1}`);
        const r = await v.run(world);
        ctx.log(`    ${seconds(r.wallMs)} s, peak RSS ${mib(r.peakRssBytes)} MiB, CPU ${r.cpuSeconds ?? '?'} s`);
        rs.push(r);
      }
      const wallMs = median(rs.map((r) => r.wallMs));
      const rss = median(rs.map((r) => r.peakRssBytes));
      const cpu = rs.every((r) => r.cpuSeconds !== null) ? median(rs.map((r) => r.cpuSeconds as number)) : null;
      const s3 = median(rs.map((r) => sum(r.s3Requests)));
      const admin = median(rs.map((r) => r.adminCalls));
      points.set(v.label, [...(points.get(v.label) ?? []), { n, wallMs, rss }]);
      rows.push({
        cli: v.label,
        assets: n,
        runs,
        'wall s': seconds(wallMs),
        'peak RSS MiB': mib(rss),
        'RSS above start-up MiB': mib(rss - boot.peakRssBytes),
        'CPU s': cpu === null ? null : round(cpu),
        'S3 server CPU s': round(median(rs.map((r) => r.cpu.s3rver ?? 0))),
        'Admin API per 1k': round((admin / n) * 1000, 2),
        'S3 requests per 1k': round((s3 / n) * 1000, 2),
        'S3 requests by operation (median run)': requestSummary(medianRun(rs, (r) => sum(r.s3Requests)).s3Requests),
        'wall s, each run': rs.map((r) => seconds(r.wallMs)).join(' / '),
      });
      details[`${v.label} @ ${n}`] = rs.map((r) => ({ wallMs: r.wallMs, peakRssBytes: r.peakRssBytes, cpu: r.cpu, s3Requests: r.s3Requests, adminCalls: r.adminCalls, listingCalls: r.listingCalls, ...(r.durable ? { durable: r.durable } : {}) }));
    }
  }
  return { id: 4, title: 'Scaling curve of a no-change run (--diff list)', ...summary(points, boot.peakRssBytes), rows, seconds: (Date.now() - started) / 1000, details };
};

/** Targets (linear growth; the 1M limits) and the bytes of peak RSS per extra asset. */
const summary = (
  points: ReadonlyMap<string, ReadonlyArray<{ n: number; wallMs: number; rss: number }>>,
  bootRss: number,
): { columns: string[]; targets: TargetCheck[]; notes: string[] } => {
  const targets: TargetCheck[] = [];
  const notes = [
    'A no-change run with --diff list over an account already backed up (seeded: see test/bench/seed.ts). Worlds are shared by the CLIs measured.',
    `Start-up row: \`--version\`. RSS above start-up subtracts its ${mib(bootRss)} MiB. The S3 server's CPU (its own process: --s3=memory, test/fakes/memory-s3, or s3rver) is shown apart; s3rver walks its store for every listing page.`,
  ];
  for (const [label, ps] of points) {
    for (let i = 1; i < ps.length; i += 1) {
      const a = ps[i - 1] as (typeof ps)[number];
      const b = ps[i] as (typeof ps)[number];
      const t = b.wallMs / a.wallMs;
      const k = b.n / a.n;
      targets.push({ name: `${label}: time growth ${a.n.toLocaleString('en')} → ${b.n.toLocaleString('en')}`, target: `≤ ${k}x (+${Math.round((TOLERANCE - 1) * 100)}%)`, measured: `${round(t, 2)}x`, met: t <= k * TOLERANCE, margin: `${round(t / k, 2)} of linear` });
    }
    const big = ps[ps.length - 1];
    const small = ps[0];
    if (big && small && big.n > small.n) notes.push(`${label}: ${Math.round((big.rss - small.rss) / (big.n - small.n))} bytes of peak RSS per extra asset between ${small.n.toLocaleString('en')} and ${big.n.toLocaleString('en')}.`);
    const m = ps.find((p) => p.n === 1_000_000);
    if (m) {
      targets.push({ name: `${label}: 1M assets peak RSS`, target: `≤ ${RSS_LIMIT_MIB} MiB`, measured: `${mib(m.rss)} MiB`, met: m.rss <= RSS_LIMIT_MIB * 2 ** 20, margin: `${round(m.rss / (RSS_LIMIT_MIB * 2 ** 20), 2)}x the limit` });
      targets.push({ name: `${label}: 1M assets wall time`, target: `≤ ${WALL_LIMIT_S} s`, measured: `${seconds(m.wallMs)} s`, met: m.wallMs <= WALL_LIMIT_S * 1000, margin: `${round(m.wallMs / 1000 / WALL_LIMIT_S, 2)}x the limit` });
    }
  }
  return {
    columns: ['cli', 'assets', 'runs', 'wall s', 'peak RSS MiB', 'RSS above start-up MiB', 'CPU s', 'S3 server CPU s', 'Admin API per 1k', 'S3 requests per 1k', 'S3 requests by operation (median run)', 'wall s, each run'],
    targets,
    notes,
  };
};
