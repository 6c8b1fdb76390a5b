/**
 * What the command line says, on the cases a new user meets: a mistyped s3 location, a dry run
 * into a folder, a short run in `status`, one asset waiting for a later night, `ls` with tags, and
 * `get` given a file name instead of a public_id.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunReport } from '../../lambda/backup/engine.ts';
import { emptyCounters } from '../../lambda/core/report.ts';
import { ConfigError } from '../../lambda/core/errors.ts';
import { parseTarget } from '../../lambda/entry/compose.ts';
import { lsTable } from '../../lambda/entry/cli/ls-command.ts';
import type { LsRow } from '../../lambda/entry/cli/ls-command.ts';
import { statusText } from '../../lambda/entry/cli/status-command.ts';
import { statusHtml } from '../../lambda/entry/cli/status-html.ts';
import { waitingText } from '../../lambda/entry/cli/status-words.ts';
import { summary } from '../../lambda/entry/cli/ui.ts';
import { nameSuggests } from '../../lambda/store/catalog-query.ts';
import type { FolderedEntry } from '../../lambda/store/catalog-query.ts';
import type { BackupStatus } from '../../lambda/store/status.ts';

test('--to s3//bucket (the colon missing) is refused, not taken for a folder named s3', () => {
  assert.throws(() => parseTarget('s3//my-bucket/cloudinary', '--to'), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /--to "s3\/\/my-bucket\/cloudinary" looks like an S3 location without its colon: write s3:\/\/my-bucket\/cloudinary/);
    return true;
  });
  // A folder that merely starts with s3 is still a folder.
  assert.equal(parseTarget('s3-backups/x', '--to').label, 's3-backups/x');
  assert.equal(parseTarget('./s3//x', '--to').label, './s3//x');
});

const report = (over: Partial<RunReport>): RunReport => ({
  ...emptyCounters(),
  runId: 'r',
  startedAt: '2026-12-01T03:00:00.000Z',
  finishedAt: '2026-12-01T03:00:27.000Z',
  destination: './backup',
  prefix: '',
  dryRun: true,
  listingComplete: true,
  plannedCopies: 3,
  plannedBytes: 3000,
  budgetBytes: null,
  budgetExhausted: false,
  remainingToCopy: 0,
  remainingBytes: 0,
  cloudinaryApiRemaining: null,
  plannedS3Requests: 3,
  bytesDownloaded: 0,
  staleUploadsAborted: 0,
  cancelled: false,
  creditsBefore: null,
  creditLimit: null,
  creditCeiling: null,
  creditsAfterEstimate: null,
  pruneRefused: null,
  metadataFieldsSaved: null,
  failureLogs: [],
  failures: [],
  downloadApiTotal: 0,
  downloadApi: [],
  downloadApiLogs: [],
  stoppedAtDeadline: false,
  ...over,
});

test('a dry run into a folder announces no S3 requests; into S3 it does', () => {
  const folder = summary(report({ destination: './backup' }));
  assert.match(folder, /would copy {2}3 \(.* credits of bandwidth\)/);
  assert.doesNotMatch(folder, /S3/);
  assert.match(summary(report({ destination: 's3://b' })), /credits of bandwidth, 3 S3 write requests\)/);
});

const status = (over: Partial<BackupStatus>): BackupStatus => ({
  target: './backup',
  generatedAt: '2026-12-01T04:00:00.000Z',
  catalog: { runId: 'r', completedAt: '2026-12-01T03:00:27.000Z', entries: 3 },
  restorePoints: [],
  runs: [],
  nights: [],
  totals: [],
  totalAssets: 3,
  totalBytes: 3000,
  waiting: { assets: 0, bytes: 0, staleEntries: 0 },
  lease: { held: false } as BackupStatus['lease'],
  lastRun: null,
  ...over,
});

const run = (durationSeconds: number): BackupStatus['runs'][number] => ({
  runId: `r${durationSeconds}`,
  startedAt: '2026-12-01T03:00:00.000Z',
  finishedAt: '2026-12-01T03:00:27.000Z',
  durationSeconds,
  listed: 3,
  copied: 3,
  bytesCopied: 3000,
  failed: 0,
  deferred: 0,
  creditsBefore: null,
  creditsAfter: null,
  listingComplete: true,
  cancelled: false,
  stoppedAtDeadline: false,
});

test('status shows a 27-second run as "27 s" and a long one in minutes, in the text and the page', () => {
  const s = status({ runs: [run(27), run(840)] });
  const text = statusText(s);
  assert.match(text, /duration/);
  assert.match(text, / 27 s {2}/);
  assert.match(text, / 14 min {2}/);
  assert.doesNotMatch(text, / 0 min/);
  const html = statusHtml(s);
  assert.match(html, /data-field="durationSeconds" data-value="27" class="num">27 s</);
});

test('what waits for a later night is one sentence, one asset counted once', () => {
  const cases: Array<[BackupStatus['waiting'], string]> = [
    [{ assets: 0, bytes: 0, staleEntries: 0 }, 'Nothing is waiting for a later night'],
    [{ assets: 1, bytes: 2000, staleEntries: 0 }, 'Waiting for a later night: 1 asset (2.0 KB) over the byte budget'],
    [{ assets: 1, bytes: 2000, staleEntries: 1 }, 'Waiting for a later night: 1 asset (2.0 KB) over the byte budget; it is backed up at an older version until then'],
    [{ assets: 4, bytes: 2000, staleEntries: 1 }, 'Waiting for a later night: 4 assets (2.0 KB) over the byte budget; 1 of them is backed up at an older version until then'],
    [{ assets: 0, bytes: 0, staleEntries: 2 }, 'Waiting for a later night: 2 assets backed up at an older version until the newest is copied'],
    [{ assets: 1, bytes: 2000, staleEntries: 3 }, 'Waiting for a later night: 1 asset (2.0 KB) over the byte budget, and 3 assets backed up at an older version until the newest is copied'],
  ];
  for (const [w, want] of cases) {
    const got = waitingText(w).replace(/\d+(\.\d+)? ?[kK]i?B/, '2.0 KB');
    assert.equal(got, want, JSON.stringify(w));
    const text = statusText(status({ waiting: w }));
    assert.equal(text.split('\n').filter((l) => /later night/.test(l)).length, 1);
    assert.ok(text.includes(waitingText(w)), text);
  }
});

test('ls shows each asset\'s tags', () => {
  const row = (publicId: string, tags: string[]): LsRow => ({
    publicId, resourceType: 'image', type: 'upload', folder: '', displayName: publicId, format: 'jpg', bytes: 10, version: 1, tags, backedUpAt: null, state: 'current', key: publicId,
  });
  const lines = lsTable([row('a', ['summer', 'sale']), row('b', [])]).split('\n');
  assert.match(lines[0] ?? '', /TAGS$/);
  assert.match(lines[1] ?? '', /summer,sale$/);
  assert.match(lines[2] ?? '', /-$/);
});

test('a file name given for a public_id points to the entries it may mean', () => {
  const entry = (publicId: string, format: string, displayName?: string): FolderedEntry =>
    ({ publicId, format, resourceType: 'image', type: 'upload', tags: [], ...(displayName === undefined ? {} : { displayName }) }) as unknown as FolderedEntry;
  const cases: Array<[string, FolderedEntry, boolean]> = [
    ['Dog photo 1.png', entry('pets/Dog_photo_1_x8kq', 'png'), true], // use_filename with the random suffix
    ['Dog photo 1.png', entry('a1b2c3', 'png', 'Dog photo 1'), true], // dynamic folders: the shown name
    ['dog-photo-1.png', entry('pets/dog_photo_1', 'png'), true],
    ['shoe.jpg', entry('products/shoe', 'jpg'), true],
    ['Dog photo 1.png', entry('pets/cat_photo_1', 'png'), false],
    ['Dog photo 1.png', entry('pets/dog_photo_10', 'png'), false],
    ['.png', entry('x', 'png'), false],
  ];
  for (const [name, e, want] of cases) assert.equal(nameSuggests(name, e), want, `${name} -> ${e.publicId}`);
});
