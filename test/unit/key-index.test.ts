/**
 * KeyIndex (lambda/backup/key-index.ts): the previous catalog and the destination's inventory of
 * one run in one compact table. It must answer exactly what the two Maps it replaced
 * answered: the plan (core/plan.ts) and finish() decide from these records.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { KeyIndex } from '../../lambda/backup/key-index.ts';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('previous catalog', () => {
  test('gives back each record as set; nothing for an unknown key', () => {
    const ix = new KeyIndex();
    ix.setPrevious('p/image/upload/a.jpg', { version: 1_700_000_001, current: true, resourceType: 'image', sha256: sha('a') });
    ix.setPrevious('p/video/upload/b.mp4', { version: 1_700_000_002, current: false, resourceType: 'video' });
    assert.deepEqual(ix.previous.get('p/image/upload/a.jpg'), { version: 1_700_000_001, current: true, resourceType: 'image', sha256: sha('a') });
    assert.deepEqual(ix.previous.get('p/video/upload/b.mp4'), { version: 1_700_000_002, current: false, resourceType: 'video' });
    assert.equal(ix.previous.get('p/raw/upload/c'), undefined);
    assert.equal(ix.previous.has('p/video/upload/b.mp4'), true);
    assert.equal(ix.previous.has('p/raw/upload/c'), false);
  });

  test('a sha256 that is not 64 lower-case hex digits is kept as it was written', () => {
    const ix = new KeyIndex();
    const odd = sha('x').toUpperCase();
    ix.setPrevious('k', { version: 1, current: true, resourceType: 'raw', sha256: odd });
    assert.equal(ix.previous.get('k')?.sha256, odd);
  });

  test('the last entry for a key wins, its sha256 included (as Map.set did)', () => {
    const ix = new KeyIndex();
    ix.setPrevious('k', { version: 1, current: true, resourceType: 'image', sha256: sha('1') });
    ix.setPrevious('k', { version: 2, current: false, resourceType: 'image' });
    assert.deepEqual(ix.previous.get('k'), { version: 2, current: false, resourceType: 'image' });
    assert.deepEqual(ix.previous.counts(), { types: new Set(['image']), currentByType: new Map(), currentTotal: 0 });
  });

  test('counts() covers the catalog entries only, not keys known from the inventory alone', () => {
    const ix = new KeyIndex();
    ix.setPrevious('a', { version: 1, current: true, resourceType: 'image' });
    ix.setStored({ key: 'b', size: 5, lastModified: new Date(0) });
    assert.deepEqual(ix.previous.counts(), { types: new Set(['image']), currentByType: new Map([['image', 1]]), currentTotal: 1 });
    assert.equal(ix.previous.has('b'), false);
  });

  test('counts(): every type (deleted and stale entries too), current entries per type, as the records say', () => {
    const ix = new KeyIndex();
    const entries = [
      { key: 'i1', version: 1, current: true, resourceType: 'image' },
      { key: 'v1', version: 2, current: false, resourceType: 'video' },
      { key: 'i2', version: 3, current: true, resourceType: 'image' },
      { key: 'r1', version: 4, current: true, resourceType: 'raw' },
      { key: 'i3', version: 5, current: false, resourceType: 'image' },
    ];
    ix.setStored({ key: 'only-stored', size: 1, lastModified: new Date(0) });
    for (const { key, ...e } of entries) ix.setPrevious(key, e);
    // What finish() counted before, from a record per entry.
    const records = entries.map((e) => ix.previous.get(e.key) as NonNullable<ReturnType<typeof ix.previous.get>>);
    const currentByType = new Map<string, number>();
    for (const r of records) if (r.current) currentByType.set(r.resourceType, (currentByType.get(r.resourceType) ?? 0) + 1);
    const c = ix.previous.counts();
    assert.deepEqual(c.types, new Set(records.map((r) => r.resourceType)));
    assert.deepEqual(new Map([...c.currentByType].sort()), new Map([...currentByType].sort()));
    assert.equal(c.currentTotal, records.filter((r) => r.current).length);
  });

  test('recorded() is get() without the sha256: what the diff rule reads', () => {
    const ix = new KeyIndex();
    ix.setPrevious('a', { version: 9, current: true, resourceType: 'image', sha256: sha('a') });
    ix.setPrevious('b', { version: 8, current: false, resourceType: 'raw' });
    ix.setStored({ key: 'c', size: 1, lastModified: new Date(0) });
    for (const k of ['a', 'b']) {
      const { version, current } = ix.previous.get(k) as NonNullable<ReturnType<typeof ix.previous.get>>;
      assert.deepEqual(ix.previous.recorded(k), { version, current });
    }
    assert.equal(ix.previous.recorded('c'), undefined, 'an object without a catalog entry has no record');
    assert.equal(ix.previous.recorded('d'), undefined);
  });
});

describe('inventory', () => {
  test('gives back size and last-modified; delete() takes a key out of get() and keys() once', () => {
    const ix = new KeyIndex();
    const when = new Date('2026-11-01T10:00:00.123Z');
    ix.setStored({ key: 'a', size: 123_456_789_012, lastModified: when });
    ix.setStored({ key: 'b', size: 0, lastModified: when });
    ix.setPrevious('c', { version: 3, current: true, resourceType: 'raw' });
    assert.deepEqual(ix.inventory.get('a'), { key: 'a', size: 123_456_789_012, lastModified: when });
    assert.deepEqual([...ix.inventory.keys()].sort(), ['a', 'b']);
    assert.equal(ix.inventory.delete('a'), true);
    assert.equal(ix.inventory.delete('a'), false);
    assert.equal(ix.inventory.get('a'), undefined);
    assert.deepEqual([...ix.inventory.keys()], ['b']);
    assert.equal(ix.inventory.get('c'), undefined, 'a catalog entry is not an object the destination holds');
  });

  test('a key in both keeps both records, and deleting it from the inventory keeps the catalog entry', () => {
    const ix = new KeyIndex();
    ix.setStored({ key: 'k', size: 9, lastModified: new Date(5) });
    ix.setPrevious('k', { version: 7, current: true, resourceType: 'video', sha256: sha('k') });
    assert.deepEqual(ix.inventory.get('k'), { key: 'k', size: 9, lastModified: new Date(5) });
    ix.inventory.delete('k');
    assert.deepEqual(ix.previous.get('k'), { version: 7, current: true, resourceType: 'video', sha256: sha('k') });
  });
});

test('records survive the table growing (thousands of keys, past every resize)', () => {
  const ix = new KeyIndex();
  const n = 5_000;
  const types = ['image', 'video', 'raw'];
  for (let i = 0; i < n; i += 1) {
    ix.setPrevious(`k${i}`, { version: i, current: i % 2 === 0, resourceType: types[i % 3] as string, sha256: sha(String(i)) });
    ix.setStored({ key: `k${i}`, size: i * 10, lastModified: new Date(i * 1000) });
  }
  for (const i of [0, 1, 1023, 1024, 2047, 2048, n - 1]) {
    assert.deepEqual(ix.previous.get(`k${i}`), { version: i, current: i % 2 === 0, resourceType: types[i % 3], sha256: sha(String(i)) });
    assert.deepEqual(ix.inventory.get(`k${i}`), { key: `k${i}`, size: i * 10, lastModified: new Date(i * 1000) });
  }
  assert.equal(ix.previous.counts().currentTotal, Math.ceil(n / 2));
  assert.equal([...ix.inventory.keys()].length, n);
  assert.deepEqual(new Set(ix.inventory.keys()), new Set(Array.from({ length: n }, (_, i) => `k${i}`)));
});
