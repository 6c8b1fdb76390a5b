/**
 * `setup` and `run` find the secret, the alias and the bucket by the stack's output names
 * (lambda/entry/cli/stack-outputs.ts). This keeps the two sides agreeing: every name the CLI
 * reads is an output of the synthesized stack, and AliasArn is a qualified function ARN
 * (a durable function cannot be invoked unqualified).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { STACK_OUTPUT } from '../../lambda/entry/cli/stack-outputs.ts';
import { synth } from './synth.ts';

test('the stack has every output the CLI reads, and AliasArn points at the alias', () => {
  const { template } = synth();
  const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
  for (const name of Object.values(STACK_OUTPUT)) assert.ok(outputs[name], `stack output ${name} is missing`);
  const alias = JSON.stringify(outputs[STACK_OUTPUT.aliasArn]?.Value);
  const aliasIds = Object.entries(template.findResources('AWS::Lambda::Alias')).map(([id]) => id);
  assert.ok(aliasIds.some((id) => alias.includes(id)), `AliasArn does not reference an AWS::Lambda::Alias: ${alias}`);
});
