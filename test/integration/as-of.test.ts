/**
 * A backup with history (docs/history.md), run as the real CLI against backups it made, in a
 * folder and in s3rver: a first night, then three nights with one change each (an asset
 * replaced, one deleted and pruned, one re-tagged). `restore --as-of` each earlier night into an
 * empty account gives that night's account exactly (the replaced and pruned originals come back
 * from `_history/`); `get --as-of` gives the old bytes; `ls --as-of` names the deleted asset;
 * `status --json` lists the restore points.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import type { FakeAsset } from '../fakes/cloudinary-fake.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { parseReport, runCli } from '../helpers.ts';

interface LsRow {
  publicId: string;
  state: string;
}

for (const kind of ['folder', 's3'] as const) {
  describe(`--as-of on a backup in a ${kind}`, () => {
    let fake: CloudinaryFake;
    let s3rver: S3rverHandle | undefined;
    let env: Record<string, string>;
    let work: string;
    let from: string;
    let shoe: FakeAsset;
    let oldShoe: Buffer;
    const runs: string[] = [];
    /** The account as each night saw it: public_id -> bytes and tags. */
    const accounts: Array<Map<string, { content: Buffer; tags: string[] }>> = [];
    const accountNow = (f: CloudinaryFake): Map<string, { content: Buffer; tags: string[] }> =>
      new Map(f.listAssets().map((a) => [a.publicId, { content: f.contentOf(a), tags: [...a.tags] }]));

    const backupNight = async (...extra: string[]): Promise<void> => {
      accounts.push(accountNow(fake));
      const r = await runCli(['backup', '--to', from, '--json', ...extra], env);
      assert.equal(r.code, 0, r.stderr);
      runs.push(parseReport(r).runId as string);
    };
    const ls = async (...args: string[]) => runCli(['ls', '--from', from, '--json', ...args], env);
    const ids = (stdout: string): string[] => (JSON.parse(stdout) as LsRow[]).map((r) => r.publicId).sort();

    before(async () => {
      fake = new CloudinaryFake({ cloudName: `asof-${kind}`, apiKey: '424242424242424', apiSecret: 'asof-secret' });
      await fake.start();
      shoe = fake.addAsset({ publicId: 'products/shoe', bytes: 3000, tags: ['summer'] });
      fake.addAsset({ publicId: 'products/hat', format: 'png', bytes: 2000, tags: ['winter'] });
      fake.addAsset({ publicId: 'blog/cover', bytes: 1000 });
      work = await mkdtemp(path.join(tmpdir(), 'cb-asof-'));
      if (kind === 's3') {
        s3rver = await startS3rver(['backups']);
        env = { CLOUDINARY_URL: fake.cloudinaryUrl, ...s3rver.env };
        from = 's3://backups/asof';
      } else {
        env = { CLOUDINARY_URL: fake.cloudinaryUrl };
        from = path.join(work, 'backup');
      }
      oldShoe = fake.contentOf(shoe);
      await backupNight(); // the first night: all three
      shoe = fake.replaceAsset('products/shoe', 'image', 'upload', { bytes: 3500 });
      await backupNight(); // night 1: shoe replaced
      fake.deleteAsset('products/hat', 'image', 'upload');
      await backupNight('--prune'); // night 2: hat deleted and pruned
      fake.updateMetadata('blog/cover', 'image', 'upload', { tags: ['autumn'] });
      await backupNight(); // night 3: cover re-tagged
    });

    after(async () => {
      await fake.stop();
      await s3rver?.stop();
      await rm(work, { recursive: true, force: true });
    });

    test('status --json lists the four restore points, newest first', async () => {
      const r = await runCli(['status', '--from', from, '--json'], env);
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout) as { restorePoints: Array<{ runId: string }> };
      assert.deepEqual(s.restorePoints.map((p) => p.runId), [...runs].reverse());
    });

    test('ls --as-of names the asset deleted since, and the tags of then', async () => {
      const now = await ls();
      assert.equal(now.code, 0, now.stderr);
      assert.deepEqual(ids(now.stdout), ['blog/cover', 'products/shoe'], 'pruned: gone from the current catalog');
      for (const night of [runs[0], runs[1]] as string[]) {
        const then = await ls('--as-of', night);
        assert.equal(then.code, 0, then.stderr);
        assert.deepEqual(ids(then.stdout), ['blog/cover', 'products/hat', 'products/shoe'], `as of ${night}`);
        assert.match(then.stderr, new RegExp(`as of restore point ${night}`), 'the restore point used is printed');
      }
      assert.deepEqual(ids((await ls('--as-of', runs[2] as string, '--tag', 'autumn')).stdout), [], 'night 2: not yet re-tagged');
      assert.deepEqual(ids((await ls('--as-of', '2999-01-01', '--tag', 'autumn')).stdout), ['blog/cover'], 'a date after the newest: the newest');
    });

    test('get --as-of gives the bytes of then: the replaced original, from history', async () => {
      const file = path.join(work, `shoe-${kind}.jpg`);
      const r = await runCli(['get', 'products/shoe', '--from', from, '--to', file, '--as-of', runs[0] as string], env);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await readFile(file), oldShoe);
      const nowFile = path.join(work, `shoe-now-${kind}.jpg`);
      assert.equal((await runCli(['get', 'products/shoe', '--from', from, '--to', nowFile], env)).code, 0);
      assert.deepEqual(await readFile(nowFile), fake.contentOf(shoe), 'without --as-of: the current bytes');
    });

    test('restore --as-of each earlier night into an empty account gives that night\'s account exactly', async (t) => {
      for (const n of [0, 1, 2]) {
        const empty = new CloudinaryFake({ cloudName: `asof-empty-${kind}-${n}`, apiKey: '434343434343434', apiSecret: 'asof-empty-secret' });
        await empty.start();
        t.after(() => empty.stop());
        const r = await runCli(['restore', '--from', from, '--as-of', runs[n] as string, '--json'], { ...env, CLOUDINARY_URL: empty.cloudinaryUrl });
        assert.equal(r.code, 0, `night ${n}: ${r.stderr}`);
        const got = accountNow(empty);
        const want = accounts[n] as Map<string, { content: Buffer; tags: string[] }>;
        assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), `night ${n}: the assets of then`);
        for (const [id, w] of want) {
          assert.ok(got.get(id)?.content.equals(w.content), `night ${n}: the bytes of ${id} then`);
          assert.deepEqual(got.get(id)?.tags, w.tags, `night ${n}: the tags of ${id} then`);
        }
      }
    });

    test('a WHEN before the oldest restore point, or unreadable: exit 2 and what to do', async () => {
      const early = await ls('--as-of', '2000-01-01');
      assert.equal(early.code, 2, early.stderr);
      assert.match(early.stderr, new RegExp(`oldest restore point is run ${runs[0]}`));
      const bad = await ls('--as-of', 'last tuesday');
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /e\.g\. --as-of 2026-11-30/);
      assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
    });
  });
}
