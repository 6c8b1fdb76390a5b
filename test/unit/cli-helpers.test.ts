import { initialState } from '../../lambda/backup/run-state.ts';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { refusedPart } from '../../lambda/entry/cli/check-cloudinary.ts';
import { isQualifiedFunctionArn, newExecutionName } from '../../lambda/entry/cli/run-command.ts';
import { displayNameOf, folderOf, matches } from '../../lambda/store/catalog-query.ts';
import type { FolderedEntry } from '../../lambda/store/catalog-query.ts';
import { EXECUTION_NAME, executionNameFromArn, progressKey, progressOf } from '../../lambda/store/progress.ts';
import { emptyCounters } from '../../lambda/core/report.ts';
import { nightsOf } from '../../lambda/store/status.ts';
import type { RunRow } from '../../lambda/store/status.ts';

test('a 401 message names the wrong part of CLOUDINARY_URL (real Cloudinary and the fake)', () => {
  const cases: Array<[string, ReturnType<typeof refusedPart>]> = [
    ['Invalid cloud_name Mac', 'cloud'], // real (urre/kap-cloudinary#5)
    ['Unknown API key 123456789012345', 'key'], // real (cloudinary_npm#288)
    ['api_secret mismatch', 'secret'], // real, Admin API
    ['Invalid Signature abc. String to sign - ...', 'secret'], // real, Upload API
    ['Invalid api_key 111', 'key'], // fake
    ['Invalid api_key or api_secret (api_secret mismatch for 111)', 'secret'], // fake
    ['Must supply api_key', undefined],
  ];
  for (const [message, part] of cases) assert.equal(refusedPart(message), part, message);
});

test('only a version or alias ARN counts as qualified', () => {
  const fn = 'arn:aws:lambda:us-east-1:123456789012:function:CloudinaryBackup-Fn';
  assert.equal(isQualifiedFunctionArn(`${fn}:live`), true);
  assert.equal(isQualifiedFunctionArn(`${fn}:7`), true);
  assert.equal(isQualifiedFunctionArn(fn), false);
  assert.equal(isQualifiedFunctionArn('CloudinaryBackup-Fn:live'), false);
  assert.equal(isQualifiedFunctionArn(`${fn}:live/extra`), false);
});

test('execution names fit the Invoke API pattern and are found back in an execution ARN', () => {
  const name = newExecutionName(new Date('2026-11-29T08:41:37.123Z'));
  assert.match(name, /^manual-20261129-084137-[0-9a-f]{6}$/);
  assert.ok(EXECUTION_NAME.test(name));
  const arn = `arn:aws:lambda:us-east-1:123456789012:function:Fn:3/durable-execution/${name}/0a1b2c`;
  assert.equal(executionNameFromArn(arn), name);
  assert.equal(executionNameFromArn('arn:aws:lambda:us-east-1:123456789012:function:Fn:3'), undefined);
  assert.equal(progressKey('cld/', name), `cld/_reports/progress/${name}.json`);
  assert.throws(() => progressKey('cld', '../current'), /not a durable execution name/);
});

test('runs are grouped by the UTC day they started', () => {
  const row = (startedAt: string, copied: number, bytesCopied: number): RunRow => ({
    runId: startedAt, startedAt, finishedAt: startedAt, durationSeconds: 0, listed: 0, copied, bytesCopied,
    failed: 0, deferred: 0, creditsBefore: null, creditsAfter: null, listingComplete: true, cancelled: false, stoppedAtDeadline: false,
  });
  const nights = nightsOf([row('2026-11-28T02:00:00Z', 3, 300), row('2026-11-27T02:00:00Z', 1, 100), row('2026-11-28T23:59:00Z', 2, 50)]);
  assert.deepEqual(nights, [
    { date: '2026-11-27', runs: 1, copied: 1, bytesCopied: 100 },
    { date: '2026-11-28', runs: 2, copied: 5, bytesCopied: 350 },
  ]);
});

test('catalog filters: prefix, tag, folder (asset_folder first, else the public_id path)', () => {
  const entry = (publicId: string, extra: Partial<FolderedEntry> = {}): FolderedEntry => ({
    assetId: publicId, publicId, resourceType: 'image', type: 'upload', format: 'jpg', version: 1, bytes: 1,
    createdAt: '', tags: ['summer'], context: {}, metadata: {}, key: publicId, state: 'current', ...extra,
  });
  const fixed = entry('products/2024/shoe');
  const dynamic = entry('x7f3', { assetFolder: 'Products/Shoes', displayName: 'Red shoe' });
  assert.equal(folderOf(fixed), 'products/2024');
  assert.equal(folderOf(dynamic), 'Products/Shoes');
  assert.equal(displayNameOf(fixed), 'shoe');
  assert.equal(displayNameOf(dynamic), 'Red shoe');
  assert.equal(matches(fixed, { folder: 'products' }), true);
  assert.equal(matches(fixed, { folder: 'products/' }), true);
  assert.equal(matches(fixed, { folder: 'prod' }), false);
  assert.equal(matches(dynamic, { folder: 'Products/Shoes' }), true);
  assert.equal(matches(dynamic, { prefix: 'Products' }), false);
  assert.equal(matches(fixed, { prefix: 'products/20', tag: 'summer' }), true);
  assert.equal(matches(fixed, { tag: 'winter' }), false);
  assert.equal(matches(fixed, { publicId: 'products/2024' }), false);
});

test('the progress of a run state carries its counters, the wait and the end', () => {
  const counters = { ...emptyCounters(), listed: 900, copied: 40, failed: 2, pending: 3, bytesCopied: 4_000_000 };
  const state = {
    ...initialState({ runId: 'r1', startedAt: '', slot: 'a', listingComplete: false, staleUploadsAborted: 0 }),
    listingIndex: 1, pageNo: 2, counters, plannedCopies: 45, budgetExhausted: true, remainingToCopy: 7, remainingBytes: 1,
  };
  const until = new Date('2026-11-29T10:00:00Z');
  const p = progressOf('manual-x', 2, state, { waitingUntil: until }, new Date('2026-11-29T09:00:00Z'));
  assert.deepEqual(p, {
    format: 1, executionName: 'manual-x', runId: 'r1', pagesDone: 2, listed: 900, copied: 40, bytesCopied: 4_000_000, failed: 2,
    pending: 3, deferred: 7, waitingUntil: '2026-11-29T10:00:00.000Z', updatedAt: '2026-11-29T09:00:00.000Z', finished: false,
  });
  assert.equal(progressOf('manual-x', 3, state, { finished: true, error: 'secret missing' }).error, 'secret missing');
});
