// A no-change night at N assets through the durable handler and the CLI, each with and
// without an old-space limit, runs taking turns; writes a results file. Usage:
//   node --import tsx test/bench/durable-night.ts OUT.json RUNS N [N...]
// Variants: the durable handler with the template's NODE_OPTIONS (infra/node-options.ts) and
// without; the CLI without NODE_OPTIONS and with --max-old-space-size=384. The durable child runs
// with real timers (see durable-child.ts); its `timing` splits the time inside our steps from
// the time between them.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { DEFAULTS } from '../../infra/config.ts';
import { functionNodeOptions } from '../../infra/node-options.ts';
import { BIN } from '../helpers.ts';
import { noChangeDurableRun, noChangeRun, seedWorld } from './world.ts';
import type { NoChangeResult, SeededWorld } from './world.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const [out, runsArg, ...sizes] = process.argv.slice(2);
const runs = Number(runsArg);
const loads = (): number[] => loadavg().map((l) => Math.round(l * 100) / 100);
const git = (...a: string[]): string => execFileSync('git', a, { encoding: 'utf8' }).trim();
const CLI_CAP = '--max-old-space-size=384';
const template = functionNodeOptions(DEFAULTS.memorySize);

const variants: Array<{ label: string; run: (w: SeededWorld) => Promise<NoChangeResult> }> = [
  { label: `durable, NODE_OPTIONS='${template}'`, run: (w) => noChangeDurableRun(w, template) },
  { label: 'durable, no NODE_OPTIONS', run: (w) => noChangeDurableRun(w, '') },
  { label: 'cli, no NODE_OPTIONS', run: (w) => noChangeRun(w, 'list', BIN) },
  {
    label: `cli, NODE_OPTIONS=${CLI_CAP}`,
    run: async (w) => {
      const env = w.env as Record<string, string | undefined>;
      env.NODE_OPTIONS = CLI_CAP;
      try {
        return await noChangeRun(w, 'list', BIN);
      } finally {
        delete env.NODE_OPTIONS;
      }
    },
  },
];

const median = (xs: number[]): number => {
  const v = [...xs].sort((a, b) => a - b);
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? (v[m] as number) : ((v[m - 1] as number) + (v[m] as number)) / 2;
};

const result: Record<string, unknown> = {
  what: 'no-change night, durable handler (LocalDurableTestRunner, real timers) and CLI, with and without an old-space limit; runs of the variants take turns',
  generatedAt: new Date().toISOString(),
  commit: `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no') ? '+dirty' : ''}`,
  machine: { node: process.version, cores: 2, loadBefore: loads() },
  checksums: 'WHEN_REQUIRED',
  s3Backend: 'memory',
  runsPerFigure: runs,
  sizes: {} as Record<string, unknown>,
};
for (const n of sizes.map(Number)) {
  const w = await seedWorld(n, (l) => process.stderr.write(`${l}\n`));
  try {
    await noChangeRun(w, 'list', BIN); // warm-up: rewrites the seeded catalog in pages of 10,000
    const raw = new Map<string, Array<Record<string, unknown>>>(variants.map((v) => [v.label, []]));
    for (let i = 0; i < runs; i += 1) {
      for (const v of variants) {
        const load = loads();
        const r = await v.run(w);
        const t = r.durable?.timing;
        const row = { wallS: r.wallMs / 1000, cpuS: r.cpuSeconds, peakRssMiB: Math.round(r.peakRssBytes / 2 ** 20), load1: load[0], ...(t ? { insideStepsS: t.insideStepsMs / 1000, betweenStepsS: t.betweenStepsMs / 1000, steps: r.durable?.steps, invocations: r.durable?.invocations } : {}), s3Requests: r.s3Requests, adminCalls: r.adminCalls };
        process.stderr.write(`${n} ${v.label} run ${i + 1}: ${JSON.stringify(row)}\n`);
        raw.get(v.label)?.push(row);
      }
    }
    const med = Object.fromEntries(
      [...raw].map(([label, rows]) => {
        const pick = (k: string): number | null => (rows.every((r) => typeof r[k] === 'number') ? median(rows.map((r) => r[k] as number)) : null);
        return [label, { wallS: pick('wallS'), cpuS: pick('cpuS'), peakRssMiB: pick('peakRssMiB'), insideStepsS: pick('insideStepsS'), betweenStepsS: pick('betweenStepsS') }];
      }),
    );
    (result.sizes as Record<string, unknown>)[String(n)] = { seedSeconds: w.seedSeconds, medians: med, runs: Object.fromEntries(raw) };
    (result.machine as Record<string, unknown>).loadAfter = loads();
    writeFileSync(out as string, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await w.stop();
  }
}
