// Medians over the CPU profiles of one `npm run bench -- --only=1 --cpu-prof=DIR` (with --baseline:
// ours and the baseline apart, per number in flight): before the first byte (busy, idle, by part
// of the code, see profile-summary.mjs) and after the last. Usage: node profile-medians.mjs DIR
import { readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
const dir = process.argv[2];
const groups = new Map();
for (const f of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()) {
  const m = /^(ours|baseline)-c(\d+)-run(\d+)/.exec(f);
  const s = JSON.parse(execFileSync('node', [fileURLToPath(new URL('./profile-summary.mjs', import.meta.url)), `${dir}/${f}`], { maxBuffer: 1 << 26 }).toString());
  const k = `${m[1]} c${m[2]}`;
  if (!groups.has(k)) groups.set(k, []);
  groups.get(k).push(s);
}
const med = (a) => { const b = [...a].sort((x, y) => x - y); return b[Math.floor(b.length / 2)]; };
const out = {};
for (const [k, runs] of groups) {
  const num = (v) => Number.parseInt(v, 10) || 0;
  const cats = new Set(runs.flatMap((r) => Object.keys(r.beforeFirstByteShares)));
  out[k] = {
    runs: runs.length,
    beforeFirstByteBusyMs: med(runs.map((r) => r.milliseconds.beforeFirstByte.busy)),
    beforeFirstByteIdleMs: med(runs.map((r) => r.milliseconds.beforeFirstByte.idle)),
    beforeFirstByteWallMs: med(runs.map((r) => r.milliseconds.beforeFirstByte.busy + r.milliseconds.beforeFirstByte.idle)),
    firstCopySampledMs: med(runs.map((r) => r.firstCopySampledMs ?? NaN)),
    mainStartsMs: med(runs.map((r) => r.mainStartsMs ?? NaN)),
    afterBusyMs: med(runs.map((r) => r.milliseconds.after.busy)),
    afterIdleMs: med(runs.map((r) => r.milliseconds.after.idle)),
    beforeFirstByteSharesMedianMs: Object.fromEntries([...cats].map((c) => [c, med(runs.map((r) => num(r.beforeFirstByteShares[c])))]).sort((a, b) => b[1] - a[1])),
    eachRun: runs.map((r) => `${r.milliseconds.beforeFirstByte.busy}+${r.milliseconds.beforeFirstByte.idle}`).join(' / '),
  };
}
console.log(JSON.stringify(out, null, 1));
