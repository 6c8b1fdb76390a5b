// How small a V8 old space a run over N seeded assets completes in, a bound on its
// live heap (peak RSS alone is mostly garbage V8 has not collected yet). Usage:
//   node --import tsx test/bench/heap-probe.ts N "BIN,--max-old-space-size=64;BIN2,..." [verify]
// (empty BIN = ours). Without `verify`: a no-change backup; with it: `verify --source`.
// A backup killed by the heap limit leaves its lease: the specs after it then fail with exit 75.
import { BIN } from '../helpers.ts';
import { runMeasured } from './measure.ts';
import { seedWorld } from './world.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const n = Number(process.argv[2]);
const command = process.argv[4] === 'verify' ? ['verify', '--against'] : ['backup', '--to'];
const w = await seedWorld(n, (l) => process.stderr.write(`${l}\n`));
try {
  for (const spec of (process.argv[3] ?? '').split(';')) {
    const [bin, ...nodeArgs] = spec.split(',');
    w.fake.resetRateLimit();
    const args = [...nodeArgs.filter(Boolean), bin || BIN, ...command, w.target, ...(command[0] === 'verify' ? ['--source'] : []), '--json'];
    const m = await runMeasured(process.execPath, args, { env: w.env, timeoutMs: 900_000 });
    const report = m.code === 0 ? (JSON.parse(m.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>) : undefined;
    const outcome = report ? `ok (${command[0] === 'verify' ? `entries ${String(report.entries)}, ok ${String(report.ok)}` : `unchanged ${String(report.unchanged)}`})` : `FAILED exit ${m.code}: ${m.stderr.slice(-300).replace(/\n/g, ' ')}`;
    process.stdout.write(`${bin || 'ours'} ${command[0]} ${nodeArgs.join(' ')} wall ${(m.wallMs / 1000).toFixed(1)} s, peak RSS ${Math.round(m.peakRssBytes / 2 ** 20)} MiB, CPU ${m.cpuSeconds} s: ${outcome}\n`);
  }
} finally {
  await w.stop();
}
