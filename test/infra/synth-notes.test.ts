/**
 * `cdk synth` before any deploy prints nothing a user must act on. aws-cdk-lib 2.276 adds an
 * info annotation to every function with a durable config ("Modifying an existing lambda to use
 * durability will trigger a resource replacement", `aws-lambda:Function.DurableConfig`,
 * `renderDurableConfig` in aws-cdk-lib/aws-lambda/lib/function.js); this function is durable
 * from its creation, so the note does not apply and is acknowledged with that reason
 * (`Annotations.acknowledgeInfo`, aws-cdk-lib/core/lib/annotations.d.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { synth } from './synth.ts';

test('synth shows no note about making an existing function durable', () => {
  const { stack } = synth();
  const notes = Annotations.fromStack(stack).findInfo('*', Match.stringLikeRegexp('Modifying an existing lambda'));
  assert.deepEqual(notes, []);
});
