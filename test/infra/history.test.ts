/**
 * The stack's part of history (docs/history.md): `historyDays` reaches the function only when
 * given (unset, a run keeps the retention the backup records), and an invalid one is refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { synth } from './synth.ts';

describe('historyDays', () => {
  it('is passed to the function as HISTORY_DAYS when given, and not otherwise', () => {
    synth({ historyDays: 365 }).template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ HISTORY_DAYS: '365' }) },
    });
    const fn = Object.values(synth({}).template.findResources('AWS::Lambda::Function'))[0] as { Properties: { Environment: { Variables: Record<string, string> } } };
    assert.equal(fn.Properties.Environment.Variables.HISTORY_DAYS, undefined);
  });

  it('refuses a retention that is not a whole number of days from 1 to 3650', () => {
    for (const bad of [0, 4000, 'ninety']) assert.throws(() => synth({ historyDays: bad }), /historyDays/, String(bad));
  });
});
