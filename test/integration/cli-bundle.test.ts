/**
 * The bundled CLI (dist/cli.mjs, built by scripts/build-cli.mjs from npm's `prepare`) and the
 * bin's choice between it and the TypeScript sources (bin/bundle-state.js): a bundle is run only
 * when it was built from the sources as they are; otherwise the sources run through tsx, or, with
 * CLOUDINARY_BACKUP_LOADER=bundle (what the other tests set), the CLI refuses to start.
 *
 * npm runs `prepare` "on local npm install without package arguments" and in `npm ci`
 * (docs.npmjs.com/cli/v11/using-npm/scripts, "Life Cycle Scripts" and "npm ci"): a fresh clone
 * gets the bundle from its set-up command alone.
 *
 * The lazily loaded SDK clients (chunks of their own in the bundle) are exercised through the
 * bundle by setup-run.test.ts. Works on a copy of the repository's bin/, scripts/, lambda/ and package.json (node_modules
 * linked), so that editing a source here never touches the worktree's own bundle.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT } from '../helpers.ts';

const MAIN = 'lambda/entry/cli/main.ts';

describe('the bundled CLI', () => {
  let dir: string;

  const cli = (args: string[], loader?: 'bundle' | 'tsx') =>
    spawnSync(process.execPath, [path.join(dir, 'bin', 'cloudinary-backup.js'), ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...(loader ? { CLOUDINARY_BACKUP_LOADER: loader } : {}) },
    });
  const build = () => execFileSync(process.execPath, [path.join(dir, 'scripts', 'build-cli.mjs')], { stdio: 'pipe' });
  /** Edits the program's description: which code ran shows in --help. */
  const setDescription = (text: string) => {
    const file = path.join(dir, MAIN);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/\.description\(\s*'[^']*'/, `.description('${text}'`));
  };

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cli-bundle-'));
    for (const d of ['bin', 'scripts', 'lambda']) cpSync(path.join(ROOT, d), path.join(dir, d), { recursive: true });
    cpSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('without a bundle the sources run through tsx; =bundle refuses in one line', () => {
    setDescription('from the sources one');
    assert.match(cli(['--help']).stdout, /from the sources one/);
    const refused = cli(['--version'], 'bundle');
    assert.equal(refused.status, 1);
    assert.equal(refused.stderr, 'error: CLOUDINARY_BACKUP_LOADER=bundle but dist/cli.mjs is not built: run "npm run build".\n');
  });

  test('a fresh bundle is what runs', () => {
    build();
    // A line only the bundle prints: proves the bin ran it, not the sources.
    appendFileSync(path.join(dir, 'dist', 'cli.mjs'), '\nprocess.stderr.write("ran the bundle\\n");\n');
    const r = cli(['--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).version);
    assert.equal(r.stderr, 'ran the bundle\n');
  });

  test('an edited source makes the bundle stale: tsx runs the edit, =bundle refuses, a build catches up', () => {
    setDescription('from the sources two');
    const auto = cli(['--help']);
    assert.match(auto.stdout, /from the sources two/);
    assert.doesNotMatch(auto.stderr, /ran the bundle/);
    const refused = cli(['--version'], 'bundle');
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, new RegExp(`${MAIN} changed since the build`));
    build();
    assert.match(cli(['--help'], 'bundle').stdout, /from the sources two/);
  });

  test('=tsx runs the sources even beside a fresh bundle', () => {
    build();
    appendFileSync(path.join(dir, 'dist', 'cli.mjs'), '\nprocess.stderr.write("ran the bundle\\n");\n');
    const r = cli(['--version'], 'tsx');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
  });
});
