/**
 * Multipart part size (lambda/core/part-size.ts), against S3's limits: parts of at
 * least 5 MiB, at most 10,000 parts, at most 5 GiB a part, objects up to 5 TiB; 5 MiB unless
 * more is needed, then the smallest whole number of MiB that fits.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { choosePartSize } from '../../lambda/core/part-size.ts';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const TiB = 2 ** 40;

// expected: hand-computed as ceil(size / 10,000 / MiB) MiB when that is over 5 MiB.
const cases: ReadonlyArray<{ name: string; size: number; expected: number }> = [
  { name: '0 bytes', size: 0, expected: 5 * MiB },
  { name: '1 byte', size: 1, expected: 5 * MiB },
  { name: '5 MiB', size: 5 * MiB, expected: 5 * MiB },
  { name: '5 GiB + 1', size: 5 * GiB + 1, expected: 5 * MiB },
  { name: '48.8 GiB', size: Math.round(48.8 * GiB), expected: 5 * MiB },
  { name: '10,000 parts of 5 MiB exactly', size: 10_000 * 5 * MiB, expected: 5 * MiB },
  { name: 'one byte more than 10,000 x 5 MiB', size: 10_000 * 5 * MiB + 1, expected: 6 * MiB },
  { name: '50 GiB (51,200 MiB / 10,000 = 5.12)', size: 50 * GiB, expected: 6 * MiB },
  { name: '100 GiB (10.24 MiB)', size: 100 * GiB, expected: 11 * MiB },
  { name: '1 TiB (104.8576 MiB)', size: TiB, expected: 105 * MiB },
  { name: '5 TiB (524.288 MiB)', size: 5 * TiB, expected: 525 * MiB },
];

describe('choosePartSize', () => {
  for (const c of cases) {
    test(c.name, () => {
      const part = choosePartSize(c.size);
      assert.equal(part, c.expected);
      assert.ok(part >= 5 * MiB, 'at least 5 MiB');
      assert.ok(part <= 5 * GiB, 'at most 5 GiB');
      assert.ok(Math.ceil(c.size / part) <= 10_000, `${Math.ceil(c.size / part)} parts`);
      if (part > 5 * MiB) {
        assert.equal(part % MiB, 0, 'a whole number of MiB');
        assert.ok(Math.ceil(c.size / (part - MiB)) > 10_000, 'one MiB less would not fit: the smallest that fits');
      }
    });
  }

  const tooBig: ReadonlyArray<readonly [string, number]> = [
    ['5 TiB + 1', 5 * TiB + 1],
    ['6 TiB', 6 * TiB],
  ];
  for (const [name, size] of tooBig) {
    test(`${name} throws`, () => {
      assert.throws(() => choosePartSize(size), RangeError);
    });
  }
});
