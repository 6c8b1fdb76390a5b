import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { autoBudget, bytesSinceSnapshot, parseUsage } from '../../lambda/core/budget.ts';

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
  test('credits block, with the snapshot day and bandwidth', () => {
    assert.deepEqual(parseUsage({ plan: 'Free', last_updated: '2026-11-28', credits: { usage: 3.5, limit: 25, used_percent: 14 }, bandwidth: { usage: 2e9 } }), {
      plan: 'Free',
      creditsUsed: 3.5,
      creditLimit: 25,
      bandwidth: { usedBytes: 2e9, limitBytes: undefined },
      lastUpdated: '2026-11-28',
    });
  });
  test('older plans without credits: bandwidth bytes at 1 GB per credit, the bandwidth limit kept', () => {
    assert.deepEqual(parseUsage({ plan: 'Legacy', bandwidth: { usage: 2e9, limit: 10e9 } }), {
      plan: 'Legacy',
      creditsUsed: 2,
      creditLimit: undefined,
      bandwidth: { usedBytes: 2e9, limitBytes: 10e9 },
    });
  });
  test('garbage is tolerated', () => {
    assert.deepEqual(parseUsage({ credits: 'x' }), { plan: 'unknown', creditsUsed: 0, creditLimit: undefined });
  });
});

describe('plans without credits budget from bandwidth', () => {
  const legacy = (used: number, limit: number | undefined) =>
    ({ plan: 'Legacy', creditsUsed: used / 1e9, creditLimit: undefined, bandwidth: { usedBytes: used, limitBytes: limit } });
  const cases: { name: string; used: number; limit: number | undefined; since: number; bytes: number | undefined }[] = [
    { name: '10 GB plan, 2 GB used, 90%', used: 2e9, limit: 10e9, since: 0, bytes: 7e9 },
    { name: 'minus what this tool downloaded since the snapshot', used: 2e9, limit: 10e9, since: 1e9, bytes: 6e9 },
    { name: 'past the ceiling: zero', used: 9.5e9, limit: 10e9, since: 0, bytes: 0 },
    { name: 'no bandwidth limit either: no budget', used: 2e9, limit: undefined, since: 0, bytes: undefined },
  ];
  for (const c of cases) {
    test(c.name, () => assert.equal(autoBudget(legacy(c.used, c.limit), 0.9, c.since).budgetBytes, c.bytes));
  }
  test('with credits, downloads since the snapshot count as credits used', () => {
    const b = autoBudget({ plan: 'Free', creditsUsed: 20, creditLimit: 25 }, 0.9, 1e9);
    assert.equal(b.budgetBytes, 1.5e9);
    assert.equal(b.creditsBefore, 21);
  });
});

describe('bytesSinceSnapshot: runs the daily usage snapshot cannot show yet', () => {
  const runs = [
    { startedAt: '2026-11-27T03:00:00.000Z', bytesDownloaded: 100 },
    { startedAt: '2026-11-28T00:00:00.000Z', bytesDownloaded: 20 },
    { startedAt: '2026-11-28T03:00:00.000Z', bytesDownloaded: 300 },
    { startedAt: '2026-11-29T01:00:00.000Z', bytesDownloaded: 4000 },
    { startedAt: 'not a date', bytesDownloaded: 99999 },
  ];
  test('every run from the snapshot day on (the day itself may count twice: errs low)', () => {
    assert.equal(bytesSinceSnapshot(runs, '2026-11-28'), 4320);
  });
  test('a snapshot of today counts only today', () => {
    assert.equal(bytesSinceSnapshot(runs, '2026-11-29'), 4000);
  });
  test('without last_updated: the last 48 hours', () => {
    assert.equal(bytesSinceSnapshot(runs, undefined, new Date('2026-11-30T02:00:00Z')), 4300);
  });
});
