/**
 * How a run ends (lambda/backup/finish-run.ts, finish.ts, cursor-guard.ts). Rules:
 * - A dry run changes nothing: it deletes nothing, commits no catalog, writes no report, and
 *   says what pruning would do.
 * - A run over some resource types keeps the catalog entries of the others, whole.
 * - Objects this tool did not write (no catalog entry) are neither counted missing nor pruned.
 * - The report is written under `<prefix>/_reports/<runId>.json`, with the credits before the
 *   run from the run's own quota or the options' and the estimate after it in credits (1 GB each).
 * - A listing whose next_cursor repeats the cursor it was asked for stops, even in a new process
 *   (the cursors seen are then forgotten), and says why.
 * In-memory source and destination (test/support/stub-world.ts): no network.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SourceError } from '../../lambda/core/errors.ts';
import { reportsRoot } from '../../lambda/core/keys.ts';
import { checkCursor } from '../../lambda/backup/cursor-guard.ts';
import { prunePlan } from '../../lambda/backup/finish.ts';
import { reportOf } from '../../lambda/backup/finish-run.ts';
import type { ReportBase } from '../../lambda/backup/finish-run.ts';
import { initialState } from '../../lambda/backup/run-state.ts';
import { emptyCounters } from '../../lambda/core/report.ts';
import { Catalog } from '../../lambda/store/catalog.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';
import { StubSource, backup, catalogOf, engineOptions } from '../support/stub-world.ts';

/** A backup of images a, b and video v; then image b deleted from Cloudinary. */
const world = async () => {
  const source = new StubSource();
  const dest = new MemoryDestination();
  for (const id of ['a', 'b']) source.add(id, Buffer.from(`image ${id}`));
  source.add('v', Buffer.from('a video'), 'video', 'upload', 'mp4');
  await backup(source, dest);
  // The setup run's own bookkeeping (it deletes its copy records once its catalog is committed) is not what these rules are about.
  dest.deleted.length = 0;
  source.remove('b');
  const pointer = await new Catalog(dest, '').pointer();
  assert.ok(pointer);
  return { source, dest, pointer };
};

describe('a dry run', () => {
  test('with --prune: deletes nothing, commits nothing, writes nothing, and counts what it would prune', async () => {
    const { source, dest, pointer } = await world();
    const before = new Map(dest.keys().map((k) => [k, dest.bytes(k)]));
    dest.puts.length = 0;
    const report = await backup(source, dest, { dryRun: true, prune: true, maxPrune: { fraction: 1 } });
    assert.equal(report.dryRun, true);
    assert.equal(report.pruned, 1, 'what pruning would delete');
    assert.equal(report.missingFromSource, 1);
    assert.deepEqual(dest.deleted, []);
    assert.deepEqual(dest.puts, []);
    assert.deepEqual(dest.keys().sort(), [...before.keys()].sort());
    for (const [k, body] of before) assert.ok(dest.bytes(k)?.equals(body ?? Buffer.alloc(0)), `${k} changed`);
    assert.equal((await new Catalog(dest, '').pointer())?.runId, pointer.runId);
  });
});

describe('what the catalog keeps', () => {
  test('a run over images only keeps the video entries, whole', async () => {
    const { source, dest } = await world();
    const videoBefore = (await catalogOf(dest)).get('video/upload/v.mp4');
    assert.ok(videoBefore?.sha256);
    await backup(source, dest, { resourceTypes: ['image'] });
    const after = await catalogOf(dest);
    assert.deepEqual(after.get('video/upload/v.mp4'), videoBefore);
    assert.equal(after.get('image/upload/b.jpg')?.state, 'deleted');
    assert.equal(after.get('image/upload/a.jpg')?.state, 'current');
  });

  test('a run over images only, with no image deleted, keeps the video entries too', async () => {
    const source = new StubSource();
    const dest = new MemoryDestination();
    source.add('a', Buffer.from('image a'));
    source.add('v', Buffer.from('a video'), 'video', 'upload', 'mp4');
    await backup(source, dest);
    const videoBefore = (await catalogOf(dest)).get('video/upload/v.mp4');
    assert.ok(videoBefore);
    const report = await backup(source, dest, { resourceTypes: ['image'] });
    assert.equal(report.missingFromSource, 0);
    assert.deepEqual((await catalogOf(dest)).get('video/upload/v.mp4'), videoBefore);
  });

  test('an object this tool did not write is not counted missing, and --prune leaves it', async () => {
    const { source, dest } = await world();
    dest.set('image/upload/put-there-by-hand.jpg', Buffer.from('not ours'));
    const report = await backup(source, dest, { prune: true, maxPrune: { fraction: 1 } });
    assert.equal(report.missingFromSource, 1, 'b only');
    assert.deepEqual(dest.deleted, ['image/upload/b.jpg']);
    assert.ok(dest.bytes('image/upload/put-there-by-hand.jpg'));
  });
});

describe('the report', () => {
  test('is written under <prefix>/_reports/<runId>.json', async () => {
    const source = new StubSource();
    const dest = new MemoryDestination();
    source.add('a', Buffer.from('image a'));
    const report = await backup(source, dest, { prefix: 'cld' });
    const body = dest.bytes(`${reportsRoot('cld')}/${report.runId}.json`);
    assert.ok(body, `no report at ${reportsRoot('cld')}/${report.runId}.json`);
    assert.equal(JSON.parse(body.toString('utf8')).runId, report.runId);
  });

  test('credits: from the run\'s quota, else the options\'; the estimate after adds the bytes in credits', () => {
    const state = { ...initialState({ runId: 'r', startedAt: '', slot: 'a', listingComplete: true, staleUploadsAborted: 0 }), downloadedBytes: 2e9, plannedBytes: 5e9 };
    const base = (over: Partial<ReportBase['options']>): ReportBase => ({
      destination: new MemoryDestination(),
      options: engineOptions(over),
      source: { apiCalls: 0, rateLimit: undefined } as unknown as ReportBase['source'],
      cancelled: false,
    });
    const extra = { counters: emptyCounters(), failures: [], failureLogs: [], pruneRefused: null };
    const now = new Date('2026-11-30T00:00:00Z');
    const fromOptions = reportOf(base({ quota: { creditsBefore: 10, creditLimit: 25, creditCeiling: 0.9 } }), state, extra, now);
    assert.deepEqual([fromOptions.creditsBefore, fromOptions.creditLimit, fromOptions.creditCeiling, fromOptions.creditsAfterEstimate], [10, 25, 0.9, 12]);
    const fromState = reportOf(base({ quota: { creditsBefore: 99, creditLimit: 99, creditCeiling: 0.5 } }), { ...state, quota: { creditsBefore: 3, creditLimit: 25, creditCeiling: 0.9 } }, extra, now);
    assert.deepEqual([fromState.creditsBefore, fromState.creditsAfterEstimate], [3, 5]);
    const dry = reportOf(base({ dryRun: true, quota: { creditsBefore: 1, creditLimit: 25, creditCeiling: 0.9 } }), state, extra, now);
    assert.equal(dry.creditsAfterEstimate, 6, 'a dry run estimates from the bytes it planned');
    assert.equal(reportOf(base({}), state, extra, now).creditsAfterEstimate, null);
  });
});

describe('prunePlan', () => {
  const previous = { has: (k: string) => k !== 'image/upload/foreign.jpg', currentByType: new Map([['image', 10]]), currentTotal: 10 };
  test('prunes only objects the previous catalog names', () => {
    const plan = prunePlan(['image/upload/x.jpg', 'image/upload/foreign.jpg'], previous, { image: 8 }, ['image'], { count: 5 });
    assert.deepEqual(plan.keys, ['image/upload/x.jpg']);
  });
  test('above a count limit nothing is pruned, and the run says how to go on', () => {
    const plan = prunePlan(['image/upload/x.jpg', 'image/upload/y.jpg'], previous, { image: 8 }, ['image'], { count: 1 });
    assert.deepEqual(plan.keys, []);
    assert.equal(
      plan.refused,
      '2 backups of deleted assets exceed the prune limit of 1; nothing was pruned. If so many assets really were deleted, run again with a higher --max-prune (a count or a percentage).',
    );
  });
});

describe('checkCursor', () => {
  test('a next_cursor equal to the cursor asked for stops the listing, even with no cursor seen before', () => {
    assert.throws(
      () => checkCursor('image/upload', 'c1', 'c1', new Map()),
      (err: unknown) =>
        err instanceof SourceError &&
        /listing image\/upload resources: Cloudinary returned a next_cursor it had already given/.test(err.message) &&
        /nothing pruned, catalog unchanged\)\. Run the backup again later\.$/.test(err.message),
    );
  });
  test('a new cursor, the last page, and a page listed again are not loops', () => {
    const seen = new Map<string, string>();
    checkCursor('image/upload', undefined, 'c1', seen);
    checkCursor('image/upload', 'c1', 'c2', seen);
    checkCursor('image/upload', 'c1', 'c2', seen); // the same page again (a retried step)
    checkCursor('image/upload', 'c2', undefined, seen);
    assert.throws(() => checkCursor('image/upload', 'c2', 'c1', seen), SourceError);
  });
});
