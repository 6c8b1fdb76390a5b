// Issue 14: how small a V8 old space a no-change run of N seeded assets completes in, a bound on
// its live heap (peak RSS alone is mostly garbage V8 has not collected yet). Usage:
// node --import tsx test/bench/heap-probe.ts N "BIN,--max-old-space-size=64;BIN2,..."  (empty BIN = ours).
// A run killed by the heap limit leaves its lease: the specs after it then fail with exit 75.
import { seedWorld, runBackup } from './world.ts';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const n = Number(process.argv[2]);
const w = await seedWorld(n, (l) => console.error(l));
try {
  for (const spec of (process.argv[3] ?? '').split(';')) {
    const [bin, ...nodeArgs] = spec.split(',');
    w.fake.resetRateLimit();
    try {
      const r = await runBackup(['--to', w.target], w.env, { nodeArgs: nodeArgs.filter(Boolean), ...(bin ? { bin } : {}), timeoutMs: 600_000 });
      console.log(bin || 'ours', nodeArgs.join(' '), 'wall', (r.wallMs / 1000).toFixed(1), 'peakRSS MiB', Math.round(r.peakRssBytes / 2 ** 20), 'CPU', r.cpuSeconds, 'unchanged', r.report.unchanged);
    } catch (e) { console.log(bin || 'ours', nodeArgs.join(' '), 'FAILED', String(e).slice(0, 300).replace(/\n/g, ' ')); }
  }
} finally { await w.stop(); }
