/**
 * The diff (lambda/core/plan.ts), against docs/architecture.md "When is an asset copied?": copy when the key is
 * missing, when the stored size differs from `bytes`, or when `version` differs from the version
 * recorded when the object was written; only without a record, when `version` (Unix seconds) is
 * later than the stored last-modified time; remote delivery types are skipped.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Asset, StoredObject } from '../../lambda/core/asset.ts';
import { decide, planPage } from '../../lambda/core/plan.ts';
import type { Decision } from '../../lambda/core/plan.ts';

/** Upload time of the test assets: 2023-11-14T22:13:20Z. */
const T = 1_700_000_000;

const makeAsset = (over: Partial<Asset> = {}): Asset => ({
  assetId: 'a1b2c3',
  publicId: 'folder/cat',
  resourceType: 'image',
  type: 'upload',
  format: 'jpg',
  version: T,
  bytes: 1000,
  createdAt: new Date(T * 1000).toISOString(),
  secureUrl: 'https://res.cloudinary.com/demo/image/upload/v1700000000/folder/cat.jpg',
  tags: [],
  context: {},
  metadata: {},
  ...over,
});

const stored = (size: number, lastModifiedMs: number, key = 'k'): StoredObject => ({
  key,
  size,
  lastModified: new Date(lastModifiedMs),
});

const COPY_MISSING: Decision = { action: 'copy', reason: 'missing' };
const COPY_SIZE: Decision = { action: 'copy', reason: 'size' };
const COPY_VERSION: Decision = { action: 'copy', reason: 'version' };
const UNCHANGED: Decision = { action: 'unchanged' };

describe('decide', () => {
  const cases: ReadonlyArray<{ name: string; asset: Asset; stored: StoredObject | undefined; expected: Decision }> = [
    { name: 'missing', asset: makeAsset(), stored: undefined, expected: COPY_MISSING },
    { name: 'missing, private', asset: makeAsset({ type: 'private' }), stored: undefined, expected: COPY_MISSING },
    { name: 'missing, authenticated', asset: makeAsset({ type: 'authenticated' }), stored: undefined, expected: COPY_MISSING },
    { name: 'missing, raw', asset: makeAsset({ resourceType: 'raw', format: '' }), stored: undefined, expected: COPY_MISSING },
    { name: 'stored is smaller (truncated copy)', asset: makeAsset(), stored: stored(999, (T + 3600) * 1000), expected: COPY_SIZE },
    { name: 'stored is larger', asset: makeAsset(), stored: stored(1001, (T + 3600) * 1000), expected: COPY_SIZE },
    { name: 'stored is empty', asset: makeAsset(), stored: stored(0, (T + 3600) * 1000), expected: COPY_SIZE },
    { name: 'same size, version 1 s later than the copy', asset: makeAsset(), stored: stored(1000, (T - 1) * 1000), expected: COPY_VERSION },
    { name: 'same size, version 1 ms later than the copy', asset: makeAsset(), stored: stored(1000, T * 1000 - 1), expected: COPY_VERSION },
    { name: 'same size, version a day later', asset: makeAsset({ version: T + 86_400 }), stored: stored(1000, T * 1000), expected: COPY_VERSION },
    { name: 'same size, copied an hour after the upload', asset: makeAsset(), stored: stored(1000, (T + 3600) * 1000), expected: UNCHANGED },
    { name: 'same size, version exactly the last-modified second', asset: makeAsset(), stored: stored(1000, T * 1000), expected: UNCHANGED },
    { name: 'same size, copied later within the same second', asset: makeAsset(), stored: stored(1000, T * 1000 + 999), expected: UNCHANGED },
    { name: 'empty asset, empty copy', asset: makeAsset({ bytes: 0 }), stored: stored(0, (T + 1) * 1000), expected: UNCHANGED },
    { name: 'private, current', asset: makeAsset({ type: 'private' }), stored: stored(1000, (T + 5) * 1000), expected: UNCHANGED },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(decide(c.asset, c.stored), c.expected);
    });
  }

  // The record made when the object was written wins over the clocks.
  const recordedCases: ReadonlyArray<{ name: string; asset: Asset; stored: StoredObject; recorded: { version: number; current: boolean }; expected: Decision }> = [
    {
      name: 'destination clock 10 minutes ahead, same-size replacement: the recorded version differs',
      asset: makeAsset({ version: T + 60 }),
      stored: stored(1000, (T + 600) * 1000),
      recorded: { version: T, current: true },
      expected: COPY_VERSION,
    },
    {
      name: 'folder file with a future mtime, version recorded differs',
      asset: makeAsset({ version: T + 1 }),
      stored: stored(1000, Date.UTC(2099, 0, 1)),
      recorded: { version: T, current: true },
      expected: COPY_VERSION,
    },
    {
      name: 'destination clock behind: version later than the copy, but the record says it is this version',
      asset: makeAsset(),
      stored: stored(1000, (T - 3600) * 1000),
      recorded: { version: T, current: true },
      expected: UNCHANGED,
    },
    {
      name: 'the recorded version was listed but never copied (stale)',
      asset: makeAsset(),
      stored: stored(1000, (T + 3600) * 1000),
      recorded: { version: T, current: false },
      expected: COPY_VERSION,
    },
    {
      name: 'a record never hides a size difference',
      asset: makeAsset(),
      stored: stored(999, (T + 3600) * 1000),
      recorded: { version: T, current: true },
      expected: COPY_SIZE,
    },
  ];
  for (const c of recordedCases) {
    test(c.name, () => {
      assert.deepEqual(decide(c.asset, c.stored, c.recorded), c.expected);
    });
  }

  const remoteTypes = ['fetch', 'twitter', 'twitter_name', 'facebook', 'gravatar', 'youtube', 'vimeo', 'instagram', 'hulu'];
  const storedStates: ReadonlyArray<readonly [string, StoredObject | undefined]> = [
    ['missing', undefined],
    ['size differs', stored(1, (T + 3600) * 1000)],
    ['older than version', stored(1000, (T - 3600) * 1000)],
    ['current', stored(1000, (T + 3600) * 1000)],
  ];
  for (const type of remoteTypes) {
    test(`remote type "${type}" is skipped whatever is stored`, () => {
      for (const [, s] of storedStates) {
        const d = decide(makeAsset({ type, publicId: 'https://example.com/x.jpg' }), s);
        assert.equal(d.action, 'skip');
        assert.ok(d.action === 'skip' && d.reason.includes(type), 'the reason names the delivery type');
      }
    });
  }
});

describe('planPage', () => {
  const assets: Asset[] = [
    makeAsset({ publicId: 'new one' }),
    makeAsset({ publicId: 'resized', bytes: 2000 }),
    makeAsset({ publicId: 'replaced', version: T + 600 }),
    makeAsset({ publicId: 'same' }),
    makeAsset({ publicId: 'docs/notes.txt', resourceType: 'raw', format: '', type: 'private' }),
    makeAsset({ publicId: 'https://example.com/remote.jpg', type: 'fetch' }),
    makeAsset({ publicId: 'someone', type: 'twitter' }),
  ];
  // Keys written out from the key rule, not computed with keyFor.
  const inventory = new Map<string, StoredObject>(
    [
      stored(1000, (T + 60) * 1000, 'nightly/image/upload/resized.jpg'),
      stored(1000, (T + 60) * 1000, 'nightly/image/upload/replaced.jpg'),
      stored(1000, (T + 60) * 1000, 'nightly/image/upload/same.jpg'),
      stored(1000, (T + 60) * 1000, 'nightly/raw/private/docs/notes.txt'),
      // Present, yet a remote type must still be skipped.
      stored(1000, (T + 60) * 1000, 'nightly/image/fetch/https:/example.com/remote.jpg'),
    ].map((s) => [s.key, s]),
  );
  const expected: ReadonlyArray<readonly [string, Decision | 'skip']> = [
    ['nightly/image/upload/new one.jpg', COPY_MISSING],
    ['nightly/image/upload/resized.jpg', COPY_SIZE],
    ['nightly/image/upload/replaced.jpg', COPY_VERSION],
    ['nightly/image/upload/same.jpg', UNCHANGED],
    ['nightly/raw/private/docs/notes.txt', UNCHANGED],
    ['', 'skip'],
    ['nightly/image/twitter/someone.jpg', 'skip'],
  ];
  for (const prefix of ['nightly', '/nightly/']) {
    test(`one page against an inventory, prefix ${JSON.stringify(prefix)}`, () => {
      const planned = planPage(prefix, assets, (key) => inventory.get(key));
      assert.equal(planned.length, assets.length);
      planned.forEach((p, i) => {
        const [key, decision] = expected[i] ?? ['', UNCHANGED];
        assert.equal(p.asset, assets[i], 'order and identity kept');
        if (decision === 'skip') {
          assert.equal(p.decision.action, 'skip', p.asset.publicId);
        } else {
          assert.equal(p.key, key);
          assert.deepEqual(p.decision, decision, p.asset.publicId);
        }
      });
    });
  }
  test('an empty page plans nothing', () => {
    assert.deepEqual(planPage('nightly', [], () => undefined), []);
  });
});
