/**
 * A backup that cannot be damaged: one group of tests per way it could be, against the real
 * engine with an in-memory Cloudinary (test/support/stub-world.ts) and the in-memory destination
 * (which keeps the promises of S3 and the folder: test/contract). The races across processes
 * (two CLI runs, a CLI run and the durable handler) are in run-lease-races.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BackupEngine } from '../../lambda/backup/engine.ts';
import type { RunState } from '../../lambda/backup/engine.ts';
import { verifyBackup } from '../../lambda/verify/verify.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';
import { StubSource, backup, catalogOf, engineOptions, sha } from '../support/stub-world.ts';

/** What a run deleted besides its copy records (lambda/store/copy-record.ts), which a committed catalog makes redundant. */
const assetsDeleted = (d: { readonly deleted: readonly string[] }): string[] => d.deleted.filter((k) => !k.includes('_catalog/copies/'));

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

/** A Cloudinary with two images, a video and a raw file. */
const world = (): StubSource => {
  const src = new StubSource();
  src.add('a', bytes('image a'));
  src.add('b', bytes('image b!'));
  src.add('clip', bytes('video clip'), 'video', 'upload', 'mp4');
  src.add('notes', bytes('raw notes'), 'raw', 'upload', '');
  return src;
};

describe('a subset run keeps the other resource types in the catalog', () => {
  test('full -> --resource-types image -> full: every entry stays, with its sha256, tags and context', async () => {
    const src = world();
    const dest = new MemoryDestination();
    await backup(src, dest);
    const first = await catalogOf(dest);
    assert.equal(first.size, 4);
    for (const e of first.values()) assert.ok(e.sha256, `${e.key} has a sha256`);

    await backup(src, dest, { resourceTypes: ['image'] });
    const subset = await catalogOf(dest);
    assert.deepEqual([...subset.keys()].sort(), [...first.keys()].sort(), 'the subset run carried video and raw forward');
    for (const [k, e] of first) assert.deepEqual(subset.get(k), e, `${k} unchanged`);

    // A deleted asset whose backup is kept stays in the catalog through a subset run too.
    src.remove('notes', 'raw');
    await backup(src, dest);
    assert.equal((await catalogOf(dest)).get('raw/upload/notes')?.state, 'deleted');
    await backup(src, dest, { resourceTypes: ['image'] });
    assert.equal((await catalogOf(dest)).get('raw/upload/notes')?.state, 'deleted', 'kept as deleted by the subset run');
    src.add('notes', bytes('raw notes'), 'raw', 'upload', '');

    await backup(src, dest);
    const last = await catalogOf(dest);
    for (const [k, e] of first) {
      assert.equal(last.get(k)?.sha256, e.sha256, `${k} keeps its sha256`);
      assert.deepEqual(last.get(k)?.tags, e.tags, `${k} keeps its tags`);
    }
  });
});

describe('overlapping runs never interleave (in-process; across processes in run-lease-races.test.ts)', () => {
  test('two runs started together: exactly one runs, the other is refused with who holds the lease; the catalog keeps every entry', async () => {
    const src = world();
    const dest = new MemoryDestination();
    const results = await Promise.allSettled([backup(src, dest, { holder: 'run one' }), backup(src, dest, { holder: 'run two' })]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(ok.length, 1, 'exactly one run ran');
    assert.equal(refused.length, 1);
    assert.equal((refused[0]?.reason as Error).name, 'LeaseHeldError', String(refused[0]?.reason));
    assert.match((refused[0]?.reason as Error).message, /run (one|two)/);
    assert.equal((await catalogOf(dest)).size, 4);
  });

  test('a run that starts while another is between pages is refused, and the first run commits every entry', async () => {
    const src = world();
    const dest = new MemoryDestination();
    await backup(src, dest);
    src.replace('a', bytes('image A, new'));
    const first = new BackupEngine(src, dest, engineOptions({ holder: 'night run' }));
    let state: RunState = await first.start();
    state = await first.step(state);
    await assert.rejects(backup(src, dest, { holder: 'laptop run' }), /night run/);
    while (!state.listingComplete) state = await first.step(state);
    await first.finish(state);
    const cat = await catalogOf(dest);
    assert.equal(cat.size, 4);
    assert.equal(cat.get('image/upload/a.jpg')?.sha256, sha(bytes('image A, new')));
  });

  test('a lease older than its expiry (a killed run) is taken over', async () => {
    const src = world();
    const dest = new MemoryDestination();
    const killed = new BackupEngine(src, dest, engineOptions({ holder: 'killed run' }));
    await killed.start(new Date(Date.now() - 3 * 3600_000)); // took the lease 3 hours ago, never renewed
    const report = await backup(src, dest);
    assert.equal(report.copied, 4);
    assert.equal((await catalogOf(dest)).size, 4);
  });
});

describe('change detection trusts the recorded version, not two clocks', () => {
  test('a destination clock 10 minutes ahead and a same-size replacement: copied; verify --source sees a missed one', async () => {
    const src = world();
    const dest = new MemoryDestination({ now: () => Date.now() + 10 * 60_000 });
    await backup(src, dest);
    // Replaced now: its version (upload time) is earlier than the stored object's mtime.
    const nowSeconds = Math.floor(Date.now() / 1000);
    const replaced = src.replace('b', bytes('image B?'), 'image', nowSeconds);
    assert.equal(replaced.bytes, bytes('image b!').length, 'same size');

    // verify --source compares the catalog's version with Cloudinary's: the change is outdated.
    const before = await verifyBackup(dest, { prefix: '', deep: false, concurrency: 2 }, src);
    assert.equal(before.outdated, 1, JSON.stringify(before.problems));

    const report = await backup(src, dest);
    assert.equal(report.copied, 1);
    assert.equal(dest.bytes('image/upload/b.jpg')?.toString(), 'image B?');
    assert.equal((await catalogOf(dest)).get('image/upload/b.jpg')?.sha256, sha(bytes('image B?')));
    const after = await verifyBackup(dest, { prefix: '', deep: true, concurrency: 2 }, src);
    assert.equal(after.ok, true, JSON.stringify(after.problems));
  });
});

describe('a body longer than listed never replaces the old backup', () => {
  test('a download that delivers N bytes, then more (chunk boundary exactly at N): the old object stays', async () => {
    const src = world();
    const dest = new MemoryDestination({ commitAtLength: true });
    await backup(src, dest);
    const old = dest.bytes('image/upload/b.jpg');
    src.replace('b', bytes('new b, 12 B'));
    // Served: the listed 11 bytes, then 5 more bytes of another file, each chunk after a pause.
    src.serve('b', [bytes('other file!'), bytes('extra')]);
    const report = await backup(src, dest, { copyAttempts: 1 });
    assert.equal(report.failed, 1);
    assert.match(report.failures[0]?.error ?? '', /more|long|expected/i);
    assert.deepEqual(dest.bytes('image/upload/b.jpg'), old, 'the old backup is untouched');
  });
});

describe('prune deletes only what this tool wrote, never after an empty listing, never en masse', () => {
  const many = (n: number): StubSource => {
    const src = new StubSource();
    for (let i = 0; i < n; i += 1) src.add(`p${String(i).padStart(2, '0')}`, bytes(`photo ${i}`));
    return src;
  };

  test('an empty listing of a type with backups prunes nothing and says why', async () => {
    const src = many(20);
    const dest = new MemoryDestination();
    await backup(src, dest);
    src.emptyTypes.add('image');
    const report = await backup(src, dest, { prune: true });
    assert.equal(report.pruned, 0);
    assert.deepEqual(assetsDeleted(dest), []);
    assert.match(report.pruneRefused ?? '', /listing of image assets was empty while the backup holds 20/);
    assert.equal(dest.keys().filter((k) => k.startsWith('image/')).length, 20);
  });

  test('foreign objects under the type folders are never pruned', async () => {
    const src = many(20);
    const dest = new MemoryDestination();
    dest.set('image/upload/site/logo.png', bytes('not ours'));
    dest.set('image/holiday.jpg', bytes('a photo folder'));
    await backup(src, dest);
    src.remove('p00');
    const report = await backup(src, dest, { prune: true });
    assert.deepEqual(assetsDeleted(dest), ['image/upload/p00.jpg']);
    assert.equal(report.pruned, 1);
    assert.equal(dest.bytes('image/upload/site/logo.png')?.toString(), 'not ours');
    assert.equal(dest.bytes('image/holiday.jpg')?.toString(), 'a photo folder');
  });

  test('a mass deletion above --max-prune (default 10%) prunes nothing; a higher limit prunes', async () => {
    const src = many(20);
    const dest = new MemoryDestination();
    await backup(src, dest);
    for (let i = 0; i < 5; i += 1) src.remove(`p${String(i).padStart(2, '0')}`);
    const refused = await backup(src, dest, { prune: true });
    assert.equal(refused.pruned, 0);
    assert.deepEqual(assetsDeleted(dest), []);
    assert.match(refused.pruneRefused ?? '', /5 backups of deleted assets exceed the prune limit of 2 \(10% of 20\)/);
    const allowed = await backup(src, dest, { prune: true, maxPrune: { count: 5 } });
    assert.equal(allowed.pruned, 5);
    assert.equal(assetsDeleted(dest).length, 5);
  });
});

describe('stale-upload clean-up touches only keys this tool writes', () => {
  /** A memory destination that also holds multipart uploads, as ListMultipartUploads shows them. */
  class WithUploads extends MemoryDestination {
    readonly uploads = [
      { key: 'index.html', initiated: new Date(Date.now() - 5 * 3600_000) },
      { key: 'photos/2019/beach.jpg', initiated: new Date(Date.now() - 5 * 3600_000) },
      { key: 'image/upload/left-by-killed-run.jpg', initiated: new Date(Date.now() - 5 * 3600_000) },
    ];
    readonly aborted: string[] = [];
    // S3 ListMultipartUploads with Prefix (API reference: "Lists in-progress uploads only for
    // those keys that begin with the specified prefix").
    async abortStaleUploads(keyPrefix: string, olderThan: Date): Promise<number> {
      const stale = this.uploads.filter((u) => u.key.startsWith(keyPrefix) && u.initiated < olderThan && !this.aborted.includes(u.key));
      this.aborted.push(...stale.map((u) => u.key));
      return stale.length;
    }
  }

  test('with an empty prefix, another application\'s uploads are left alone', async () => {
    const dest = new WithUploads();
    const report = await backup(world(), dest);
    assert.deepEqual(dest.aborted, ['image/upload/left-by-killed-run.jpg']);
    assert.equal(report.staleUploadsAborted, 1);
  });
});

describe('a catalog write that fails once', () => {
  test('is retried on its own: no copy repeated, no duplicate entry', async () => {
    const src = world();
    const dest = new MemoryDestination();
    // Format 3: pages are written under _catalog/pages/ (docs/history.md).
    dest.failPuts.set('_catalog/pages/', 1);
    const e = new BackupEngine(src, dest, engineOptions());
    let state = await e.start();
    while (!state.listingComplete) {
      // What the durable runtime does with a step that throws: run it again from the same state.
      state = await e.step(state).catch(() => e.step(state));
    }
    await e.finish(state);
    assert.equal(dest.failPuts.get('_catalog/pages/'), 0, 'the injected failure happened');
    const assetPuts = dest.puts.filter((k) => !k.startsWith('_'));
    assert.deepEqual(assetPuts.sort(), [...new Set(assetPuts)].sort(), 'no asset written twice');
    assert.equal(src.opened.length, 4, 'no asset downloaded twice');
    const cat = await catalogOf(dest); // throws on a duplicate entry
    assert.equal(cat.size, 4);
  });
});
