import { BIN } from '../helpers.ts';
import type { BenchContext } from './context.ts';
import { runMeasured } from './measure.ts';
import type { BenchResult, Cell, TargetCheck } from './table.ts';
import { mib, round, seconds } from './table.ts';

/** Growth allowed over linear before the curve counts as worse than linear. */
const TOLERANCE = 1.1;

/**
 * 4. The scaling curve of a no-change run (--diff list): wall time and peak RSS at growing
 * account sizes, against the CLI's own start-up, and the growth from one size to the next.
 */
export const benchScaling = async (ctx: BenchContext): Promise<BenchResult> => {
  const started = Date.now();
  const sizes = ctx.quick ? [1_000, 5_000] : [1_000, 10_000, 100_000];
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const boot = await runMeasured(process.execPath, [BIN, '--version'], { env, timeoutMs: 60_000 });
  const rows: Record<string, Cell>[] = [
    { assets: 0, 'wall s': seconds(boot.wallMs), 'ms per 1k assets': null, 'peak RSS MiB': mib(boot.peakRssBytes), 'time ×': null, 'assets ×': null, 'RSS above start-up MiB': 0 },
  ];
  const points: Array<{ n: number; wallMs: number; rss: number }> = [];
  for (const n of sizes) {
    const r = await ctx.noChange(n, 'list');
    const prev = points[points.length - 1];
    points.push({ n, wallMs: r.wallMs, rss: r.peakRssBytes });
    rows.push({
      assets: n,
      'wall s': seconds(r.wallMs),
      'ms per 1k assets': round(((r.wallMs - boot.wallMs) / n) * 1000, 0),
      'peak RSS MiB': mib(r.peakRssBytes),
      'time ×': prev ? round(r.wallMs / prev.wallMs, 2) : null,
      'assets ×': prev ? n / prev.n : null,
      'RSS above start-up MiB': mib(r.peakRssBytes - boot.peakRssBytes),
    });
  }
  const targets: TargetCheck[] = [];
  for (let i = 1; i < points.length; i += 1) {
    const a = points[i - 1] as (typeof points)[number];
    const b = points[i] as (typeof points)[number];
    const timeRatio = b.wallMs / a.wallMs;
    const sizeRatio = b.n / a.n;
    targets.push({
      name: `time growth ${a.n.toLocaleString('en')} → ${b.n.toLocaleString('en')}`,
      target: `linear or better (≤ ${sizeRatio}x, ${Math.round((TOLERANCE - 1) * 100)}% tolerance)`,
      measured: `${round(timeRatio, 2)}x`,
      met: timeRatio <= sizeRatio * TOLERANCE,
      margin: `${round(timeRatio / sizeRatio, 2)} of linear`,
    });
  }
  const big = points[points.length - 1];
  const small = points[0];
  const notes = [
    'A no-change run with --diff list over an account already backed up (the same runs as benchmark 2 where the sizes meet).',
    'ms per 1k assets leaves out the CLI start-up (the first row, `--version`).',
  ];
  if (big && small && big.n > small.n) {
    notes.push(
      `Memory: ${Math.round((big.rss - small.rss) / (big.n - small.n))} bytes of peak RSS per extra asset between ${small.n.toLocaleString('en')} and ${big.n.toLocaleString('en')} ` +
        '(the inventory map of every key, and the previous catalog\'s checksums, are held for the whole run).',
    );
  }
  return {
    id: 4,
    title: 'Scaling curve of a no-change run (--diff list)',
    columns: ['assets', 'wall s', 'ms per 1k assets', 'peak RSS MiB', 'time ×', 'assets ×', 'RSS above start-up MiB'],
    rows,
    targets,
    notes,
    seconds: (Date.now() - started) / 1000,
  };
};
