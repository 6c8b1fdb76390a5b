/**
 * Review of the durable step without a page barrier: the pages a step records `held`
 * (finished work behind an unfinished page: counted, in the catalog, their ids in RunState.ahead)
 * are listed again by the next invocation. Each asset must still be in the committed catalog once
 * and counted once, whatever happened to the listing in between; and a step whose record fails
 * must not make the next one copy what was already current. In-memory source and destination, a
 * Lambda clock the test sets (as in durable-step.test.ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Asset } from '../../lambda/core/asset.ts';
import type { ListPage, OpenedAsset } from '../../lambda/ports/storage.ts';
import { BackupEngine } from '../../lambda/backup/engine.ts';
import type { EngineOptions, RunState } from '../../lambda/backup/engine.ts';
import { Catalog } from '../../lambda/store/catalog.ts';
import { HoldingSource, within } from '../fakes/holding-source.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';
import { STEP, copiedIn, lambdaClock, stepOptions } from '../fakes/step-engine.ts';

const options = (extra: Partial<EngineOptions> = {}): EngineOptions => stepOptions({ copyAttempts: 1, ...extra });
const clock = lambdaClock;

/** The committed catalog, one `publicId:assetId:state` line per entry (a duplicate shows twice). */
const catalogOf = async (dest: MemoryDestination): Promise<string[]> => {
  const out: string[] = [];
  for await (const e of new Catalog(dest, '', 0).entries()) out.push(`${e.publicId}:${e.assetId}:${e.state}`);
  return out.sort();
};

/**
 * HoldingSource with what a listing may change between two invocations: an asset's asset_id (a
 * rename keeps it: "the asset ID is an immutable identifier that stays the same even if the
 * public ID changes", https://cloudinary.com/documentation/ts_asset_id_vs_public_id), its
 * version, and downloads that fail for good (a 403 answered to every try).
 */
class ChangingSource extends HoldingSource {
  readonly failing = new Set<string>();
  readonly assetIds = new Map<string, string>();
  readonly versions = new Map<string, number>();
  override async listPage(rt: string, type: string, cursor: string | undefined): Promise<ListPage> {
    const p = await super.listPage(rt, type, cursor);
    return { ...p, assets: p.assets.map((a) => ({ ...a, assetId: this.assetIds.get(a.publicId) ?? a.assetId, version: this.versions.get(a.publicId) ?? a.version })) };
  }
  override async open(a: Asset, signal?: AbortSignal): Promise<OpenedAsset> {
    if (this.failing.has(a.publicId)) {
      this.started.push(a.publicId);
      throw new Error(`HTTP 403 for ${a.publicId}`);
    }
    return super.open(a, signal);
  }
}

/**
 * The first invocation: pages [a1, big] [b1, b2] [c1]; `big` stalls, the others end, then the
 * invocation's time runs out (the gate cuts `big` off). Page 1 stays unfinished, pages 2-3 are
 * recorded held. Returns the checkpoint (persisted, as NightlyRun.page leaves it).
 */
const cutOffFirst = async (dest: MemoryDestination, src: ChangingSource, ended: readonly string[], stalled: readonly string[] = ['big']): Promise<RunState> => {
  const e = new BackupEngine(src, dest, options());
  const c = clock();
  const step = e.step(await e.start(), c.bound, STEP);
  await copiedIn(dest, ended.filter((id) => !src.failing.has(id)));
  await within(Promise.all([...ended, ...stalled].map((id) => src.startedOf(id))), 5000, 'every copy starting');
  // Let the copies that ended resolve (their pages are recorded once all their copies ended).
  await new Promise((r) => setTimeout(r, 100));
  c.left = 30_000;
  const checkpoint = await e.persist(await within(step, 5000, 'the step ending at the stop margin'));
  assert.notEqual(checkpoint.page, undefined, 'page 1 unfinished');
  assert.ok((checkpoint.ahead?.done.length ?? 0) > 0, 'pages behind it recorded held');
  return checkpoint;
};

/** The next invocations (a new process), until the listing ends; then finish. */
const resume = async (dest: MemoryDestination, src: ChangingSource, checkpoint: RunState) => {
  const e = new BackupEngine(src, dest, options());
  let state = checkpoint;
  for (let n = 0; !state.listingComplete && n < 10; n += 1) state = await e.persist(await e.step(state, clock().bound, STEP));
  return { state, report: await e.finish(state) };
};

const PAGES = [['a1', 'big'], ['b1', 'b2'], ['c1']];

describe('held pages listed again by the next invocation', () => {
  test('a failure recorded on a held page is counted once when its page is listed again', async () => {
    const dest = new MemoryDestination();
    const src = new ChangingSource(PAGES, new Set(['big']));
    src.failing.add('b1');
    const checkpoint = await cutOffFirst(dest, src, ['a1', 'b1', 'b2', 'c1']);
    assert.equal(checkpoint.counters.failed, 1);
    const again = new ChangingSource(PAGES, new Set());
    again.failing.add('b1');
    const { report } = await resume(dest, again, checkpoint);
    assert.deepEqual(again.started, ['big'], 'b1 is not tried again in the same run');
    assert.equal(report.failed, 1);
    assert.equal(report.failures.length, 1);
    assert.equal(report.listed, 5);
    assert.deepEqual(await catalogOf(dest), ['a1:a1:current', 'b1:b1:stale', 'b2:b2:current', 'big:big:current', 'c1:c1:current']);
  });

  test('an asset deleted from the unfinished page pulls a held asset onto it: recorded once', async () => {
    // Cloudinary's next_cursor continues after the last asset returned (the fake's listing.ts
    // encodes the last asset's position): once a1 is gone, the first page reaches into page 2.
    const dest = new MemoryDestination();
    const checkpoint = await cutOffFirst(dest, new ChangingSource(PAGES, new Set(['big'])), ['a1', 'b1', 'b2', 'c1']);
    const again = new ChangingSource([['big', 'b1'], ['b2', 'c1']], new Set());
    const { state, report } = await resume(dest, again, checkpoint);
    assert.deepEqual(again.started, ['big']);
    assert.equal(report.listed, 5);
    assert.equal(state.ahead, undefined, 'every held id left ahead once its page was passed');
    assert.deepEqual(await catalogOf(dest), ['a1:a1:current', 'b1:b1:current', 'b2:b2:current', 'big:big:current', 'c1:c1:current']);
  });

  test('an asset of a held page renamed before the next invocation is in the catalog once', async () => {
    // b1 is copied and recorded (held) under its name; then renamed to b1x, same asset_id, same
    // place in the listing. The next invocation must not record (nor copy) the asset again.
    const dest = new MemoryDestination();
    const checkpoint = await cutOffFirst(dest, new ChangingSource(PAGES, new Set(['big'])), ['a1', 'b1', 'b2', 'c1']);
    const again = new ChangingSource([['a1', 'big'], ['b1x', 'b2'], ['c1']], new Set());
    again.assetIds.set('b1x', 'b1');
    const { state, report } = await resume(dest, again, checkpoint);
    const entries = await catalogOf(dest);
    const ofB1 = entries.filter((e) => e.split(':')[1] === 'b1');
    assert.equal(ofB1.length, 1, `asset b1 in the catalog once: ${entries.join(', ')}`);
    assert.equal(report.listed, 5, 'five assets listed');
    assert.deepEqual(again.started, ['big'], 'only the cut-off copy is made again');
    assert.equal(state.ahead, undefined, 'nothing left ahead');
  });

  test('an asset of a held page changed before the next invocation keeps the version copied; the next run copies the new one', async () => {
    // b1 is copied at version v1 and recorded (held); then a new version is uploaded, in place in
    // the listing. The run does not record b1 again (it is in ahead): its catalog entry matches the
    // bytes in S3 (v1), and the next run sees the version differ and copies v2 (docs/architecture.md, "When is an asset copied?").
    const dest = new MemoryDestination();
    const checkpoint = await cutOffFirst(dest, new ChangingSource(PAGES, new Set(['big'])), ['a1', 'b1', 'b2', 'c1']);
    const again = new ChangingSource(PAGES, new Set());
    again.versions.set('b1', 1_800_000_000);
    await resume(dest, again, checkpoint);
    const versionOf = async (id: string): Promise<number | undefined> => {
      for await (const e of new Catalog(dest, '', 0).entries()) if (e.publicId === id) return e.version;
      return undefined;
    };
    assert.equal(await versionOf('b1'), 1_700_000_000, 'the catalog records the version in S3');
    assert.equal((await catalogOf(dest)).length, 5);
    const night2 = new ChangingSource(PAGES, new Set());
    night2.versions.set('b1', 1_800_000_000);
    await new BackupEngine(night2, dest, options()).run();
    assert.deepEqual(night2.started, ['b1'], 'the next run copies the new version, and only it');
    assert.equal(await versionOf('b1'), 1_800_000_000);
  });
});

/**
 * Catalog pages of 3 entries, listing pages of 2: an account backed up once, then b2 gets a new
 * version, so the catalog page that listing page 2 closes differs from the previous one and is
 * written (an unchanged page is only referenced). Returns the engine of the second night.
 */
const changedSecondPage = async () => {
  const pages = [['a1', 'a2'], ['b1', 'b2'], ['c1']];
  const dest = new MemoryDestination();
  const opts = options({ catalogPageEntries: 3 });
  await new BackupEngine(new ChangingSource(pages, new Set()), dest, opts).run();
  const src = new ChangingSource(pages, new Set());
  src.versions.set('b2', 1_800_000_000);
  return { dest, src, e: new BackupEngine(src, dest, opts) };
};

describe('a step whose catalog page write fails', () => {
  test("the next step in the same invocation does not copy the failed page's current assets again", async () => {
    // Catalog pages of 3 entries, listing pages of 2: page 2 closes the first catalog page. A first
    // run backs everything up; then b2 has a new version, so the closed page differs from the
    // previous one and is written (an unchanged page is only referenced) — and that write fails
    // (3 tries, Catalog.writePage). The step records page 1 and fails; NightlyRun.page then
    // persists page 1 and the next step (same process) lists page 2 again. b1 is current in S3:
    // listing it again must not download it again.
    const { dest, src, e } = await changedSecondPage();
    let recorded = await e.start();
    dest.failPuts.set('_catalog/', 3);
    await assert.rejects(e.step(recorded, clock().bound, { ...STEP, onState: (s) => (recorded = s) }), /injected failure/);
    assert.equal(recorded.cursor, 'p1', 'page 1 recorded, page 2 not');
    let state = await e.persist(recorded);
    for (let n = 0; !state.listingComplete && n < 10; n += 1) state = await e.persist(await e.step(state, clock().bound, STEP));
    const report = await e.finish(state);
    assert.ok(!src.started.includes('b1'), `b1 (current) downloaded again: ${src.started.join(', ')}`);
    assert.equal(report.listed, 5);
    assert.deepEqual(await catalogOf(dest), ['a1:a1:current', 'a2:a2:current', 'b1:b1:current', 'b2:b2:current', 'c1:c1:current']);
  });

  test('the same step run again from its checkpoint in this process does not copy the current assets of the pages it had recorded', async () => {
    // The durable runtime retries a failed step from the step's input (handler.ts retryStrategy),
    // possibly in the same process (the SDK waits for the retry timer: checkpoint.waitForRetryTimer
    // in @aws/durable-execution-sdk-js). Page 1 (a1, a2: current) was recorded by the failed try;
    // the retry lists it again and must still find a1 and a2 in the destination.
    const { dest, src, e } = await changedSecondPage();
    const start = await e.start();
    dest.failPuts.set('_catalog/', 3);
    await assert.rejects(e.step(start, clock().bound, STEP), /injected failure/);
    let state = await e.persist(await e.step(start, clock().bound, STEP));
    for (let n = 0; !state.listingComplete && n < 10; n += 1) state = await e.persist(await e.step(state, clock().bound, STEP));
    const report = await e.finish(state);
    assert.deepEqual(src.started.filter((id) => id !== 'b2'), [], `current assets downloaded again: ${src.started.join(', ')}`);
    assert.equal(report.listed, 5);
    assert.deepEqual(await catalogOf(dest), ['a1:a1:current', 'a2:a2:current', 'b1:b1:current', 'b2:b2:current', 'c1:c1:current']);
  });
});

describe('the twice-cut rule and held pages', () => {
  test('a copy cut off on a held page is not called too large before it had an invocation to itself', async () => {
    // Invocation 1: big (page 1) and z (page 2) both stall and are cut off; page 2 is held, z
    // cut once. Invocation 2: big is its first copy (fresh) and is cut again: too large, as the
    // rule says. z starts beside it, not first, and is cut again: that proves nothing about z
    // (it never had an invocation's full time), so it must be tried again, not failed. Invocation
    // 3: z is the first copy of a fresh invocation and ends.
    const pages = [['a1', 'big'], ['b1', 'z'], ['c1']];
    const dest = new MemoryDestination();
    let state = await cutOffFirst(dest, new ChangingSource(pages, new Set(['big', 'z'])), ['a1', 'b1', 'c1'], ['big', 'z']);
    const second = new ChangingSource(pages, new Set(['big', 'z']));
    const e2 = new BackupEngine(second, dest, options());
    const c = clock();
    const step = e2.step(state, c.bound, STEP);
    await within(Promise.all([second.startedOf('big'), second.startedOf('z')]), 5000, 'big and z starting');
    c.left = 30_000;
    state = await e2.persist(await within(step, 5000, 'the step ending at the stop margin'));
    const { report } = await resume(dest, new ChangingSource(pages, new Set()), state);
    const tooLarge = report.failures.filter((f) => f.error.startsWith('too large')).map((f) => f.publicId);
    assert.deepEqual(tooLarge, ['big'], `reported too large: ${tooLarge.join(', ')}`);
    assert.equal(dest.bytes('image/upload/z.jpg')?.toString(), 'z', 'z is backed up');
    assert.deepEqual(await catalogOf(dest), ['a1:a1:current', 'b1:b1:current', 'big:big:stale', 'c1:c1:current', 'z:z:current']);
  });
});
