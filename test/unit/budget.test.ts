import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { autoBudget, parseUsage } from '../../lambda/core/budget.ts';

describe('autoBudget: bytes that keep credits at or below the ceiling', () => {
  const cases: { name: string; used: number; limit: number | undefined; ceiling: number; bytes: number | undefined }[] = [
    { name: 'free plan, nothing used, 90%', used: 0, limit: 25, ceiling: 0.9, bytes: 22.5e9 },
    { name: 'free plan, 20 used, 90%', used: 20, limit: 25, ceiling: 0.9, bytes: 2.5e9 },
    { name: 'exactly at the ceiling', used: 22.5, limit: 25, ceiling: 0.9, bytes: 0 },
    { name: 'past the ceiling: zero, never negative', used: 24, limit: 25, ceiling: 0.9, bytes: 0 },
    { name: 'tiny remainder is not lost to floating point', used: 0.8999, limit: 1, ceiling: 0.9, bytes: 100_000 },
    { name: 'ceiling 100%', used: 10, limit: 25, ceiling: 1, bytes: 15e9 },
    { name: 'no limit reported: no budget', used: 100, limit: undefined, ceiling: 0.9, bytes: undefined },
    { name: 'limit 0 means none reported', used: 1, limit: 0, ceiling: 0.9, bytes: undefined },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const b = autoBudget({ plan: 'Free', creditsUsed: c.used, creditLimit: c.limit }, c.ceiling);
      assert.equal(b.budgetBytes, c.bytes);
      assert.equal(b.creditsBefore, c.used);
    });
  }
});

describe('parseUsage: the documented GET /usage shape', () => {
  test('credits block', () => {
    assert.deepEqual(parseUsage({ plan: 'Free', credits: { usage: 3.5, limit: 25, used_percent: 14 } }), { plan: 'Free', creditsUsed: 3.5, creditLimit: 25 });
  });
  test('older plans without credits: bandwidth bytes at 1 GB per credit, no limit', () => {
    assert.deepEqual(parseUsage({ plan: 'Legacy', bandwidth: { usage: 2e9 } }), { plan: 'Legacy', creditsUsed: 2, creditLimit: undefined });
  });
  test('garbage is tolerated', () => {
    assert.deepEqual(parseUsage({ credits: 'x' }), { plan: 'unknown', creditsUsed: 0, creditLimit: undefined });
  });
});
