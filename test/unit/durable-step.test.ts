/**
 * A durable step without a page barrier (BackupEngine.step as NightlyRun.page calls it):
 * within one step the next page is listed while a slow copy of the page before runs; a step cut
 * off by its time bound records only finished work (the unfinished page keeps the cursor, the
 * finished copies behind it are recorded `ahead`) and the next invocation neither repeats nor
 * loses any of it; the open pages of a step share one byte budget; a step ends where its catalog
 * page closes. In-memory source and destination, a Lambda clock the test sets.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Asset } from '../../lambda/core/asset.ts';
import type { OpenedAsset } from '../../lambda/ports/storage.ts';
import { BackupEngine } from '../../lambda/backup/engine.ts';
import type { RunState } from '../../lambda/backup/engine.ts';
import { aheadId, settledId } from '../../lambda/backup/run-state.ts';
import { Catalog } from '../../lambda/store/catalog.ts';
import { HoldingSource, within } from '../fakes/holding-source.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';
import { STEP, copiedIn, lambdaClock, stepOptions } from '../fakes/step-engine.ts';

const options = stepOptions;
const clock = lambdaClock;

/** The committed catalog, one `publicId:state:sha` line per entry (a duplicate shows twice). */
const catalogOf = async (dest: MemoryDestination): Promise<string[]> => {
  const out: string[] = [];
  for await (const e of new Catalog(dest, '', 0).entries()) out.push(`${e.publicId}:${e.state}:${e.sha256 ? 'sha' : '-'}`);
  return out.sort();
};

describe('a durable step has no page barrier', () => {
  test("a slow copy at the end of page 1 does not hold back page 2's copies within one step", async () => {
    const pages = [['a1', 'big'], ['b1', 'b2'], ['c1']];
    const source = new HoldingSource(pages, new Set(['big']));
    const dest = new MemoryDestination();
    const e = new BackupEngine(source, dest, options());
    const step = e.step(await e.start(), clock().bound, STEP);
    // With a barrier (one page per step, or a step that lists its next page only once the copies
    // of the last one ended) page 2 is listed only after `big` ends, which here is never. 5 s is
    // the verdict, far beyond the milliseconds it takes.
    await within(Promise.all(['b1', 'b2', 'c1'].map((id) => source.startedOf(id))), 5000, 'the next pages starting');
    assert.equal(dest.bytes('image/upload/big.jpg'), undefined, 'big is still held');
    source.release('big');
    const state = await e.persist(await step);
    assert.equal(state.listingComplete, true, 'one step took every page (no catalog page filled)');
    assert.equal(state.counters.copied, 5);
    const report = await e.finish(state);
    assert.equal(report.copied, 5);
    assert.deepEqual(await catalogOf(dest), ['a1', 'b1', 'b2', 'big', 'c1'].map((id) => `${id}:current:sha`));
  });

  test('a step cut off by its time bound records only finished work; the next invocation repeats none of it and loses none', async () => {
    const pages = [['a1', 'big'], ['b1', 'b2'], ['c1']];
    const source = new HoldingSource(pages, new Set(['big']));
    const dest = new MemoryDestination();
    const first = new BackupEngine(source, dest, options());
    const c = clock();
    const step = first.step(await first.start(), c.bound, STEP);
    await copiedIn(dest, ['a1', 'b1', 'b2', 'c1']);
    // The invocation's time runs out with `big` still in flight: the gate cuts it off (its upload
    // is aborted, nothing stored) at the 45 s stop margin.
    c.left = 30_000;
    const checkpoint = await first.persist(await within(step, 5000, 'the step ending at the stop margin'));
    assert.equal(dest.bytes('image/upload/big.jpg'), undefined, 'nothing stored for the cut-off copy');
    // The checkpoint: page 1 unfinished (the cursor stays, a1 done, big cut once); pages 2 and 3
    // finished behind it, recorded without moving the cursor; every recorded entry is in S3.
    assert.equal(checkpoint.listingIndex, 0);
    assert.equal(checkpoint.cursor, undefined);
    assert.deepEqual(checkpoint.page, { done: [settledId('image/upload/a1.jpg')], interrupted: [settledId('image/upload/big.jpg')] });
    assert.deepEqual([...(checkpoint.ahead?.done ?? [])].sort(), ['b1', 'b2', 'c1'].map((id) => aheadId(id, `image/upload/${id}.jpg`)).sort());
    assert.equal(checkpoint.counters.copied, 4, 'the four copies that ended, and not big');
    assert.equal(checkpoint.openEntries, 4, 'their catalog entries are in S3 before the checkpoint');

    // The next invocation: a new process (engine), a fresh clock, nothing held.
    const again = new HoldingSource(pages, new Set());
    const next = new BackupEngine(again, dest, options());
    let state: RunState = checkpoint;
    for (let n = 0; !state.listingComplete && n < 10; n += 1) state = await next.persist(await next.step(state, clock().bound, STEP));
    assert.equal(state.ahead, undefined, 'every page passed: nothing left ahead');
    const report = await next.finish(state);
    assert.deepEqual(again.started, ['big'], 'only the cut-off copy is made again');
    assert.equal(report.copied, 5);
    assert.equal(report.listed, 5);
    assert.deepEqual(await catalogOf(dest), ['a1', 'b1', 'b2', 'big', 'c1'].map((id) => `${id}:current:sha`));
    for (const id of ['a1', 'big', 'b1', 'b2', 'c1']) assert.equal(dest.bytes(`image/upload/${id}.jpg`)?.toString(), id);
  });

  test('the open pages of one step share the byte budget: a retry on page 1 and page 2 never both pass it', async () => {
    // x (30 bytes) fails once, slowly; y (70 bytes, the next page) is listed meanwhile. Budget 100:
    // x's retry (30 more) and y do not both fit; each page checking only its own charges would
    // let both go (130 charged).
    let failed = false;
    class FailOnce extends HoldingSource {
      override async open(a: Asset, signal?: AbortSignal): Promise<OpenedAsset> {
        if (a.publicId === 'x' && !failed) {
          failed = true;
          await new Promise((r) => setTimeout(r, 100));
          throw new Error('connection reset');
        }
        return super.open(a, signal);
      }
    }
    const source = new FailOnce([['x'], ['y']], new Set());
    source.sizes = (id) => (id === 'x' ? 30 : 70);
    const dest = new MemoryDestination();
    const e = new BackupEngine(source, dest, options({ maxBytes: 100 }));
    const state = await e.persist(await e.step(await e.start(), clock().bound, STEP));
    assert.equal(state.listingComplete, true, 'both pages in one step');
    assert.ok(state.plannedBytes <= 100, `charged ${state.plannedBytes} bytes against a budget of 100`);
    assert.ok(state.downloadedBytes <= 100, `downloaded ${state.downloadedBytes}`);
    const report = await e.finish(state);
    assert.equal(report.copied + report.failed + report.remainingToCopy, 2, 'every asset accounted for');
  });

  test('a step ends once a catalog page closes; every entry its checkpoint counts is in a page or its tentative file', async () => {
    // Catalog pages of 3 entries on average (pageBounds: 1 to 12, a boundary one key in 2),
    // listing pages of 2: a boundary comes within the first listing pages, so the step ends
    // there instead of listing the whole account.
    const pages = [['a1', 'a2'], ['b1', 'b2'], ['c1', 'c2'], ['d1'], ['e1', 'e2'], ['f1', 'f2'], ['g1']];
    const source = new HoldingSource(pages, new Set());
    const dest = new MemoryDestination();
    const e = new BackupEngine(source, dest, options({ catalogPageEntries: 3 }));
    const state = await e.persist(await e.step(await e.start(), clock().bound, STEP));
    assert.ok(source.apiCalls < pages.length, `listed ${source.apiCalls} pages`);
    assert.ok(state.pageNo >= 1, 'a catalog page closed');
    const catalog = new Catalog(dest, '');
    let inPages = 0;
    for await (const _ of catalog.readNamed(state.pageHashes ?? [])) inPages += 1;
    let open = 0;
    for await (const _ of catalog.readFile(catalog.openKey(state.runId, state.pageNo), state.openEntries ?? 0)) open += 1;
    assert.equal(inPages, state.catalogEntries);
    assert.equal(inPages + open, state.counters.listed, 'closed pages and the tentative file hold every listed entry');
  });
});
