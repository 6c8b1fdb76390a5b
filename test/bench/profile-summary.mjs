// Summarises a V8 CPU profile of our CLI (`npm run bench -- --only=1 --cpu-prof=DIR`): time before
// the first byte is copied, while copying and after; and, while copying, the share of each part of
// the code (first matching frame from the leaf up). Usage: node profile-summary.mjs FILE.cpuprofile
// Profiles sample the main thread's wall time: on a loaded machine a descheduled thread still
// counts, so compare shares, and take CPU seconds from the benchmark (GNU time), not from here.
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

const p = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
// A profile of the bundle (dist/*.mjs) names bundle positions: its source maps (esbuild's
// `sourcemap: 'linked'`) give back the file each frame came from.
const maps = new Map();
const sourceOf = (f) => {
  if (!/\/dist\/.*\.mjs$/.test(f.url)) return f.url;
  if (!maps.has(f.url)) {
    const file = `${fileURLToPath(f.url)}.map`;
    maps.set(f.url, existsSync(file) ? new SourceMap(JSON.parse(readFileSync(file, 'utf8'))) : null);
  }
  const entry = maps.get(f.url)?.findEntry(f.lineNumber, f.columnNumber);
  return entry?.originalSource ?? f.url;
};
const labels = new Map();
const label = (id) => {
  if (labels.has(id)) return labels.get(id);
  const f = byId.get(id).callFrame;
  const l = `${f.functionName || '(anonymous)'} ${sourceOf(f).replace(/.*node_modules\//, 'node_modules/').replace(/.*?\/(lambda|test)\//, '$1/')}`;
  labels.set(id, l);
  return l;
};
const within = (id, re) => {
  for (let c = id; c !== undefined; c = parent.get(c)) if (re.test(label(c))) return true;
  return false;
};
const CATEGORIES = [
  ['sha256 (node:crypto)', /^(update|digest) node:internal\/crypto\/hash/],
  ['AWS SDK (@aws-sdk, @smithy)', /node_modules\/@(smithy|aws-sdk)\//],
  ['cloudinary SDK (listing)', /node_modules\/cloudinary\//],
  ['download (lambda/adapters/cloudinary)', /lambda\/adapters\/cloudinary\//],
  ['ExactLengthStream (lambda/transfer)', /lambda\/transfer\//],
  ['S3 destination (lambda/adapters/s3)', /lambda\/adapters\/s3\//],
  ['catalog and store (lambda/store)', /lambda\/store\//],
  ['engine and core (lambda/backup, lambda/core)', /lambda\/(backup|core)\//],
];
let t = 0;
let first;
let last = 0;
const at = [];
p.samples.forEach((id, i) => {
  t += p.timeDeltas[i] ?? 0;
  at.push(t);
  if (within(id, /_transform lambda\/transfer\/exact-length/)) {
    first ??= t;
    last = t;
  }
});
const phases = { beforeFirstByte: { busy: 0, idle: 0 }, copying: { busy: 0, idle: 0 }, after: { busy: 0, idle: 0 } };
const shares = new Map();
p.samples.forEach((id, i) => {
  const dt = p.timeDeltas[i] ?? 0;
  const phase = at[i] < first ? phases.beforeFirstByte : at[i] <= last ? phases.copying : phases.after;
  const self = label(id);
  if (self.startsWith('(idle)')) {
    phase.idle += dt;
    return;
  }
  phase.busy += dt;
  if (phase !== phases.copying) return;
  let cat = self.startsWith('(garbage collector)') ? 'garbage collector' : undefined;
  for (let c = id; c !== undefined && !cat; c = parent.get(c)) cat = CATEGORIES.find(([, re]) => re.test(label(c)))?.[0];
  cat ??= 'node core (http, streams, sockets)';
  shares.set(cat, (shares.get(cat) ?? 0) + dt);
});
// Before the first byte (the fixed cost of a run): until main() first runs, the bin loads
// the bundle (module compile and top-level evaluation); after it, a sample under the module loader
// or esbuild's lazy-init helpers is a module loaded on demand (the cloudinary SDK chunk); the rest
// by part of the code as above. `firstCopy` is when the first copyAsset call was sampled: small
// files pass the length check between two samples, so the first sampled transform can come late.
const LOADER = /^(compileSourceTextModule|compileForInternalLoader|compileForPublicLoader|loadAndTranslate|#translate|moduleStrategy|_link|getModuleJobForImport|__init|__require2?|__toESM|__copyProps) /;
let mainAt;
let firstCopy;
p.samples.forEach((id, i) => {
  if (mainAt === undefined && within(id, /^main lambda\/entry\/cli\/main\.ts/)) mainAt = at[i];
  if (firstCopy === undefined && within(id, /^copyAsset lambda\/backup\/copy-asset/)) firstCopy = at[i];
});
const startShares = new Map();
p.samples.forEach((id, i) => {
  if (at[i] >= first) return;
  const dt = p.timeDeltas[i] ?? 0;
  const self = label(id);
  let cat;
  if (self.startsWith('(idle)')) cat = 'idle (waiting for a reply)';
  else if (mainAt === undefined || at[i] < mainAt) cat = 'loading the bundle (compile, evaluate)';
  else if (within(id, LOADER)) cat = 'loading a module on demand (cloudinary SDK chunk)';
  else if (self.startsWith('(garbage collector)')) cat = 'garbage collector';
  for (let c = id; c !== undefined && !cat; c = parent.get(c)) cat = CATEGORIES.find(([, re]) => re.test(label(c)))?.[0];
  cat ??= 'node core (http, streams, sockets)';
  startShares.set(cat, (startShares.get(cat) ?? 0) + dt);
});
const ms = (us) => Math.round(us / 1000);
const copyingBusy = phases.copying.busy || 1;
const out = {
  profile: process.argv[2],
  milliseconds: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, { busy: ms(v.busy), idle: ms(v.idle) }])),
  beforeFirstByteShares: Object.fromEntries([...startShares].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, `${ms(v)} ms`])),
  mainStartsMs: mainAt === undefined ? null : ms(mainAt),
  firstCopySampledMs: firstCopy === undefined ? null : ms(firstCopy),
  firstByteSampledMs: first === undefined ? null : ms(first),
  copyingBusyShares: Object.fromEntries([...shares].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, `${ms(v)} ms, ${((100 * v) / copyingBusy).toFixed(1)}%`])),
};
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
