/** The execution deadline's rules (lambda/entry/deadline.ts), as a table of cases. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../../lambda/core/errors.ts';
import { DEADLINE_MARGIN_MS, boundedBy, deadlineReached, stopPointOf, waitPassesDeadline } from '../../lambda/entry/deadline.ts';

const T0 = 1_000_000;
const H = 3_600_000;

describe('the execution deadline', () => {
  test('the stop point: the timeout after the start, less the margin (at most half the timeout); none without a timeout', () => {
    const cases: [string | undefined, number | null][] = [
      [undefined, null],
      ['', null],
      ['82800', T0 + 23 * H - DEADLINE_MARGIN_MS],
      ['3600', T0 + H - DEADLINE_MARGIN_MS],
      ['1800', T0 + 900_000],
    ];
    for (const [raw, expected] of cases) assert.equal(stopPointOf(raw === undefined ? {} : { EXECUTION_TIMEOUT_SECONDS: raw }, T0), expected, String(raw));
    for (const bad of ['0', '-5', '1.5', 'soon']) assert.throws(() => stopPointOf({ EXECUTION_TIMEOUT_SECONDS: bad }, T0), ConfigError, bad);
  });

  test("a step's time left is the invocation's or the time to the stop point, whichever is less; the first copy is forced in only when the invocation ends first", () => {
    let now = T0;
    let lambdaLeft = 900_000;
    const bound = { timeLeft: () => lambdaLeft, fresh: true };
    assert.equal(boundedBy(bound, null, () => now), bound, 'no deadline: the bound as it was');
    const far = boundedBy(bound, T0 + H, () => now);
    assert.deepEqual([far.timeLeft(), far.fresh], [900_000, true]);
    const near = boundedBy(bound, T0 + 300_000, () => now);
    assert.deepEqual([near.timeLeft(), near.fresh], [300_000, false]);
    now += 100_000;
    lambdaLeft = 150_000;
    assert.equal(near.timeLeft(), 150_000, 'the invocation ends first now');
    now += 250_000;
    assert.ok(near.timeLeft() < 0, 'past the stop point: nothing starts, everything in flight is cut off');
  });

  test('the run stops taking work once less than the start margin is left; a wait that ends past that point is not taken', () => {
    const stopAt = T0 + H;
    const cases: [number, boolean][] = [
      [T0, false],
      [stopAt - 120_001, false],
      [stopAt - 119_999, true],
      [stopAt + 1, true],
    ];
    for (const [now, reached] of cases) assert.equal(deadlineReached(stopAt, 120_000, now), reached, String(now - stopAt));
    assert.equal(deadlineReached(null, 120_000, T0 + 100 * H), false);
    assert.equal(waitPassesDeadline(stopAt, stopAt - 200_000, 120_000), false);
    assert.equal(waitPassesDeadline(stopAt, stopAt - 100_000, 120_000), true);
    assert.equal(waitPassesDeadline(null, T0 + 100 * H, 120_000), false);
  });
});
