/**
 * The durable handler (lambda/entry/handler.ts) under LocalDurableTestRunner, against the
 * Cloudinary fake and s3rver, with a Lambda clock that runs down with the work (WorkClock): the
 * run yields and resumes for real, replaying its completed steps each time. The default margins
 * are used; nothing is set to infinity.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import { keyFor } from '../../lambda/core/keys.ts';
import { TOO_LARGE } from '../../lambda/backup/page.ts';
import { aheadId, settledId } from '../../lambda/backup/run-state.ts';
import type { RunState } from '../../lambda/backup/run-state.ts';
import { createBackupRun } from '../../lambda/entry/handler.ts';
import type { HandlerDeps, RunSummary } from '../../lambda/entry/handler.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { pagesFor, populate } from '../fixtures.ts';
import { s3For, s3Sha } from '../helpers.ts';
import { setupSkipTime, WorkClock } from '../durable-clock.ts';

const BUCKET = 'nightly';

const text = async (s3: S3Client, key: string): Promise<string> =>
  (await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body?.transformToString()) ?? '';

describe('durable handler against the Cloudinary fake and s3rver', () => {
  let s3rver: S3rverHandle;
  let s3: S3Client;
  let shift = 0;

  before(async () => {
    s3rver = await startS3rver([BUCKET]);
    s3 = s3For(s3rver.endpoint);
  });

  // A fresh local durable environment per test: a third execution in one environment never
  // settled here (the process drained its event loop and the test vanished from the report).
  beforeEach(() => setupSkipTime(LocalDurableTestRunner));
  afterEach(() => LocalDurableTestRunner.teardownTestEnvironment());

  after(async () => {
    await s3rver.stop();
  });

  const deps = (fake: CloudinaryFake, prefix: string, extra: Partial<HandlerDeps> = {}): HandlerDeps => ({
    env: { BUCKET_NAME: BUCKET, PREFIX: prefix, SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cld', CONCURRENCY: '8', POWERTOOLS_METRICS_DISABLED: 'true' },
    readSecret: async () => fake.cloudinaryUrl,
    s3Client: () => s3For(s3rver.endpoint),
    ...extra,
  });

  const newFake = async (name: string, opts: { rateLimit?: number; pageSize?: number } = {}): Promise<CloudinaryFake> => {
    const fake = new CloudinaryFake({ cloudName: name, apiKey: 'k1', apiSecret: `s3cr3t-${name}`, now: () => Date.now() + shift, signatureMaxAgeSeconds: Infinity, ...opts });
    await fake.start();
    return fake;
  };

  /** Runs one execution with the work clock; returns it and the clock. */
  const execute = async (fake: CloudinaryFake, d: HandlerDeps, clock: WorkClock, payload: Record<string, unknown> = {}) => {
    const runner = new LocalDurableTestRunner({ handlerFunction: clock.wrap(withDurableExecution(createBackupRun(d))) });
    const execution = await runner.run({ payload });
    assert.equal(execution.getStatus(), 'SUCCEEDED', execution.getStatus() === 'FAILED' ? JSON.stringify(execution.getError()) : '');
    const steps = execution.getOperations().filter((op) => op.getType() === 'STEP');
    assert.ok(steps.length >= 2);
    const largest = Math.max(...steps.map((op) => Buffer.byteLength(JSON.stringify(op.getStepDetails()?.result ?? null), 'utf8')));
    return { execution, result: execution.getResult() as RunSummary, largest };
  };

  const workClock = (fake: CloudinaryFake, msPerByte: number, msPerCall = 2000) =>
    new WorkClock(WorkClock.fromCounters(() => fake.stats.downloadBytes, () => fake.stats.adminCalls, msPerByte, msPerCall));

  test('an empty secret fails with a message that says what to put there; the start step is not retried', async () => {
    const fake = await newFake('empty');
    let reads = 0;
    const d = deps(fake, 'empty', {
      readSecret: async () => {
        reads += 1;
        return 'Xy9generatedRandomValue';
      },
    });
    const runner = new LocalDurableTestRunner({ handlerFunction: withDurableExecution(createBackupRun(d)) });
    const execution = await runner.run({ payload: {} });
    await fake.stop();
    assert.equal(execution.getStatus(), 'FAILED');
    const error = JSON.stringify(execution.getError());
    assert.match(error, /put-secret-value --secret-id arn:aws:secretsmanager/);
    assert.match(error, /cloudinary:\/\/API_KEY:API_SECRET@CLOUD_NAME/);
    assert.doesNotMatch(error, /Xy9generatedRandomValue/, 'the secret value is never echoed');
    assert.equal(reads, 1, 'a ConfigError is final: the secret was read once, the step never retried');
    assert.equal(execution.getInvocations().length, 1);
  });

  test('a page step that fails for good: the execution fails, but the report is written and the lease freed', async () => {
    const fake = await newFake('refused');
    fake.addAsset({ publicId: 'x', bytes: 100 });
    // The secret names the right cloud and key with a wrong API secret: every listing is refused (401).
    const d = deps(fake, 'refused', { readSecret: async () => fake.cloudinaryUrl.replace('s3cr3t-refused', 'wrong-secret') });
    const runner = new LocalDurableTestRunner({ handlerFunction: workClock(fake, 1).wrap(withDurableExecution(createBackupRun(d))) });
    const execution = await runner.run({ payload: {} });
    await fake.stop();
    assert.equal(execution.getStatus(), 'FAILED');
    const reports = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'refused/_reports/' }));
    const reportKey = (reports.Contents ?? []).map((o) => o.Key ?? '').find((k) => /\/_reports\/[^/]+\.json$/.test(k));
    assert.ok(reportKey, 'the failed run wrote its report');
    assert.equal((JSON.parse(await text(s3, reportKey)) as { listingComplete: boolean }).listingComplete, false);
    const lease = JSON.parse(await text(s3, 'refused/_catalog/lease.json')) as { expiresAt: string };
    assert.ok(Date.parse(lease.expiresAt) <= Date.now(), 'the lease was released: the next night is not blocked');
  });

  test('a first backup that needs several invocations yields, resumes and finishes: every asset byte-exact, catalog committed, report written', async (t) => {
    const fake = await newFake('split');
    populate(fake, { images: 700, videos: 30, raw: 20 });
    const backedUp = fake.listAssets().filter((a) => ['upload', 'private', 'authenticated'].includes(a.type));
    const clock = workClock(fake, 1.5);
    // Started as `cloudinary-backup run` starts it: the execution name is in the event.
    const { execution, result, largest } = await execute(fake, deps(fake, 'split'), clock, { trigger: 'cli', executionName: 'manual-test-1' });
    assert.ok(clock.invocations >= 4, `yielded and resumed at least 3 times (ran in ${clock.invocations} invocations)`);
    t.diagnostic(`${clock.invocations} invocations, largest checkpoint ${largest} bytes`);
    assert.equal(execution.getInvocations().length, clock.invocations);
    assert.equal(result.copied, backedUp.length);
    assert.equal(result.failed, 0);
    assert.equal(fake.stats.downloads, backedUp.length, 'no asset downloaded twice');
    assert.ok(largest < 64 * 1024, `largest checkpoint ${largest} bytes`);
    for (const a of backedUp) assert.equal(await s3Sha(s3, BUCKET, keyFor('split', a)), fake.expectedSha256(a), a.publicId);
    const pointer = JSON.parse(await text(s3, 'split/_catalog/current.json')) as { entries: number; runId: string };
    assert.equal(pointer.entries, backedUp.length, 'the catalog is committed with every asset');
    assert.equal(pointer.runId, result.runId);
    const report = JSON.parse(await text(s3, `split/_reports/${result.runId}.json`)) as RunSummary;
    assert.equal(report.copied, backedUp.length);
    assert.deepEqual(await s3rver.openUploads(BUCKET), []);
    const progress = JSON.parse(await text(s3, 'split/_reports/progress/manual-test-1.json')) as { finished: boolean; copied: number; runId: string; pagesDone: number };
    assert.deepEqual([progress.finished, progress.copied, progress.runId], [true, backedUp.length, result.runId], 'run --follow sees the end');
    assert.ok(progress.pagesDone >= clock.invocations - 1);
    const lease = JSON.parse(await text(s3, 'split/_catalog/lease.json')) as { expiresAt: string };
    assert.ok(Date.parse(lease.expiresAt) <= Date.now(), 'the lease was released');

    // The second night: exactly what changed is copied.
    const changed = backedUp.slice(0, 3);
    for (const a of changed) fake.replaceAsset(a.publicId, a.resourceType, a.type, { bytes: a.bytes + 11 });
    fake.resetStats();
    const night2 = await execute(fake, deps(fake, 'split'), workClock(fake, 1.5));
    assert.equal(night2.result.copied, 3);
    assert.equal(night2.result.unchanged, backedUp.length - 3);
    assert.equal(fake.stats.downloads, 3);
    for (const a of changed) {
      const now = fake.getAsset(a.publicId, a.resourceType, a.type);
      assert.ok(now);
      assert.equal(await s3Sha(s3, BUCKET, keyFor('split', now)), fake.expectedSha256(now));
    }
    await fake.stop();
  });

  test('a page of large assets that cannot finish in one invocation completes across invocations, each asset downloaded once', async (t) => {
    const fake = await newFake('large');
    for (let i = 0; i < 6; i += 1) fake.addAsset({ publicId: `clips/${i}`, resourceType: 'video', bytes: 6 * 1024 * 1024 + i });
    // 0.05 ms per byte: one invocation moves about 2.5 of these videos.
    const clock = workClock(fake, 0.05);
    const { result } = await execute(fake, deps(fake, 'large'), clock);
    assert.ok(clock.invocations >= 3, `${clock.invocations} invocations`);
    t.diagnostic(`${clock.invocations} invocations`);
    assert.equal(result.copied, 6);
    assert.equal(fake.stats.downloads, 6, 'each asset downloaded once');
    for (const a of fake.listAssets()) assert.equal(await s3Sha(s3, BUCKET, keyFor('large', a)), fake.expectedSha256(a));
    assert.deepEqual(await s3rver.openUploads(BUCKET), []);
    await fake.stop();
  });

  test('an asset too large for one invocation is reported with the remedy, not retried until the execution times out', async () => {
    const fake = await newFake('huge');
    fake.addAsset({ publicId: 'small', bytes: 1000 });
    fake.addAsset({ publicId: 'feature film', resourceType: 'video', bytes: 20 * 1024 * 1024 });
    // 0.05 ms per byte: the 20 MiB film needs ~1,050 s, more than an invocation has.
    const clock = workClock(fake, 0.05);
    const { result } = await execute(fake, deps(fake, 'huge'), clock);
    assert.equal(result.copied, 1);
    assert.equal(result.failed, 1);
    assert.equal(result.failures[0]?.publicId, 'feature film');
    assert.equal(result.failures[0]?.error, TOO_LARGE);
    assert.ok(fake.stats.downloads <= 3, `the film was tried ${fake.stats.downloads - 1} times`);
    assert.deepEqual(await s3rver.openUploads(BUCKET), []);
    await fake.stop();
  });

  test('2,000 failing assets with 1 KB public_ids: the run succeeds, every failure is in S3, checkpoints stay small', async (t) => {
    const fake = await newFake('failing');
    const long = (i: number): string => `${String(i).padStart(4, '0')}${'𝄞'.repeat(251)}`; // 255 characters, 1,008 bytes
    for (let i = 0; i < 2000; i += 1) {
      const a = fake.addAsset({ publicId: long(i), bytes: 100 });
      fake.failDownload(a.publicId, 404, { persistent: true });
    }
    const { result, largest } = await execute(fake, deps(fake, 'failing'), workClock(fake, 1));
    assert.equal(result.failed, 2000);
    assert.ok(result.failures.length <= 20, 'the execution result carries a bounded sample');
    assert.ok(largest < 64 * 1024, `largest checkpoint ${largest} bytes`);
    t.diagnostic(`largest checkpoint ${largest} bytes`);
    const report = JSON.parse(await text(s3, `failing/_reports/${result.runId}.json`)) as { failures: { publicId: string }[]; failureLogs: string[] };
    const logged: string[] = [];
    for (const key of report.failureLogs) for (const line of (await text(s3, key)).split('\n')) if (line) logged.push((JSON.parse(line) as { publicId: string }).publicId);
    assert.equal(new Set(logged).size, 2000, 'every failure is in the failure log in S3');
    assert.ok(logged.includes(long(1999)));
    await fake.stop();
  });
  /** The committed catalog as the pointer names it: page n is the file named hashes[n] (format 3). */
  const committed = async (prefix: string) => {
    const ptr = JSON.parse(await text(s3, `${prefix}/_catalog/current.json`)) as { format: number; pages: number; hashes: string[]; points: Array<{ runId: string }> };
    assert.equal(ptr.format, 3);
    const entries = new Map<string, { version: number; sha256?: string }>();
    for (let p = 0; p < ptr.pages; p += 1) {
      for (const line of (await text(s3, `${prefix}/_catalog/pages/${ptr.hashes[p]}.jsonl`)).split('\n')) {
        if (!line) continue;
        const e = JSON.parse(line) as { key: string; version: number; sha256?: string };
        assert.ok(!entries.has(e.key), `${e.key} twice in the catalog`);
        entries.set(e.key, e);
      }
    }
    return { ptr, entries };
  };

  test('nights across many invocations: an unchanged catalog page is referenced, never lost; a changed one is written under its new name', async (t) => {
    // 40 assets per listing page; catalog pages of 40 entries on average, cut where a key's hash
    // says (lambda/core/page-bounds.ts: 10 to 160 entries), so the 200 entries make at least two
    // pages whatever the fixture's names. 300 s per Admin API call: an invocation lists ~3 pages,
    // so steps end with a catalog page open and the next invocation (a new process) reads its
    // tentative file back.
    const fake = await newFake('pages', { pageSize: 40 });
    t.after(() => fake.stop());
    populate(fake, { images: 150, videos: 30, raw: 20 });
    const backedUp = fake.listAssets().filter((a) => ['upload', 'private', 'authenticated'].includes(a.type));
    const d = deps(fake, 'pages', { catalogPageEntries: 40 });
    const check = async (night: string) => {
      const c = await committed('pages');
      for (const a of backedUp) {
        const now = fake.getAsset(a.publicId, a.resourceType, a.type);
        assert.equal(c.entries.get(keyFor('pages', a))?.version, now?.version, `${night}: entry of ${a.publicId}`);
      }
      assert.equal(c.entries.size, backedUp.length, `${night}: no entry lost, none added`);
      return c;
    };
    await execute(fake, d, workClock(fake, 0.001));
    const night1 = await check('night 1');
    assert.ok(night1.ptr.pages >= 2, `${night1.ptr.pages} catalog pages`);

    const clock2 = workClock(fake, 0.001, 300_000);
    const night2 = await execute(fake, d, clock2);
    assert.ok(clock2.invocations >= 3, `night 2 ran in ${clock2.invocations} invocations`);
    assert.equal(night2.result.unchanged, backedUp.length);
    const after2 = await check('night 2');
    assert.deepEqual(after2.ptr.hashes, night1.ptr.hashes, 'every page of night 1 named again, none written');
    t.diagnostic(`night 2: ${clock2.invocations} invocations, ${after2.ptr.pages} pages`);

    // Night 3: one asset changes; only the pages around it get new names (written), the others are night 2's.
    const changed = backedUp[backedUp.length - 1];
    assert.ok(changed);
    fake.replaceAsset(changed.publicId, changed.resourceType, changed.type, { bytes: changed.bytes + 7 });
    const night3 = await execute(fake, d, workClock(fake, 0.001, 300_000));
    assert.equal(night3.result.copied, 1);
    const after3 = await check('night 3');
    const known = new Set(after2.ptr.hashes);
    const written = after3.ptr.hashes.filter((h) => !known.has(h));
    assert.ok(written.length >= 1 && written.length <= 2, `${written.length} of ${after3.ptr.pages} pages new`);
    // Every night of the durable run is a restore point, newest first, each manifest in S3.
    assert.equal(after3.ptr.points.length, 3);
    for (const p of after3.ptr.points) assert.equal((JSON.parse(await text(s3, `pages/_catalog/points/${p.runId}.json`)) as { runId: string }).runId, p.runId);
  });

  test('a step cut off mid-pipeline by the end of its invocation checkpoints only finished work; the run completes and commits each asset once', async (t) => {
    // Listing pages of 4 (the fake lists newest first): page 1 is i11..i8, and i8, at its end, is
    // a 3 MiB image whose download stalls after 256 KiB (stallDownload: headers and some bytes,
    // then nothing). Pages 2 and 3 are listed and copied meanwhile (no page barrier). Once their
    // objects are in S3, the Lambda clock jumps to 30 s left: below the 45 s stop margin, so the
    // step cuts i8 off, records page 1 unfinished and pages 2-3 behind it, and the invocation ends.
    const fake = await newFake('cutoff', { pageSize: 4 });
    t.after(() => fake.stop());
    const ids = Array.from({ length: 12 }, (_, i) => `i${String(i).padStart(2, '0')}`);
    for (const id of ids) fake.addAsset({ publicId: id, bytes: id === 'i08' ? 3 * 1024 * 1024 : 100 * 1024 });
    fake.stallDownload('i08', { afterBytes: 256 * 1024 });
    const assets = fake.listAssets();
    const small = assets.filter((a) => a.publicId !== 'i08');
    let jump = 0;
    const clock = new WorkClock(() => fake.stats.downloadBytes * 0.001 + fake.stats.adminCalls * 2000 + jump);
    let running = true;
    const watcher = (async () => {
      for (; running; await new Promise((r) => setTimeout(r, 50))) {
        const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'cutoff/image/upload/' }));
        const have = new Set((listed.Contents ?? []).map((o) => o.Key));
        if (small.every((a) => have.has(keyFor('cutoff', a)))) {
          // Their copies resolve right after S3 answered; then the end of the invocation comes.
          await new Promise((r) => setTimeout(r, 500));
          jump += clock.left() - 30_000;
          return;
        }
      }
    })();
    let run;
    try {
      run = await execute(fake, deps(fake, 'cutoff'), clock);
    } finally {
      running = false;
      await watcher;
    }
    const { execution, result } = run;
    assert.ok(clock.invocations >= 2, `${clock.invocations} invocations`);
    // The first page step's checkpoint: finished work only, every entry of it in S3.
    const first = execution.getOperations().find((op) => op.getType() === 'STEP' && op.getName() === 'page-0');
    const cp = (first?.getStepDetails()?.result as { state: RunState } | undefined)?.state;
    assert.ok(cp, 'the page-0 step has a result');
    const id = (a: { publicId: string; resourceType: string; type: string; format: string }) => settledId(keyFor('cutoff', a as Parameters<typeof keyFor>[1]));
    const big = assets.find((a) => a.publicId === 'i08');
    assert.ok(big);
    assert.deepEqual(cp.page?.interrupted, [id(big)], 'i08 cut off, its page keeps the cursor');
    assert.ok(!(cp.page?.done ?? []).includes(id(big)) && !(cp.ahead?.done ?? []).includes(aheadId(big.assetId, keyFor('cutoff', big))), 'the cut-off copy is not recorded as done');
    assert.equal((cp.page?.done.length ?? 0) + (cp.ahead?.done.length ?? 0), 11, 'the 11 finished copies are recorded');
    assert.equal(cp.ahead?.done.length, 8, 'pages 2 and 3, finished behind the unfinished page 1');
    assert.equal(cp.counters.copied, 11);
    assert.equal(cp.openEntries, 11, 'their catalog entries were in S3 before the checkpoint');
    t.diagnostic(`${clock.invocations} invocations; first checkpoint: ${cp.page?.done.length} done on page 1, ${cp.ahead?.done.length} ahead`);
    // The run: every asset copied, the small ones once, i08 twice (cut once); each in the catalog once.
    assert.equal(result.copied, 12);
    assert.equal(result.failed, 0);
    assert.equal(fake.stats.downloads, 13, 'only the cut-off copy was made again');
    const c = await committed('cutoff');
    assert.equal(c.entries.size, 12);
    for (const a of assets) {
      assert.equal(c.entries.get(keyFor('cutoff', a))?.sha256, fake.expectedSha256(a), a.publicId);
      assert.equal(await s3Sha(s3, BUCKET, keyFor('cutoff', a)), fake.expectedSha256(a), a.publicId);
    }
    assert.deepEqual(await s3rver.openUploads(BUCKET), []);
  });

  // Last: the time-skipped hour of this test leaves the process clock ahead (s3rver then
  // refuses signatures as RequestTimeTooSkewed).
  test('a run that reaches the Admin API reserve waits (time-skipped) and finishes with every asset copied', async () => {
    const fake = await newFake('reserve', { rateLimit: 4 });
    populate(fake, { images: 700, videos: 30, raw: 20 });
    // Signed downloads (private, authenticated) are Admin API calls too: with a 4-call
    // hour the Lambda defers them as pending; this test is about listing waits, so only public ones.
    for (const a of fake.listAssets()) if (a.type === 'private' || a.type === 'authenticated') fake.deleteAsset(a.publicId, a.resourceType, a.type);
    const backedUp = fake.listAssets().filter((a) => ['upload', 'private', 'authenticated'].includes(a.type));
    let waits = 0;
    const d = deps(fake, 'reserve', {
      onWait: (until) => {
        waits += 1;
        shift = until.getTime() - Date.now() + 1000; // the hour passes
      },
    });
    const { result } = await execute(fake, d, workClock(fake, 0.01));
    assert.ok(waits >= 1, 'the reserve of 10% of a 4-call hourly limit forces at least one wait');
    assert.equal(result.copied, backedUp.length);
    assert.equal(result.failed, 0);
    assert.equal(result.cloudinaryApiCalls, pagesFor(fake) + 1, 'listing pages and the metadata-field definitions');
    for (const a of backedUp.slice(0, 60)) assert.equal(await s3Sha(s3, BUCKET, keyFor('reserve', a)), fake.expectedSha256(a));
    const reports = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'reserve/_reports/' }));
    assert.equal(reports.KeyCount, 1, 'the run wrote its JSON report under _reports/');
    shift = 0;
    await fake.stop();
  });
});
