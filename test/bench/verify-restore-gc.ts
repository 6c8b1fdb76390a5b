// Where the memory of verify and restore over N assets goes, garbage or live data. One
// run of benchmark 6's child per mode under `node --trace-gc-nvp` (V8's name=value line per
// collection, on stdout), summed: bytes allocated in the young generation, bytes the scavenges
// promoted to the old one (what waits there for a full collection: promoted garbage is what
// lifts the heap, and the peak RSS, above the live data), and the largest heap after a full
// collection (an upper bound on the live data at that point). Usage:
//   node --import tsx test/bench/verify-restore-gc.ts N OUT.json [MODE,MODE] [--baseline=DIR]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../helpers.ts';
import { bundleChild } from './bench-verify-restore.ts';
import { runMeasured, writeResults } from './measure.ts';

const args = process.argv.slice(2);
const baseline = args.find((a) => a.startsWith('--baseline='))?.slice('--baseline='.length);
const [nArg, out, modesArg] = args.filter((a) => !a.startsWith('--'));
const n = Number(nArg);
const modes = (modesArg ?? 'verify,verify-deep,verify-source,restore-dry,restore-source').split(',');
if (!(n > 0) || !out) throw new Error('usage: verify-restore-gc.ts N OUT.json [MODE,...] [--baseline=DIR]');

const MB = 1e6;
const round1 = (x: number): number => Math.round(x * 10) / 10;

/** The sums of one run's --trace-gc-nvp lines (each `gc=s` is a scavenge, `gc=mc` a mark-compact). */
const summarize = (stdout: string): Record<string, number | null> => {
  const s = { scavenges: 0, markCompacts: 0, allocatedMB: 0, promotedMB: 0, maxHeapBeforeFullGcMB: 0, maxHeapAfterFullGcMB: 0 };
  for (const line of stdout.split('\n')) {
    const kind = / gc=(s|mc) /.exec(line)?.[1];
    if (!kind) continue;
    const field = (name: string): number => Number(new RegExp(` ${name}=(\\d+)`).exec(line)?.[1] ?? 0);
    s.allocatedMB += field('allocated') / MB;
    s.promotedMB += field('promoted') / MB;
    if (kind === 's') s.scavenges += 1;
    else {
      s.markCompacts += 1;
      s.maxHeapBeforeFullGcMB = Math.max(s.maxHeapBeforeFullGcMB, field('total_size_before') / MB);
      s.maxHeapAfterFullGcMB = Math.max(s.maxHeapAfterFullGcMB, field('total_size_after') / MB);
    }
  }
  // Node 24's V8 leaves total_size_* out of its mark-compact lines: null, not a heap of 0.
  const sized = / gc=mc .* total_size_after=/.test(stdout);
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k.startsWith('maxHeap') && !sized ? null : round1(v)]));
};

const work = mkdtempSync(path.join(tmpdir(), 'verres-gc-'));
const loadBefore = loadavg();
const labels = [...(baseline ? [{ label: `baseline ${path.basename(baseline)}`, root: path.resolve(baseline) }] : []), { label: 'this commit', root: ROOT }];
const runs: Array<Record<string, unknown>> = [];
try {
  for (const [i, { label, root }] of labels.entries()) {
    const child = path.join(work, `child-${i}.mjs`);
    await bundleChild(root, child);
    for (const mode of modes) {
      const m = await runMeasured(process.execPath, ['--trace-gc-nvp', child, mode, String(n)], { env: { PATH: process.env.PATH }, timeoutMs: 1_800_000 });
      if (m.code !== 0) throw new Error(`${label} ${mode} failed (exit ${m.code}):\n${m.stderr.slice(-3000)}`);
      const summary = JSON.parse(m.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop() ?? '{}') as Record<string, unknown>;
      const gc = summarize(m.stdout);
      runs.push({ code: label, mode, node: process.version, assets: n, peakRssMiB: Math.round(m.peakRssBytes / 2 ** 20), cpuSeconds: m.cpuSeconds, promotedBytesPerAsset: Math.round((gc.promotedMB as number) * MB / n), ...gc, summary });
      process.stderr.write(`${label} ${mode}: peak RSS ${Math.round(m.peakRssBytes / 2 ** 20)} MiB, promoted ${gc.promotedMB} MB, heap after full GC <= ${gc.maxHeapAfterFullGcMB} MB\n`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
writeResults(out, {
  what: `test/bench/verify-restore-gc.ts ${n}: one run per mode of benchmark 6's child under node --trace-gc-nvp (one run: the trace slows it; peak RSS and CPU are with tracing on)`,
  checksumMode: 'none (no S3 client: synthetic backup in-process)',
  runsPerFigure: 1,
  loadAverageBefore: loadBefore,
  loadAverageAfter: loadavg(),
  fields: {
    allocatedMB: 'sum of `allocated` over every collection: bytes allocated since the collection before',
    promotedMB: 'sum of `promoted` over every collection: bytes moved from the young to the old generation',
    maxHeapBeforeFullGcMB: 'largest total_size_before of a mark-compact: the heap full collections let grow to',
    maxHeapAfterFullGcMB: 'largest total_size_after of a mark-compact: a bound on the live data',
  },
  runs,
});
