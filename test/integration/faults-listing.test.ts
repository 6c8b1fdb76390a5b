/**
 * Listing faults (docs/failures.md, "Listing"): 500/502/503 retried with
 * backoff, 420/429 "Try again on ..." waited out, malformed JSON retried, a next_cursor that
 * repeats detected, and a listing that fails for good ends the run without pruning anything.
 * The fake serves pages of 4 so that a handful of assets make several pages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FakeAsset } from '../fakes/cloudinary-fake.ts';
import { FaultRig } from '../fault-rig.ts';

describe('listing faults (s3rver, pages of 4)', () => {
  let rig: FaultRig;
  let doomed: FakeAsset;

  before(async () => {
    rig = await FaultRig.start('s3', { pageSize: 4 });
    for (let i = 0; i < 10; i += 1) rig.fake.addAsset({ publicId: `ls/img ${i}`, bytes: 1000 + i, version: 1_700_000_000 });
    for (let i = 0; i < 2; i += 1) rig.fake.addAsset({ publicId: `ls/doc ${i}.txt`, resourceType: 'raw', bytes: 500, version: 1_700_000_000 });
    doomed = rig.fake.addAsset({ publicId: 'ls/deleted later', bytes: 700, version: 1_700_000_000 });
    const first = await rig.backup();
    assert.equal(first.result.code, 0, first.result.stderr);
    // From now on the backup holds an asset Cloudinary no longer has: a pruning run would delete it.
    rig.fake.deleteAsset(doomed.publicId);
  });

  after(() => rig.stop());

  const listingCalls = (): number => rig.fake.stats.listingCalls;
  /** Listing pages of one full run (see the first test). */
  const PAGES = 11;

  test('500, 502 and 503 in the middle of the listing are retried with backoff; the run completes', async () => {
    rig.fake.resetStats();
    rig.fake.failNextListing(500, { after: 1 });
    rig.fake.failNextListing(502, { after: 1 });
    rig.fake.failNextListing(503, { after: 1 });
    const run = await rig.backup();
    assert.equal(run.result.code, 0, run.result.stderr);
    assert.equal(run.report?.listingComplete, true);
    assert.equal(run.report?.unchanged, 12);
    // Each of image, video and raw is listed per delivery type (upload, private, authenticated):
    // image/upload 3 pages, the other 8 listings 1 page each -> 11 pages, plus one retry per fault.
    assert.equal(listingCalls(), PAGES + 3);
    assert.equal(run.report?.cloudinaryApiCalls, PAGES + 3 + 1, 'and the metadata-field definitions');
    await rig.rerunComplete();
  });

  test('420 and 429 with "Try again on ..." are waited out, then the run completes', async () => {
    rig.fake.resetStats();
    // "Try again on" has whole seconds: 1.6 s after the fault makes a wait of 0.6 to 1.6 s.
    rig.fake.failNextListing(420, { after: 1, retryInMs: 1600 });
    rig.fake.failNextListing(429, { after: 1, retryInMs: 1600 });
    const run = await rig.backup();
    assert.equal(run.result.code, 0, run.result.stderr);
    assert.equal(run.report?.listingComplete, true);
    assert.match(run.result.stderr, /Cloudinary rate limit \(HTTP 420\): waiting until/);
    assert.match(run.result.stderr, /Cloudinary rate limit \(HTTP 429\): waiting until/);
    assert.ok(run.ms >= 1200, `the run waited (${run.ms} ms)`);
    assert.equal(listingCalls(), PAGES + 2);
    await rig.rerunComplete();
  });

  test('malformed JSON on the listing is retried; the run completes', async () => {
    rig.fake.malformedListingOnce();
    const run = await rig.backup();
    assert.equal(run.result.code, 0, run.result.stderr);
    assert.equal(run.report?.listingComplete, true);
    await rig.rerunComplete();
  });

  test('a next_cursor that repeats stops the listing: no endless loop, nothing pruned, reported', async () => {
    rig.fake.resetStats();
    rig.fake.repeatCursorOnce();
    const run = await rig.backup(['--prune']);
    assert.equal(run.result.code, 1);
    assert.match(run.result.stderr, /next_cursor it had already given/);
    assert.equal(run.report?.listingComplete, false, 'the report says the listing did not finish');
    assert.equal(run.report?.pruned, 0);
    assert.ok(listingCalls() <= 3, `${listingCalls()} listing calls`);
    assert.ok(await rig.sha(rig.keyOf(doomed)), 'the backup of the deleted asset is still there');
    const reports = (await rig.keys()).filter((k) => k.startsWith(rig.root('_reports/')));
    const written = JSON.parse(await rig.text(reports.at(-1)!)) as { listingComplete: boolean };
    assert.equal(written.listingComplete, false, 'the report under _reports/ says so too');
    await rig.rerunComplete();
  });

  test('a listing that fails for good (a wait longer than allowed) ends the run: nothing pruned, reported', async () => {
    rig.fake.failNextListing(420, { after: 2, retryAt: Date.now() + 5 * 3600_000 });
    const pointer = await rig.text(rig.root('_catalog/current.json'));
    const run = await rig.backup(['--prune']);
    assert.equal(run.result.code, 1);
    assert.match(run.result.stderr, /longer than allowed/);
    assert.equal(run.report?.listingComplete, false);
    assert.equal(run.report?.pruned, 0);
    assert.ok(await rig.sha(rig.keyOf(doomed)), 'the backup of the deleted asset is still there');
    assert.equal(await rig.text(rig.root('_catalog/current.json')), pointer, 'the catalog stays as it was');
    await rig.rerunComplete();
  });
});
