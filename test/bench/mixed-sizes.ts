import { mulberry32 } from '../fakes/content.ts';

/**
 * `count` sizes from `min` to `max` (both included) that add up to exactly `total`, spread
 * like a media library: many small files, few big ones. Sizes are min·(max/min)^(u^p) over an
 * even grid of u in [0, 1], with p found by bisection so the sum is `total`; the rounding
 * remainder goes to one mid-sized file; the order is shuffled with a fixed seed.
 */
export const mixedSizes = (count: number, total: number, min: number, max: number, seed = 7): number[] => {
  if (count < 2 || total < count * min || total > count * max) throw new RangeError('mixedSizes: total out of reach');
  const ratio = max / min;
  const sizesFor = (p: number): number[] =>
    Array.from({ length: count }, (_, i) => Math.round(min * ratio ** ((i / (count - 1)) ** p)));
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  // The sum falls as p grows (u^p shrinks for u < 1).
  let lo = 0.01;
  let hi = 200;
  for (let i = 0; i < 100; i += 1) {
    const mid = (lo + hi) / 2;
    if (sum(sizesFor(mid)) > total) lo = mid;
    else hi = mid;
  }
  const sizes = sizesFor(hi);
  let rest = total - sum(sizes);
  for (let i = Math.floor(count / 2); rest !== 0 && i < count - 1; i += 1) {
    const s = sizes[i] as number;
    const next = Math.min(max, Math.max(min, s + rest));
    rest -= next - s;
    sizes[i] = next;
  }
  if (rest !== 0) throw new Error('mixedSizes: could not place the remainder');
  const rng = mulberry32(seed);
  for (let i = sizes.length - 1; i > 0; i -= 1) {
    const j = Math.floor(rng() * (i + 1));
    [sizes[i], sizes[j]] = [sizes[j] as number, sizes[i] as number];
  }
  return sizes;
};
