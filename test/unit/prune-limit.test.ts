/**
 * The prune limit (lambda/core/prune-limit.ts), read by one parser for the CLI's --max-prune, the
 * function's MAX_PRUNE and the CDK context. Rule: `N%` is N hundredths of the backed-up assets and
 * a bare number is a count; anything else is refused, never read as "no limit". The function's
 * default (no MAX_PRUNE) and the engine's default are 10%.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_MAX_PRUNE, parsePruneLimit } from '../../lambda/core/prune-limit.ts';
import { readSettings } from '../../lambda/entry/settings.ts';
import { prunePlan } from '../../lambda/backup/finish.ts';

test('percentages and counts are read as written', () => {
  const cases: ReadonlyArray<readonly [string, ReturnType<typeof parsePruneLimit>]> = [
    ['10%', { fraction: 0.1 }],
    ['0%', { fraction: 0 }],
    ['1%', { fraction: 0.01 }],
    ['2.5%', { fraction: 0.025 }],
    ['12.55%', { fraction: 0.1255 }],
    ['100%', { fraction: 1 }],
    [' 25% ', { fraction: 0.25 }],
    ['500', { count: 500 }],
    ['0', { count: 0 }],
    ['10', { count: 10 }],
  ];
  for (const [input, expected] of cases) assert.deepEqual(parsePruneLimit(input), expected, input);
});

test('anything else is refused', () => {
  for (const input of ['', '%', '101%', '-5', '-5%', '1.5', '10 %', 'ten', '10%%', '5e2', '0x10', 'all', '10%x', 'x10']) {
    assert.equal(parsePruneLimit(input), undefined, JSON.stringify(input));
  }
});

test('the default is 10%, for the engine and for the function without MAX_PRUNE', () => {
  assert.deepEqual(DEFAULT_MAX_PRUNE, { fraction: 0.1 });
  const env = { BUCKET_NAME: 'b', SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x' };
  assert.deepEqual(readSettings(env).maxPrune, { fraction: 0.1 });
  assert.deepEqual(readSettings({ ...env, MAX_PRUNE: '3%' }).maxPrune, { fraction: 0.03 });
  assert.deepEqual(readSettings({ ...env, MAX_PRUNE: '42' }).maxPrune, { count: 42 });
  assert.throws(() => readSettings({ ...env, MAX_PRUNE: 'lots' }), /MAX_PRUNE must be a count/);
});

test('under the default, 11 deleted assets of 100 backed up are not pruned; 10 are', () => {
  const previous = (n: number) => ({ has: () => true, currentByType: new Map([['image', n]]), currentTotal: n });
  const missing = (n: number) => Array.from({ length: n }, (_, i) => `image/upload/gone-${i}.jpg`);
  const refused = prunePlan(missing(11), previous(100), { image: 89 }, ['image'], DEFAULT_MAX_PRUNE);
  assert.deepEqual(refused.keys, []);
  assert.match(refused.refused ?? '', /11 backups of deleted assets exceed the prune limit of 10 \(10% of 100\)/);
  assert.equal(prunePlan(missing(10), previous(100), { image: 90 }, ['image'], DEFAULT_MAX_PRUNE).keys.length, 10);
});
