// A no-change night's garbage collection. Seeds N assets once, runs one warm-up night
// (the seeded catalog is rewritten, as benchmark 4 does), then each spec RUNS times, specs taking
// turns, every run with --trace-gc; records wall, CPU, peak RSS and the GC's pause time by kind
// (the main thread's pauses as --trace-gc prints them; concurrent marking threads not included).
// Usage:
//   node --import tsx test/bench/gc-probe.ts N "LABEL=BIN|--flag,--flag;LABEL2=BIN2|..." [RUNS] [OUT.json]
// (empty BIN = ours; the warm-up runs the first spec's BIN; a LABEL holds no '=' and no ';'). GC_PROBE_TRACES=DIR keeps each
// run's trace. --trace-gc lines go to the child's stdout; the report is its last JSON line.
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { BIN } from '../helpers.ts';
import { firstLine, runMeasured } from './measure.ts';
import { currentChecksumMode, noChangeRun, seedWorld } from './world.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const n = Number(process.argv[2]);
const specs = (process.argv[3] ?? '').split(';').map((s) => {
  const [label, rest] = s.includes('=') && !s.startsWith('|') ? [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)] : [s, s];
  const [bin = '', flags = ''] = rest.split('|');
  return { label, bin: bin || BIN, nodeArgs: flags.split(',').filter(Boolean) };
});
const runs = Number(process.argv[4] ?? 1);
const out = process.argv[5];
const loads = (): number[] => loadavg().map((l) => Math.round(l * 100) / 100);

/** Sums of --trace-gc pause times by kind (Scavenge, Mark-Compact, ...), and their counts. */
const gcSummary = (stdout: string): Record<string, { count: number; ms: number }> => {
  const sums: Record<string, { count: number; ms: number }> = {};
  // "[pid:0x..]   1234 ms: Scavenge 12.3 (14.0) -> 11.9 (15.0) MB, 1.23 / 0.00 ms  (average mu = ...)"
  for (const m of stdout.matchAll(/ms: (Scavenge|Mark-Compact|Mark-Compact \(reduce\)|Minor Mark-Compact|Mark-sweep)\b[^,]*MB, ([\d.]+) \/ ([\d.]+) ms/g)) {
    const s = (sums[m[1] as string] ??= { count: 0, ms: 0 });
    s.count += 1;
    s.ms = Math.round((s.ms + Number(m[2])) * 100) / 100;
  }
  return sums;
};

const median = (xs: readonly number[]): number => {
  const v = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
};

type Row = { wallS: number; cpuS: number | null; peakRssMiB: number; gcPauseMs: number; gc: Record<string, { count: number; ms: number }>; load1: number };
const loadBefore = loads();
const w = await seedWorld(n, (l) => process.stderr.write(`${l}\n`));
const results: Record<string, Row[]> = {};
try {
  const warm = await noChangeRun(w, 'list', specs[0]?.bin);
  process.stderr.write(`warm-up ${(warm.wallMs / 1000).toFixed(1)} s\n`);
  for (let r = 0; r < runs; r += 1) {
    for (const [i, spec] of specs.entries()) {
      w.fake.resetRateLimit();
      const args = [...spec.nodeArgs, '--trace-gc', spec.bin, 'backup', '--to', w.target, '--diff', 'list', '--json'];
      const m = await runMeasured(process.execPath, args, { env: w.env, timeoutMs: 1_800_000 });
      const report = JSON.parse(m.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop() ?? '{}') as Record<string, unknown>;
      if (m.code !== 0 || report.unchanged !== n || report.copied !== 0) throw new Error(`${spec.label}: exit ${m.code}, unchanged ${String(report.unchanged)}\n${m.stderr.slice(-2000)}`);
      const gc = gcSummary(m.stdout);
      const row: Row = { wallS: Math.round(m.wallMs) / 1000, cpuS: m.cpuSeconds, peakRssMiB: Math.round(m.peakRssBytes / 2 ** 20), gcPauseMs: Math.round(Object.values(gc).reduce((a, g) => a + g.ms, 0)), gc, load1: loads()[0] ?? 0 };
      (results[spec.label] ??= []).push(row);
      process.stdout.write(`${spec.label} ${JSON.stringify(row)}\n`);
      if (process.env.GC_PROBE_TRACES) writeFileSync(`${process.env.GC_PROBE_TRACES}/trace-${i}-${r}.txt`, m.stdout);
    }
  }
} finally {
  await w.stop();
}
const medians = Object.fromEntries(
  Object.entries(results).map(([label, rs]) => [
    label,
    {
      wallS: median(rs.map((r) => r.wallS)),
      cpuS: rs.every((r) => r.cpuS !== null) ? median(rs.map((r) => r.cpuS as number)) : null,
      peakRssMiB: median(rs.map((r) => r.peakRssMiB)),
      gcPauseMs: median(rs.map((r) => r.gcPauseMs)),
      scavenges: median(rs.map((r) => r.gc.Scavenge?.count ?? 0)),
      markCompacts: median(rs.map((r) => r.gc['Mark-Compact']?.count ?? 0)),
    },
  ]),
);
process.stdout.write(`${JSON.stringify(medians, null, 2)}\n`);
if (out) {
  const commit = firstLine('git', ['rev-parse', 'HEAD']) ?? null;
  const dirty = (firstLine('git', ['status', '--porcelain', '--untracked-files=no']) ?? '') !== '';
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        what: `no-change night of ${n.toLocaleString('en')} assets (--diff list) with --trace-gc, the CLI as users run it (bin, bundle); specs take turns`,
        generatedAt: new Date().toISOString(),
        commit,
        dirty,
        machine: { node: process.version, loadBefore, loadAfter: loads() },
        checksums: currentChecksumMode(),
        s3Backend: w.s3Backend,
        runsPerFigure: runs,
        specs: specs.map((s) => ({ label: s.label, bin: s.bin, nodeArgs: s.nodeArgs })),
        medians,
        runs: results,
      },
      null,
      2,
    )}\n`,
  );
}
