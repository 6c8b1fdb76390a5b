/**
 * Attacks (docs/commands.md, "How originals are fetched": hosts; docs/failures.md, "Attacks"): a listing
 * whose secure_url points anywhere but Cloudinary, directly or by a redirect, is refused,
 * reported, and nothing is fetched — a trap server on another loopback address (127.0.0.2)
 * must receive no request; no output, report or catalog object holds the API secret; the local
 * destination never follows a symbolic link out of its folder.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { lstat, mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { after, before, describe, test } from 'node:test';
import { API_KEY, BUCKET, FaultRig, SECRET, assertNoSecret } from '../fault-rig.ts';

/** An HTTP server on 127.0.0.2 that records every request it gets (it should get none). */
const startTrap = async (): Promise<{ server: Server; origin: string; hits: string[] }> => {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': '1000' });
    res.end(Buffer.alloc(1000, 0x41));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.2', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return { server, origin: `http://127.0.0.2:${port}`, hits };
};

describe('secure_url pointing anywhere but Cloudinary', () => {
  let rig: FaultRig;
  let trap: Awaited<ReturnType<typeof startTrap>>;

  before(async () => {
    rig = await FaultRig.start('s3');
    trap = await startTrap();
  });

  after(async () => {
    trap.server.close();
    await rig.stop();
  });

  test('is refused and reported, and nothing is fetched (direct or through a redirect)', async () => {
    const fakePort = rig.fake.port;
    const direct: Record<string, string> = {
      'attack/another host': `${trap.origin}/faults/image/upload/v1/cat.jpg`,
      'attack/another host, https': 'https://evil.example.com/faults/image/upload/cat.jpg',
      'attack/metadata address': 'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
      'attack/metadata address, https': 'https://169.254.169.254/latest/meta-data/',
      'attack/file url': 'file:///etc/passwd',
      'attack/credentials in the url': `http://user:pass@127.0.0.1:${fakePort}/faults/image/upload/v1/cat.jpg`,
      'attack/the api host on another port': `http://127.0.0.1:${trap.origin.split(':')[2]}/faults/image/upload/v1/cat.jpg`,
    };
    const redirects: Record<string, string> = {
      'attack/redirect to another host': `${trap.origin}/stolen`,
      'attack/redirect to the metadata address': 'http://169.254.169.254/latest/meta-data/',
      'attack/redirect to a file url': 'file:///etc/passwd',
    };
    const honest = rig.fake.addAsset({ publicId: 'attack/honest', bytes: 1000 });
    for (const [publicId, url] of Object.entries(direct)) rig.fake.addAsset({ publicId, bytes: 1000, secureUrlOverride: url });
    for (const [publicId, url] of Object.entries(redirects)) {
      rig.fake.addAsset({ publicId, bytes: 1000 });
      rig.fake.redirectDownload(publicId, url, { persistent: true });
    }
    rig.fake.resetStats();
    const run = await rig.backup();
    assert.equal(run.result.code, 1);
    const failed = new Map(run.report!.failures.map((f) => [f.publicId, f.error]));
    for (const publicId of [...Object.keys(direct), ...Object.keys(redirects)]) {
      assert.match(failed.get(publicId) ?? 'not reported', /^refused to download: /, publicId);
      assert.equal(await rig.sha(rig.keyOf(rig.fake.getAsset(publicId)!)), undefined, `nothing stored for ${publicId}`);
    }
    assert.equal(run.report?.failed, Object.keys(direct).length + Object.keys(redirects).length);
    assert.deepEqual(trap.hits, [], 'the trap server on 127.0.0.2 received no request');
    const deliveries = rig.fake.requestLog.filter((r) => r.kind === 'delivery').map((r) => decodeURIComponent(r.path));
    assert.equal(deliveries.filter((p) => p.includes('attack/redirect')).length, 3, 'each redirect asked once, not retried');
    assert.equal(await rig.sha(rig.keyOf(honest)), rig.fake.expectedSha256(honest), 'the honest asset is copied');

    // Once the listing is honest again, a rerun completes the backup.
    for (const publicId of Object.keys(direct)) rig.fake.setSecureUrl(publicId, 'image', 'upload', undefined);
    await rig.rerunComplete();
    assert.deepEqual(trap.hits, []);
  });
});

describe('secrets', () => {
  test('no stdout, stderr, report, catalog object or object metadata holds the API secret', async () => {
    const rig = await FaultRig.start('s3');
    const texts: Array<[string, string]> = [];
    const run = async (args: string[], env = rig.env()): Promise<void> => {
      const r = await rig.cli(args, env);
      texts.push([`stdout of ${args.join(' ')}`, r.stdout], [`stderr of ${args.join(' ')}`, r.stderr]);
    };
    try {
      rig.fake.addAsset({ publicId: 'secret/public', bytes: 5000 });
      rig.fake.addAsset({ publicId: 'secret/private', type: 'private', bytes: 5000 });
      rig.fake.addAsset({ publicId: 'secret/authenticated', type: 'authenticated', bytes: 5000 });
      rig.fake.addAsset({ publicId: 'secret/big', bytes: 5 * 1024 * 1024 + 1 });
      rig.fake.addAsset({ publicId: 'secret/evil', bytes: 100, secureUrlOverride: 'http://169.254.169.254/latest/' });
      rig.fake.failDownload('secret/private', 500, { persistent: true });
      rig.fake.cutDownload('secret/authenticated', 10, { persistent: true });
      await rig.s3rver!.injectFaults([{ op: 'UploadPart', key: 'secret/big' }]);
      const to = rig.to;
      for (const extra of [['-v'], ['-v', '--json']]) await run(['backup', '--to', to, ...extra]);
      await rig.s3rver!.clearFaults();
      rig.fake.failNextListing(420, { retryAt: Date.now() + 5 * 3600_000 });
      await run(['backup', '--to', to, '-v']);
      await run(['backup', '--to', to, '-v'], rig.env({ CLOUDINARY_URL: rig.fake.cloudinaryUrl.replace(API_KEY, '111111111111111') }));
      await run(['backup', '--to', to, '-v'], rig.env({ CLOUDINARY_URL: `https://${API_KEY}:${SECRET}@faults` }));
      await run(['backup', '--to', 's3://no-such-bucket', '-v']);
      await run(['backup', '--to', to, '--dry-run', '-v']);
      for (const [what, text] of texts) assertNoSecret(what, text);

      const keys = await rig.keys();
      const stored = keys.filter((k) => /(^|\/)(_reports|_catalog)\//.test(k));
      assert.ok(stored.some((k) => k.includes('_reports/')) && stored.some((k) => k.includes('_catalog/')), 'reports and catalog were written');
      for (const key of stored) assertNoSecret(key, await rig.text(key));
      for (const key of keys) {
        const head = await rig.s3!.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
        assertNoSecret(`metadata of ${key}`, JSON.stringify(head.Metadata ?? {}));
      }
    } finally {
      await rig.stop();
    }
  });
});

describe('symbolic links in the backup folder', () => {
  let rig: FaultRig;
  let outside: string;
  const snapshot = async (dir: string): Promise<string[]> => {
    const out: string[] = [];
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        const full = path.join(d, e.name);
        if (e.isDirectory()) await walk(full);
        else out.push(`${path.relative(dir, full)}:${(await readFile(full)).toString('hex').slice(0, 16)}`);
      }
    };
    await walk(dir);
    return out.sort();
  };

  before(async () => {
    rig = await FaultRig.start('folder');
    outside = path.join(rig.sandbox, 'outside');
    await mkdir(path.join(outside, 'upload', 'victims'), { recursive: true });
    await writeFile(path.join(outside, 'upload', 'victims', 'keep.jpg'), 'precious, not a backup');
    await mkdir(path.join(outside, 'tmp'), { recursive: true });
    await mkdir(path.join(outside, 'catalog'), { recursive: true });
  });

  after(() => rig.stop());

  test('a symlinked folder inside the backup is never followed: nothing written, read or pruned outside', async () => {
    for (let i = 0; i < 3; i += 1) rig.fake.addAsset({ publicId: `victims/new ${i}`, bytes: 1000 + i });
    rig.fake.addAsset({ publicId: 'docs/readme.txt', resourceType: 'raw', format: '', bytes: 300 });
    await mkdir(rig.folder, { recursive: true });
    // image -> outside: every image key would land outside; prune would delete outside files.
    await symlink(outside, path.join(rig.folder, 'image'));
    const before = await snapshot(outside);
    const run = await rig.backup(['--prune']);
    assert.deepEqual(await snapshot(outside), before, 'nothing outside changed');
    assert.equal(run.report?.pruned, 0, 'nothing pruned through the link');
    for (let i = 0; i < 3; i += 1) {
      assert.match(run.report!.failures.find((f) => f.publicId === `victims/new ${i}`)?.error ?? 'not reported', /symbolic link/);
    }
    assert.equal(run.report?.copied, 1, 'the raw file, not under the link, is copied');
    assert.ok((await lstat(path.join(rig.folder, 'image'))).isSymbolicLink(), 'the link itself is left alone');
  });

  test("a symlinked temporary folder is refused before anything is written through it", async () => {
    const tmp = path.join(rig.folder, '.cloudinary-backup-tmp');
    await import('node:fs/promises').then((fs) => fs.rm(tmp, { recursive: true, force: true }));
    await symlink(path.join(outside, 'tmp'), tmp);
    const before = await snapshot(outside);
    const r = await rig.cli(['backup', '--to', rig.folder, '--json']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /symbolic link/);
    assert.deepEqual(await snapshot(outside), before, 'nothing outside changed');
  });
});
