import path from 'node:path';
import { ROOT } from '../helpers.ts';
import type { BenchContext } from './context.ts';
import { runMeasured } from './measure.ts';
import type { BenchResult, Cell } from './table.ts';
import { mib } from './table.ts';

const CHILD = path.join(ROOT, 'test', 'bench', 'prepare-memory-child.ts');
const LAYOUTS = ['maps', 'key-index'] as const;

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/**
 * 5. Bytes per asset the engine's prepare() holds for a whole run: the previous
 * catalog and the inventory, for the same N assets, in the layout of 8ab8645 (two Maps of
 * records) and in KeyIndex — each built in a fresh process and weighed after a forced GC
 * (see prepare-memory-child.ts). This is the engine's own share of a no-change run's memory,
 * apart from the CLI's start-up, the page in flight and the emulators.
 */
export const benchPrepareMemory = async (ctx: BenchContext): Promise<BenchResult> => {
  const started = Date.now();
  const sizes = ctx.options.scale ?? (ctx.quick ? [10_000] : [10_000, 100_000, 1_000_000]);
  const rows: Record<string, Cell>[] = [];
  for (const n of sizes) {
    for (const layout of LAYOUTS) {
      const bytes: number[] = [];
      const rss: number[] = [];
      for (let i = 0; i < ctx.options.runs; i += 1) {
        const m = await runMeasured(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD, layout, String(n)], { env: { PATH: process.env.PATH }, timeoutMs: 600_000 });
        if (m.code !== 0) throw new Error(`prepare-memory ${layout} ${n} failed:\n${m.stderr.slice(-2000)}`);
        bytes.push((JSON.parse(m.stdout.trim()) as { bytes: number }).bytes);
        rss.push(m.peakRssBytes);
      }
      const b = median(bytes);
      ctx.log(`  ${layout}, ${n.toLocaleString('en')} assets: ${Math.round(b / n)} bytes per asset`);
      rows.push({ layout, assets: n, 'bytes per asset': Math.round(b / n), 'MiB held': mib(b), 'peak RSS MiB (builder process)': mib(median(rss)) });
    }
  }
  return {
    id: 5,
    title: "Memory of the engine's prepare() per asset (previous catalog + inventory)",
    columns: ['layout', 'assets', 'bytes per asset', 'MiB held', 'peak RSS MiB (builder process)'],
    rows,
    targets: [],
    notes: [
      `Median of ${ctx.options.runs} runs. 'maps': the layout of commit 8ab8645 (Map key -> {version, current, resourceType, sha256} and Map key -> StoredObject), rebuilt line for line; 'key-index': lambda/backup/key-index.ts.`,
      'Bytes held = heapUsed + arrayBuffers after a forced GC, less the same before building. Keys like cld/image/upload/f012/a012345.jpg; every key and sha256 a fresh string, as parsed from the catalog and the listing.',
      `Peak RSS of the builder includes the garbage of building (an entry object per asset, parsed strings) that the real run frees page by page.`,
    ],
    seconds: (Date.now() - started) / 1000,
  };
};
