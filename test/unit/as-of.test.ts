/**
 * `--as-of WHEN` (lambda/core/as-of.ts): what WHEN means, and which restore point it picks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAsOf, pickPoint } from '../../lambda/core/as-of.ts';

test('WHEN: a date is the end of that day UTC, a date-time without offset is UTC, a run id is exact', () => {
  const cases: Array<[string, unknown]> = [
    ['2026-11-30', { at: Date.parse('2026-11-30T23:59:59.999Z') }],
    ['2026-11-30T18:00', { at: Date.parse('2026-11-30T18:00:00Z') }],
    ['2026-11-30T18:00:05.5', { at: Date.parse('2026-11-30T18:00:05.500Z') }],
    ['2026-11-30 18:00', { at: Date.parse('2026-11-30T18:00:00Z') }],
    ['2026-11-30T18:00+01:00', { at: Date.parse('2026-11-30T17:00:00Z') }],
    ['2026-11-30T18:00:00Z', { at: Date.parse('2026-11-30T18:00:00Z') }],
    ['2026-11-30T02-00-01-123Z-a1b2c3', { runId: '2026-11-30T02-00-01-123Z-a1b2c3' }],
  ];
  for (const [when, want] of cases) assert.deepEqual(parseAsOf(when), want, when);
});

test('an unreadable WHEN is refused with an example', () => {
  for (const when of ['yesterday', '2026-02-30', '30/11/2026', '2026-13-01', '', '2026-11-30T25:00']) {
    assert.throws(() => parseAsOf(when), (e: Error) => e.name === 'ConfigError' && /e\.g\. --as-of 2026-11-30/.test(e.message), when);
  }
});

const points = [
  { runId: '2026-12-03T02-00-00-000Z-cccccc', completedAt: '2026-12-03T02:10:00.000Z' },
  { runId: '2026-12-02T02-00-00-000Z-bbbbbb', completedAt: '2026-12-02T02:10:00.000Z' },
  { runId: '2026-12-01T02-00-00-000Z-aaaaaa', completedAt: '2026-12-01T02:10:00.000Z' },
];

test('the last restore point at or before WHEN; a run id exactly', () => {
  const pick = (when: string): string => pickPoint(points, parseAsOf(when), 'b').runId;
  assert.equal(pick('2026-12-02'), points[1]!.runId, 'end of 2 December: night 2');
  assert.equal(pick('2026-12-02T02:10'), points[1]!.runId, 'at its completion exactly');
  assert.equal(pick('2026-12-02T02:09'), points[2]!.runId, 'a minute before: night 1');
  assert.equal(pick('2027-01-01'), points[0]!.runId);
  assert.equal(pick(points[2]!.runId), points[2]!.runId);
});

test('before the oldest, an unknown run, no restore points: refused, naming the oldest', () => {
  assert.throws(() => pickPoint(points, parseAsOf('2026-11-30'), 'b'), /oldest restore point is run 2026-12-01T02-00-00-000Z-aaaaaa, completed 2026-12-01T02:10:00.000Z/);
  assert.throws(() => pickPoint(points, parseAsOf('2026-11-30T02-00-00-000Z-dddddd'), 'b'), /no restore point of run .*the oldest is 2026-12-01T02-00-00-000Z-aaaaaa/);
  assert.throws(() => pickPoint([], parseAsOf('2026-11-30'), 'b'), /no restore point yet/);
});
