/**
 * `--as-of WHEN` on `ls` and `get`, and `status --json`'s restore points (docs/history.md), run
 * as the real CLI against backups it made, in a folder and in s3rver: three nights, one change
 * each (a re-tag, a deletion pruned); each earlier night is read back as it was.
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
    const runs: string[] = [];

    const backupNight = async (...extra: string[]): Promise<void> => {
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
      await backupNight(); // night 1: all three
      fake.updateMetadata('products/shoe', 'image', 'upload', { tags: ['autumn'] });
      await backupNight(); // night 2: shoe re-tagged
      fake.deleteAsset('products/hat');
      await backupNight('--prune'); // night 3: hat deleted and pruned
    });

    after(async () => {
      await fake.stop();
      await s3rver?.stop();
      await rm(work, { recursive: true, force: true });
    });

    test('status --json lists the three restore points, newest first', async () => {
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
      assert.deepEqual(ids((await ls('--as-of', runs[0] as string, '--tag', 'summer')).stdout), ['products/shoe'], 'night 1: summer');
      assert.deepEqual(ids((await ls('--as-of', runs[1] as string, '--tag', 'summer')).stdout), [], 'night 2: re-tagged');
      assert.deepEqual(ids((await ls('--as-of', '2999-01-01', '--tag', 'autumn')).stdout), ['products/shoe'], 'a date after the newest: the newest');
    });

    test('get --as-of copies the asset as that restore point names it', async () => {
      const file = path.join(work, `shoe-${kind}.jpg`);
      const r = await runCli(['get', 'products/shoe', '--from', from, '--to', file, '--as-of', runs[0] as string], env);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await readFile(file), fake.contentOf(shoe));
    });

    test('restore --as-of brings back the tags of then, into an empty account', async (t) => {
      const empty = new CloudinaryFake({ cloudName: `asof-empty-${kind}`, apiKey: '434343434343434', apiSecret: 'asof-empty-secret' });
      await empty.start();
      t.after(() => empty.stop());
      const r = await runCli(['restore', '--from', from, '--as-of', runs[0] as string, '--only', 'products/shoe', '--json'], { ...env, CLOUDINARY_URL: empty.cloudinaryUrl });
      assert.equal(r.code, 0, r.stderr);
      const restored = empty.getAsset('products/shoe');
      assert.ok(restored, 'restored');
      assert.deepEqual(restored.tags, ['summer'], 'the tags of night 1, not the current ones');
      assert.deepEqual(empty.contentOf(restored), fake.contentOf(shoe));
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
