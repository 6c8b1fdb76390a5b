/**
 * Human sizes (lambda/core/sizes.ts): `500MB` = 500×10^6, `2GiB` = 2×2^30, decimal units for
 * display "as Cloudinary counts credits" (1 credit = 1 GB).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, parseSize } from '../../lambda/core/sizes.ts';

describe('parseSize', () => {
  const valid: ReadonlyArray<readonly [string, number]> = [
    ['500MB', 500 * 10 ** 6],
    ['2GiB', 2 * 2 ** 30],
    ['1.5 GB', 1_500_000_000],
    ['20 GB', 20 * 10 ** 9],
    ['0', 0],
    ['7', 7],
    ['1048576', 1_048_576],
    ['7B', 7],
    ['7 b', 7],
    ['10kB', 10_000],
    ['10KB', 10_000],
    ['1KiB', 1024],
    ['3 MiB', 3 * 2 ** 20],
    ['3TB', 3 * 10 ** 12],
    ['1 TiB', 2 ** 40],
    ['500mb', 500 * 10 ** 6],
    ['2gib', 2 * 2 ** 30],
    ['1.5 gb', 1_500_000_000],
    ['0.5KiB', 512],
    ['0.29 MB', 290_000],
    ['4.35MB', 4_350_000],
    // 1.005 × 1000 is 1004.999… in binary floating point; the size meant is 1,005 bytes.
    ['1.005kB', 1005],
    ['2.675 kB', 2675],
  ];
  for (const [text, bytes] of valid) {
    test(`${JSON.stringify(text)} -> ${bytes}`, () => {
      assert.equal(parseSize(text), bytes);
    });
  }

  const invalid = ['', ' ', 'abc', 'MB', '-5MB', '-5', '5XB', '5 megabytes', '1e9', '1E9', '0x10', '1.2.3MB', '5 M B', 'NaN', 'Infinity'];
  for (const text of invalid) {
    test(`${JSON.stringify(text)} is not a size`, () => {
      assert.equal(parseSize(text), undefined);
    });
  }
});

describe('formatBytes', () => {
  // unit: the decimal unit a person expects for that magnitude.
  const cases: ReadonlyArray<readonly [number, string]> = [
    [0, 'B'],
    [1, 'B'],
    [999, 'B'],
    [1000, 'kB'],
    [1234, 'kB'],
    [999_499, 'kB'],
    [999_999, 'MB'],
    [1_200_000, 'MB'],
    [9_999_999, 'MB'],
    [3_400_000_000, 'GB'],
    [25 * 10 ** 9, 'GB'],
    [20 * 10 ** 12, 'TB'],
  ];
  for (const [n, unit] of cases) {
    test(`${n} bytes is shown in ${unit}, within 1%`, () => {
      const text = formatBytes(n);
      const m = /^(\d+(?:\.\d+)?) (B|kB|MB|GB|TB)$/.exec(text);
      assert.ok(m, `${JSON.stringify(text)} is "<number> <unit>"`);
      assert.equal(m[2], unit, text);
      assert.ok(Number(m[1]) < 1000, `${text}: the number stays under 1000 below TB`);
      const back = parseSize(text);
      assert.ok(back !== undefined, `parseSize reads ${JSON.stringify(text)} back`);
      assert.ok(Math.abs(back - n) <= n * 0.01, `${text} is ${back}, not within 1% of ${n}`);
    });
  }
});
