// Mutation testing of the modules that guard the data (docs/mutation-testing.md). Run it with
// `npm run mutate` (every module) or `npm run mutate -- store` (one), which sets MUTATE_MODULE.
// StrykerJS has no runner for node:test; its tap runner runs each unit test file as
// `node --import tsx <file>`, whose node:test output is TAP
// (https://stryker-mutator.io/docs/stryker-js/tap-runner). Each test file is one "test" to
// Stryker: a mutant runs only the files that reached it, and stops at the first that fails.
import { readdirSync } from 'node:fs';

/** The modules, each a set of files to mutate; the rule files of backup and restore only. */
export const MODULES = {
  core: ['lambda/core/**/*.ts'],
  transfer: ['lambda/transfer/**/*.ts'],
  store: ['lambda/store/**/*.ts'],
  // Pure decisions about what is stored, deleted and recorded (the engine's plumbing is left to
  // the integration suites, which are too slow to run once per mutant).
  backup: [
    'lambda/backup/finish.ts',
    'lambda/backup/finish-run.ts',
    'lambda/backup/page.ts',
    'lambda/backup/catalog-pages.ts',
    'lambda/backup/cursor-guard.ts',
    'lambda/backup/key-index.ts',
  ],
  restore: ['lambda/restore/collect.ts', 'lambda/restore/identity-map.ts', 'lambda/restore/names.ts', 'lambda/restore/upload-one.ts'],
};

const module = process.env.MUTATE_MODULE;
if (module !== undefined && !(module in MODULES)) throw new Error(`MUTATE_MODULE=${module}: not one of ${Object.keys(MODULES).join(', ')}`);
const name = module ?? 'all';

// size-limits reads the source's line counts, which the instrumented copy does not keep.
const notRun = new Set(['size-limits.test.ts']);
const unitTests = readdirSync('test/unit')
  .filter((f) => f.endsWith('.test.ts') && !notRun.has(f))
  .map((f) => `test/unit/${f}`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'tap',
  tap: {
    testFiles: unitTests,
    nodeArgs: ['--import', 'tsx', '--test-reporter=tap', '-r', '{{hookFile}}', '{{testFile}}'],
    forceBail: true,
  },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.mutate.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  // A static mutant (a module-level constant) would run all ~55 unit test files for one mutant.
  ignoreStatic: true,
  mutate: module ? MODULES[module] : Object.values(MODULES).flat(),
  ignorePatterns: ['/dist', '/cdk.out', '/reports', '/test/node24', '/test/bench/results', '/.tmp', '/backup'],
  // One incremental file per module: a later run tests again only the mutants whose code or
  // covering test files changed.
  incremental: true,
  incrementalFile: `test/mutation/${name}.incremental.json`,
  // Checking a mutant's types is the slow part (a test file is ~1 s): 2 checkers feed 1 runner.
  concurrency: 3,
  timeoutMS: 20_000,
  reporters: ['clear-text', 'progress-append-only', 'json', 'html'],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: true, reportScoreTable: true },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
