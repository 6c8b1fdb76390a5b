// Where a durable no-change night's wall time goes, step by step. Seeds N assets, runs
// the CLI once (the warm-up that rewrites the seeded catalog, as benchmark 4 does), then the
// durable handler (durable-child.ts) and prints the time inside our step functions against the
// time between them (the durable SDK's and LocalDurableTestRunner's). Usage:
//   node --import tsx test/bench/durable-steps.ts N [OUT.json]
import { writeFileSync } from 'node:fs';
import { BIN } from '../helpers.ts';
import { noChangeDurableRun, noChangeRun, seedWorld } from './world.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const n = Number(process.argv[2]);
const w = await seedWorld(n, (l) => process.stderr.write(`${l}\n`));
try {
  const warm = await noChangeRun(w, 'list', BIN);
  const cli = await noChangeRun(w, 'list', BIN);
  const r = await noChangeDurableRun(w);
  const t = r.durable?.timing;
  if (!t) throw new Error('the durable child reported no timing');
  const gaps = t.spans.slice(1).map((s, i) => ({ after: t.spans[i]?.name, before: s.name, ms: s.startMs - (t.spans[i]?.endMs ?? 0) }));
  const summary = { n, cli: { wallMs: cli.wallMs, cpuSeconds: cli.cpuSeconds, peakRssBytes: cli.peakRssBytes, cpu: cli.cpu, s3: cli.s3Requests, admin: cli.adminCalls }, cpu: r.cpu, s3: r.s3Requests, admin: r.adminCalls, warmUpWallMs: warm.wallMs, wallMs: r.wallMs, cpuSeconds: r.cpuSeconds, peakRssBytes: r.peakRssBytes, steps: r.durable?.steps, invocations: r.durable?.invocations, childWallMs: t.wallMs, insideStepsMs: t.insideStepsMs, betweenStepsMs: t.betweenStepsMs, firstStepStartMs: t.spans[0]?.startMs };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  for (const s of t.spans) process.stdout.write(`${s.name}\t${s.startMs}\t${s.endMs - s.startMs}\n`);
  for (const g of gaps) process.stdout.write(`gap ${g.after} -> ${g.before}\t${g.ms}\n`);
  if (process.argv[3]) writeFileSync(process.argv[3], JSON.stringify({ summary, spans: t.spans, gaps }, null, 2));
} finally {
  await w.stop();
}
