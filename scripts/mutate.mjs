// `npm run mutate [-- module...]`: StrykerJS over each module of stryker.config.mjs in turn (all
// when none is named), then the mutation score of each. Not part of `npm test`: see
// docs/mutation-testing.md for what it takes and how to read it.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { MODULES } from '../stryker.config.mjs';

const wanted = process.argv.slice(2);
for (const m of wanted) {
  if (!(m in MODULES)) {
    console.error(`mutate: no module "${m}"; the modules are ${Object.keys(MODULES).join(', ')}`);
    process.exit(2);
  }
}
const modules = wanted.length ? wanted : Object.keys(MODULES);

/** Killed (and timed out) over every mutant that compiled, as Stryker's "total" score counts. */
const scoreOf = (report) => {
  const n = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, CompileError: 0, RuntimeError: 0, Ignored: 0 };
  for (const file of Object.values(report.files)) for (const m of file.mutants) n[m.status] = (n[m.status] ?? 0) + 1;
  const valid = n.Killed + n.Timeout + n.Survived + n.NoCoverage;
  return { ...n, score: valid ? (100 * (n.Killed + n.Timeout)) / valid : 100 };
};

const rows = [];
let failed = false;
for (const m of modules) {
  console.log(`\n== mutate ${m}: ${MODULES[m].join(' ')}`);
  const r = spawnSync('npx', ['stryker', 'run'], { stdio: 'inherit', env: { ...process.env, MUTATE_MODULE: m, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
  if (r.status !== 0) failed = true;
  const file = `reports/mutation/${m}.json`;
  if (existsSync(file)) rows.push([m, scoreOf(JSON.parse(readFileSync(file, 'utf8')))]);
}
console.log('\nmodule     score  killed timeout survived no-cov compile-error');
for (const [m, s] of rows) {
  console.log(`${m.padEnd(10)} ${s.score.toFixed(1).padStart(5)}% ${String(s.Killed).padStart(7)} ${String(s.Timeout).padStart(7)} ${String(s.Survived).padStart(8)} ${String(s.NoCoverage).padStart(6)} ${String(s.CompileError).padStart(13)}`);
}
process.exit(failed ? 1 : 0);
