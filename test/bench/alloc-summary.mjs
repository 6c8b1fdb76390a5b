// Sums a sampling heap profile of every allocation (alloc-prof.mjs) by allocating frame and by the
// nearest frame of our code (lambda/); bundle frames are mapped to their sources through the
// bundle's source map. Usage: node alloc-summary.mjs FILE.heapprofile [TOP] [--json]
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

const p = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const top = Number(process.argv[3] ?? 25);
const maps = new Map();
const where = (f) => {
  if (!/\/dist\/.*\.mjs$/.test(f.url)) return { src: f.url, line: f.lineNumber };
  if (!maps.has(f.url)) {
    const file = `${fileURLToPath(f.url)}.map`;
    maps.set(f.url, existsSync(file) ? new SourceMap(JSON.parse(readFileSync(file, 'utf8'))) : null);
  }
  const e = maps.get(f.url)?.findEntry(f.lineNumber, f.columnNumber);
  return { src: e?.originalSource ?? f.url, line: e?.originalLine ?? f.lineNumber };
};
const short = (s) => s.replace(/.*node_modules\//, '').replace(/.*?\/(lambda|test)\//, '$1/');
const self = new Map();
const ours = new Map();
let total = 0;
const walk = (n, stack) => {
  const w = where(n.callFrame);
  const label = `${n.callFrame.functionName || '(anonymous)'} ${short(w.src)}:${w.line + 1}`;
  const st = [...stack, label];
  if (n.selfSize) {
    total += n.selfSize;
    self.set(label, (self.get(label) ?? 0) + n.selfSize);
    const mine = [...st].reverse().find((l) => / lambda\//.test(l)) ?? `(no lambda/ frame) ${st.slice(-2).join(' < ')}`;
    ours.set(mine, (ours.get(mine) ?? 0) + n.selfSize);
  }
  for (const c of n.children ?? []) walk(c, st);
};
walk(p.head, []);
const rows = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([where, bytes]) => ({ where, MiB: Math.round(bytes / 2 ** 20), share: Math.round((1000 * bytes) / total) / 10 }));
const out = { totalMiB: Math.round(total / 2 ** 20), byAllocatingFrame: rows(self), byNearestLambdaFrame: rows(ours) };
if (process.argv.includes('--json')) console.log(JSON.stringify(out, null, 2));
else {
  console.log(`allocated (sampled, collected or not): ${out.totalMiB} MiB`);
  for (const k of ['byAllocatingFrame', 'byNearestLambdaFrame']) {
    console.log(`--- ${k}`);
    for (const r of out[k]) console.log(`${String(r.MiB).padStart(7)} MiB ${String(r.share).padStart(5)}%  ${r.where}`);
  }
}
