/**
 * The CLI installed outside the clone, as a user installs it: `npm pack` (npm's `prepare`
 * builds dist/ first; package.json's `files` keeps only bin/ and the bundle), then
 * `npm install -g --prefix <empty folder> <tarball>`, which needs no registry: the bundle carries
 * every runtime package, so the tarball declares no dependencies (npm docs, "package.json":
 * `files`, `devDependencies`; "Life Cycle Scripts": `prepare` runs before `npm pack`).
 * The installed copy has no sources, so bin/cloudinary-backup.js runs its bundle as shipped.
 * Run from another folder: `--version`, then a backup into a folder against the Cloudinary fake.
 * Works on a copy of the repository's bin/, scripts/, lambda/ and package.json (node_modules
 * linked), so packing never rebuilds the worktree's own bundle under other tests' feet.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import { ROOT } from '../helpers.ts';

/** The installed size the CLI must stay within. */
const MAX_INSTALLED_BYTES = 60 * 1024 * 1024;

const npm = (args: string[], cwd: string): string =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });

/** Bytes of every file under `dir` (what `du` would count, without block rounding). */
const sizeOf = (dir: string): number => {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += statSync(path.join(e.parentPath, e.name)).size;
  }
  return total;
};

describe('the CLI installed from npm pack\'s tarball', () => {
  let work: string;
  let tarball: string;
  let prefix: string;
  let elsewhere: string;
  let fake: CloudinaryFake;

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'cli-install-'));
    const clone = path.join(work, 'clone');
    for (const d of ['bin', 'scripts', 'lambda']) cpSync(path.join(ROOT, d), path.join(clone, d), { recursive: true });
    cpSync(path.join(ROOT, 'package.json'), path.join(clone, 'package.json'));
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(clone, 'node_modules'));
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', work], clone)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = path.join(work, packed[0]!.filename);
    prefix = path.join(work, 'prefix');
    elsewhere = path.join(work, 'elsewhere');
    execFileSync('mkdir', ['-p', prefix, elsewhere]);
    npm(['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball], elsewhere);
    fake = new CloudinaryFake({ cloudName: 'install-cloud', apiKey: '777777777777777', apiSecret: 'install-secret' });
    await fake.start();
    fake.addAsset({ publicId: 'installed/one', bytes: 3000 });
    fake.addAsset({ publicId: 'installed/two', format: 'png', bytes: 5000 });
  });

  after(async () => {
    await fake?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const installed = (): string => path.join(prefix, 'lib', 'node_modules', 'cloudinary-backup');
  /** Runs the installed command from `elsewhere` (asynchronously: the fake answers in this process). */
  const cli = (args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve, reject) => {
      const child = spawn(path.join(prefix, 'bin', 'cloudinary-backup'), args, {
        cwd: elsewhere,
        // PATH without the clone's node_modules/.bin: nothing of the clone can be found.
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? elsewhere, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });

  test('the tarball holds bin/ and the bundle, no sources, tests or dependencies', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, ''));
    assert.ok(files.includes('bin/cloudinary-backup.js') && files.includes('dist/cli.mjs'), files.join('\n'));
    assert.deepEqual(files.filter((f) => !/^(bin\/|dist\/|package\.json$|README\.md$|LICENSE)/.test(f)), []);
    assert.deepEqual(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), []);
    const pkg = JSON.parse(readFileSync(path.join(installed(), 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    assert.deepEqual(Object.keys(pkg.dependencies ?? {}), [], 'the bundle carries every runtime package');
  });

  test('it takes at most 60 MiB installed', (t) => {
    const bytes = sizeOf(installed());
    t.diagnostic(`installed size ${(bytes / 2 ** 20).toFixed(1)} MiB`);
    assert.ok(bytes <= MAX_INSTALLED_BYTES, `installed size ${(bytes / 2 ** 20).toFixed(1)} MiB`);
  });

  test('--version runs from another folder, from the bundle', async () => {
    const r = await cli(['--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
    assert.equal(r.stderr, '');
  });

  test('a backup into a folder works from another folder', async () => {
    const r = await cli(['backup', '--to', './backup', '--json'], { CLOUDINARY_URL: fake.cloudinaryUrl });
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { copied: number; failed: number };
    assert.equal(report.copied, 2);
    assert.equal(report.failed, 0);
    assert.equal(statSync(path.join(elsewhere, 'backup', 'image', 'upload', 'installed', 'two.png')).size, 5000);
  });
});
