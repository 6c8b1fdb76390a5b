/**
 * What a run may change after its listing (lambda/backup/finish-run.ts, lambda/backup/finish.ts).
 * Rules:
 * - After a listing that did not finish, with or without --prune, nothing is deleted, no asset is
 *   recorded deleted, and the catalog stays the last completed run's: the assets not yet listed
 *   are not gone, only unseen.
 * - A resource type whose listing came back empty while the backup holds assets of that type
 *   prunes nothing, whatever --max-prune allows (a key restricted to some folders, another
 *   account's credentials, an API hiccup answering `resources: []`).
 * In-memory source and destination (test/support/stub-world.ts): no network.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SourceError } from '../../lambda/core/errors.ts';
import type { ListPage } from '../../lambda/ports/storage.ts';
import { RunFailedError } from '../../lambda/backup/engine.ts';
import type { RunReport } from '../../lambda/backup/engine.ts';
import { prunePlan } from '../../lambda/backup/finish.ts';
import { Catalog } from '../../lambda/store/catalog.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';
import { StubSource, backup, catalogOf } from '../support/stub-world.ts';

/** A source whose listing of some resource types fails for good (a 401: not retried). */
class FailingSource extends StubSource {
  readonly failTypes = new Set<string>();
  override async listPage(resourceType: string, type: string): Promise<ListPage> {
    if (this.failTypes.has(resourceType)) {
      this.apiCalls += 1;
      throw new SourceError(`listing ${resourceType}/${type} failed: Invalid api_key`, 401);
    }
    return super.listPage(resourceType, type);
  }
}

/** A backup of images a, b, c and video v, then image b deleted from Cloudinary. */
const world = async () => {
  const source = new FailingSource();
  const dest = new MemoryDestination();
  for (const id of ['a', 'b', 'c']) source.add(id, Buffer.from(`image ${id}`));
  source.add('v', Buffer.from('a video'), 'video', 'upload', 'mp4');
  const first = await backup(source, dest);
  assert.equal(first.listingComplete, true);
  // The setup run's own bookkeeping (it deletes its copy records once its catalog is committed) is not what these rules are about.
  dest.deleted.length = 0;
  const pointer = await new Catalog(dest, '').pointer();
  assert.ok(pointer);
  source.remove('b');
  return { source, dest, pointer, objects: dest.keys().sort() };
};

const failedRun = async (run: Promise<RunReport>): Promise<RunReport> => {
  const err = await run.then(
    () => assert.fail('the run must fail: its listing did not finish'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof RunFailedError, String(err));
  return err.report;
};

describe('a listing that did not finish', () => {
  for (const prune of [false, true]) {
    test(`${prune ? 'with' : 'without'} --prune: nothing deleted, nothing recorded deleted, the catalog kept`, async () => {
      const { source, dest, pointer, objects } = await world();
      source.failTypes.add('video');
      const report = await failedRun(backup(source, dest, { prune, maxPrune: { fraction: 1 } }));
      assert.equal(report.listingComplete, false);
      assert.equal(report.missingFromSource, 0, 'an unlisted asset is not counted missing');
      assert.equal(report.pruned, 0);
      assert.deepEqual(dest.deleted, []);
      assert.deepEqual((await new Catalog(dest, '').pointer())?.runId, pointer.runId, 'the catalog of the last completed run stays current');
      const entries = await catalogOf(dest);
      assert.deepEqual([...entries.keys()].sort(), ['image/upload/a.jpg', 'image/upload/b.jpg', 'image/upload/c.jpg', 'video/upload/v.mp4']);
      assert.deepEqual([...entries.values()].map((e) => e.state), ['current', 'current', 'current', 'current']);
      for (const key of objects) assert.ok(dest.bytes(key), `${key} is still there`);
    });
  }

  test('the same night with a listing that finishes records b deleted (the rule above is what held it back)', async () => {
    const { source, dest, pointer } = await world();
    const report = await backup(source, dest);
    assert.equal(report.missingFromSource, 1);
    assert.notEqual((await new Catalog(dest, '').pointer())?.runId, pointer.runId);
    assert.equal((await catalogOf(dest)).get('image/upload/b.jpg')?.state, 'deleted');
  });
});

describe('an empty listing of a type the backup holds', () => {
  test('--prune with --max-prune 100% deletes nothing and says why', async () => {
    const { source, dest } = await world();
    source.emptyTypes.add('image');
    const report = await backup(source, dest, { prune: true, maxPrune: { fraction: 1 } });
    assert.deepEqual(dest.deleted, []);
    assert.equal(report.pruned, 0);
    assert.match(report.pruneRefused ?? '', /listing of image assets was empty while the backup holds 3/);
    for (const key of ['image/upload/a.jpg', 'image/upload/b.jpg', 'image/upload/c.jpg']) assert.ok(dest.bytes(key), `${key} is still there`);
  });

  test('--prune with --max-prune 100% prunes a deleted asset when no listing came back empty', async () => {
    const { source, dest } = await world();
    const report = await backup(source, dest, { prune: true, maxPrune: { fraction: 1 } });
    assert.deepEqual(dest.deleted, ['image/upload/b.jpg']);
    assert.equal(report.pruned, 1);
    assert.equal(report.pruneRefused, null);
  });

  test('prunePlan: an empty listing of any held type refuses, even when the limit allows everything', () => {
    const previous = { has: () => true, currentByType: new Map([['image', 3], ['video', 2]]), currentTotal: 5 };
    const missing = ['image/upload/a.jpg', 'image/upload/b.jpg', 'image/upload/c.jpg'];
    const cases: ReadonlyArray<readonly [Record<string, number>, boolean]> = [
      [{ image: 0, video: 2 }, true],
      [{ video: 2 }, true],
      [{ image: 1, video: 0 }, true],
      [{ image: 1, video: 2 }, false],
    ];
    for (const [listed, refused] of cases) {
      const plan = prunePlan(missing, previous, listed, ['image', 'video'], { count: 1000 });
      assert.equal(plan.refused !== null, refused, JSON.stringify(listed));
      assert.equal(plan.keys.length, refused ? 0 : 3, JSON.stringify(listed));
    }
    // A type the backup holds none of may list empty.
    const noVideo = { has: () => true, currentByType: new Map([['image', 3]]), currentTotal: 3 };
    assert.equal(prunePlan(missing, noVideo, { image: 1 }, ['image', 'video'], { count: 1000 }).keys.length, 3);
  });
});
