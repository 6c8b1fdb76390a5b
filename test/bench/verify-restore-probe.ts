// The live heap of verify and restore over N assets, bounded from above by the smallest
// V8 old space each completes in (peak RSS alone is mostly garbage V8 has not collected yet, and
// memory malloc has not given back). Usage:
//   node --import tsx test/bench/verify-restore-probe.ts N 96,128,192 OUT.json [MODE,MODE]
// Each mode runs once per cap, from the smallest cap up, until one completes.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../helpers.ts';
import { bundleChild } from './bench-verify-restore.ts';
import { runMeasured, writeResults } from './measure.ts';

const [nArg, capsArg, out, modesArg] = process.argv.slice(2);
const n = Number(nArg);
const caps = (capsArg ?? '').split(',').map(Number).sort((a, b) => a - b);
const modes = (modesArg ?? 'verify,verify-deep,verify-source,restore-dry,restore-source').split(',');
if (!(n > 0) || caps.some((c) => !(c > 0)) || !out) throw new Error('usage: verify-restore-probe.ts N CAP,CAP OUT.json [MODE,...]');
const work = mkdtempSync(path.join(tmpdir(), 'verres-probe-'));
const child = path.join(work, 'child.mjs');
const loadBefore = loadavg();
await bundleChild(ROOT, child);
const runs: Array<Record<string, unknown>> = [];
try {
  for (const mode of modes) {
    for (const cap of caps) {
      const m = await runMeasured(process.execPath, [`--max-old-space-size=${cap}`, child, mode, String(n)], { env: { PATH: process.env.PATH }, timeoutMs: 1_800_000 });
      const ok = m.code === 0;
      runs.push({ mode, assets: n, maxOldSpaceMiB: cap, completed: ok, peakRssMiB: Math.round(m.peakRssBytes / 2 ** 20), cpuSeconds: m.cpuSeconds, ...(ok ? { summary: JSON.parse(m.stdout.trim().split('\n').pop() ?? '{}') } : { exit: m.code }) });
      process.stderr.write(`${mode} cap ${cap}: ${ok ? 'completed' : `failed (exit ${m.code})`}, peak RSS ${Math.round(m.peakRssBytes / 2 ** 20)} MiB\n`);
      if (ok) break;
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
writeResults(out, {
  what: `test/bench/verify-restore-probe.ts ${n} ${caps.join(',')}: each mode of benchmark 6 under capped V8 old spaces, smallest first, one run per cap, until one completes`,
  checksumMode: 'none (no S3 client: synthetic backup in-process)',
  loadAverageBefore: loadBefore,
  loadAverageAfter: loadavg(),
  runs,
});
