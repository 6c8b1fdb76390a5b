/**
 * Where catalog pages end (lambda/core/page-bounds.ts): bounds around an average, a boundary
 * that depends on the key alone, and pages of about the average size over many keys.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { endsPage, keyHash32, pageBounds } from '../../lambda/core/page-bounds.ts';

test('bounds around an average', () => {
  const cases: Array<[number, { min: number; max: number; period: number }]> = [
    [10_000, { min: 2_500, max: 40_000, period: 7_500 }],
    [100, { min: 25, max: 400, period: 75 }],
    [3, { min: 1, max: 12, period: 2 }],
    [1, { min: 1, max: 4, period: 1 }],
  ];
  for (const [avg, want] of cases) assert.deepEqual(pageBounds(avg), want, `average ${avg}`);
});

test('a boundary depends on the key and the count alone: never before min, always at max', () => {
  const b = pageBounds(100);
  const key = 'image/upload/x.jpg';
  assert.equal(keyHash32(key), keyHash32(`${'image/upload/x.jpg'}`));
  for (let n = 1; n < b.min; n += 1) assert.equal(endsPage(b, key, n), false, `count ${n}`);
  assert.equal(endsPage(b, key, b.max), true);
  assert.equal(endsPage(b, key, b.min), endsPage(b, key, b.min + 7), 'past min, the key alone decides');
});

test('over 200,000 keys, pages hold about the average', () => {
  const b = pageBounds(10_000);
  const sizes: number[] = [];
  let count = 0;
  for (let i = 0; i < 200_000; i += 1) {
    count += 1;
    if (endsPage(b, `image/upload/folder/photo-${i}.jpg`, count)) {
      sizes.push(count);
      count = 0;
    }
  }
  const mean = sizes.reduce((s, n) => s + n, 0) / sizes.length;
  assert.ok(mean > 7_000 && mean < 13_000, `mean page ${mean} over ${sizes.length} pages`);
  assert.ok(Math.min(...sizes) >= b.min && Math.max(...sizes) <= b.max);
});
