import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { ROOT } from '../helpers.ts';
import type { BenchContext } from './context.ts';
import { runMeasured } from './measure.ts';
import type { BenchResult, Cell, TargetCheck } from './table.ts';
import { marginBelow, mib, round } from './table.ts';

const MODES = ['verify', 'verify-deep', 'verify-source', 'restore-dry', 'restore-source'] as const;
const CHILD_FILES = ['verify-restore-child.ts', 'synthetic-world.ts'];
const LIMIT_MIB = 512;

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/**
 * Bundles the child as the CLI is bundled (scripts/build-cli.mjs: esbuild, ESM, node20), from
 * `root`'s lambda/ — ours, or a baseline checkout given with --baseline (the child and its
 * synthetic world are copied into it when it predates them).
 */
export const bundleChild = async (root: string, out: string): Promise<void> => {
  const dir = path.join(root, 'test', 'bench');
  for (const f of CHILD_FILES) {
    if (!existsSync(path.join(dir, f))) {
      mkdirSync(dir, { recursive: true });
      copyFileSync(path.join(ROOT, 'test', 'bench', f), path.join(dir, f));
    }
  }
  await build({
    absWorkingDir: root,
    entryPoints: [path.join(dir, 'verify-restore-child.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: out,
    logLevel: 'warning',
    banner: { js: "import { createRequire as __cbCreateRequire } from 'node:module'; const require = __cbCreateRequire(import.meta.url);" },
  });
};

interface Measure {
  readonly rss: number;
  readonly cpu: number;
  readonly wall: number;
  readonly summary: Record<string, unknown>;
}

/** Median peak RSS, CPU and wall of `runs` runs of one mode at one size. */
const measure = async (child: string, mode: string, n: number, runs: number): Promise<Measure> => {
  const rss: number[] = [];
  const cpu: number[] = [];
  const wall: number[] = [];
  let summary: Record<string, unknown> = {};
  for (let i = 0; i < runs; i += 1) {
    const m = await runMeasured(process.execPath, [child, mode, String(n)], { env: { PATH: process.env.PATH }, timeoutMs: 1_800_000 });
    if (m.code !== 0) throw new Error(`${mode} ${n} failed (exit ${m.code}):\n${m.stderr.slice(-3000)}`);
    summary = JSON.parse(m.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
    rss.push(m.peakRssBytes);
    cpu.push(m.cpuSeconds ?? NaN);
    wall.push(m.wallMs / 1000);
  }
  return { rss: median(rss), cpu: median(cpu), wall: median(wall), summary };
};

/**
 * 6. Memory of verify and restore over a catalog of N assets (1M within 512 MiB). Each
 * run is a child process running the bundled engine against a synthetic backup and account
 * generated on read (synthetic-world.ts), so the peak RSS is the engine's, not an emulator's.
 * Bytes per asset = (peak RSS at N - peak RSS of the same mode over an empty catalog) / N.
 */
// size: one loop over labels, modes and sizes that fills one table; split, the row's figures would be apart from their runs
export const benchVerifyRestore = async (ctx: BenchContext): Promise<BenchResult> => {
  const started = Date.now();
  const sizes = ctx.options.scale ?? (ctx.quick ? [10_000] : [10_000, 100_000, 1_000_000]);
  const work = mkdtempSync(path.join(tmpdir(), 'bench-verres-'));
  const labels: Array<{ label: string; root: string }> = [{ label: 'this commit', root: ROOT }];
  if (ctx.options.baselineDir) labels.unshift({ label: `baseline ${path.basename(ctx.options.baselineDir)}`, root: ctx.options.baselineDir });
  const rows: Record<string, Cell>[] = [];
  const targets: TargetCheck[] = [];
  try {
    for (const [i, { label, root }] of labels.entries()) {
      const child = path.join(work, `${i}-${label.replace(/\W+/g, '-')}.mjs`);
      await bundleChild(root, child);
      for (const mode of MODES) {
        const idle = await measure(child, mode, 0, ctx.options.runs);
        for (const n of sizes) {
          const m = await measure(child, mode, n, ctx.options.runs);
          const perAsset = Math.round((m.rss - idle.rss) / n);
          ctx.log(`  ${label} ${mode} ${n.toLocaleString('en')}: peak RSS ${mib(m.rss)} MiB, ${perAsset} bytes per asset, CPU ${round(m.cpu, 1)} s`);
          rows.push({ code: label, mode, assets: n, 'peak RSS MiB': mib(m.rss), 'idle RSS MiB': mib(idle.rss), 'bytes per asset': perAsset, 'CPU s': round(m.cpu, 1), 'wall s': round(m.wall, 1), checked: JSON.stringify(m.summary) });
          if (n >= 1_000_000 && label === 'this commit') {
            targets.push({ name: `${mode} over ${n.toLocaleString('en')} assets`, target: `peak RSS <= ${LIMIT_MIB} MiB`, measured: `${mib(m.rss)} MiB`, met: m.rss <= LIMIT_MIB * 2 ** 20, margin: marginBelow(m.rss, LIMIT_MIB * 2 ** 20) });
          }
        }
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return {
    id: 6,
    title: 'Memory of verify and restore over a catalog of N assets',
    columns: ['code', 'mode', 'assets', 'peak RSS MiB', 'idle RSS MiB', 'bytes per asset', 'CPU s', 'wall s', 'checked'],
    rows,
    targets,
    notes: [
      `Median of ${ctx.options.runs} runs per figure (peak RSS from GNU time's ru_maxrss; CPU user + system).`,
      'Each run: a child process running the engine bundled with esbuild as the CLI is (test/bench/verify-restore-child.ts), against a synthetic format-2 backup and account generated on read (test/bench/synthetic-world.ts): the world holds O(1) memory, so the figure is the engine\'s.',
      "Modes: verify; verify --deep (every object re-read and hashed); verify --source (the account lists every asset); restore --dry-run into an empty account (the whole plan); restore --dry-run into an account holding every other asset (the existence check's listing and the plan).",
      'bytes per asset = (peak RSS at N - idle RSS, the same mode over an empty catalog) / N. Catalog pages are in listing order (per resource type, newest first), not key order; the objects are listed in key order.',
    ],
    seconds: (Date.now() - started) / 1000,
  };
};
