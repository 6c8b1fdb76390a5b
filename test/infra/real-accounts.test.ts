/**
 * The stack's settings for real accounts: the encryption header the function sends (-c sse,
 * -c kmsKeyArn), an imported bucket's region (-c bucketRegion), the execution timeout the function
 * stops ahead of, and the outputs a redeploy onto the kept bucket needs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ContextError, parseConfig } from '../../infra/config.ts';
import { CDK_JSON_CONTEXT, onlyLogicalId, synth } from './synth.ts';
import type { Synthesized } from './synth.ts';

const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

const environmentOf = (template: Synthesized['template']): Record<string, unknown> => {
  const fn = template.findResources('AWS::Lambda::Function')[onlyLogicalId(template, 'AWS::Lambda::Function')] as { Properties: { Environment: { Variables: Record<string, unknown> } } };
  return fn.Properties.Environment.Variables;
};

const outputsOf = (template: Synthesized['template']): Record<string, unknown> =>
  Object.fromEntries(Object.entries(template.findOutputs('*')).map(([k, v]) => [k, (v as { Value: unknown }).Value]));

describe('encryption header, bucket region, execution deadline, redeploy outputs', () => {
  it('sends no encryption header by default, AES256 with -c sse=AES256, aws:kms with the key when kmsKeyArn is set', () => {
    const plain = environmentOf(synth().template);
    assert.equal(plain.SSE, undefined);
    assert.equal(plain.SSE_KMS_KEY_ID, undefined);
    const aes = environmentOf(synth({ sse: 'AES256' }).template);
    assert.equal(aes.SSE, 'AES256');
    const kms = environmentOf(synth({ bucketName: 'my-existing-bucket', kmsKeyArn: KEY }).template);
    assert.deepEqual([kms.SSE, kms.SSE_KMS_KEY_ID], ['aws:kms', KEY]);
    const managed = environmentOf(synth({ sse: 'aws:kms' }).template);
    assert.deepEqual([managed.SSE, managed.SSE_KMS_KEY_ID], ['aws:kms', undefined]);
  });

  it('passes the durable execution timeout to the function (maxRunHours)', () => {
    assert.equal(environmentOf(synth().template).EXECUTION_TIMEOUT_SECONDS, String(23 * 3600));
    const { template } = synth({ maxRunHours: '5' });
    assert.equal(environmentOf(template).EXECUTION_TIMEOUT_SECONDS, String(5 * 3600));
    template.hasResourceProperties('AWS::Lambda::Function', { DurableConfig: { ExecutionTimeout: 5 * 3600 } });
  });

  it('outputs what a redeploy onto the kept bucket needs: its name, its region and the command', () => {
    const created = outputsOf(synth().template);
    assert.ok(created.BucketName !== undefined && created.BucketRegion !== undefined);
    const command = JSON.stringify(created.RedeployCommand);
    assert.match(command, /npx cdk deploy -c bucketName=/);
    assert.match(command, /-c bucketRegion=/);
    assert.match(command, /-c prefix=cloudinary/);
    const imported = outputsOf(synth({ bucketName: 'kept-bucket', bucketRegion: 'eu-west-1' }).template);
    assert.equal(imported.BucketName, 'kept-bucket');
    assert.equal(imported.BucketRegion, 'eu-west-1');
    assert.equal(imported.RedeployCommand, 'npx cdk deploy -c bucketName=kept-bucket -c bucketRegion=eu-west-1 -c prefix=cloudinary');
    const unknown = outputsOf(synth({ bucketName: 'kept-bucket' }).template);
    assert.equal(unknown.BucketRegion, undefined, 'an imported bucket without -c bucketRegion: found at run time, not guessed');
  });

  it('refuses settings that cannot work, each in one line naming the key', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ sse: 'aes' }, /sse: 'aes' is not AES256 or aws:kms/],
      [{ bucketName: 'b-1', kmsKeyArn: KEY, sse: 'AES256' }, /sse: AES256 is SSE-S3, but kmsKeyArn names a KMS key/],
      [{ bucketRegion: 'eu-west-1' }, /bucketRegion: names the region of an existing bucket; add -c bucketName=/],
      [{ bucketName: 'b-1', bucketRegion: 'Europe' }, /bucketRegion: 'Europe' is not an AWS region code/],
      [{ bucketName: 'b-1', bucketRegion: 'us-east-2', kmsKeyArn: KEY }, /kmsKeyArn: the key is in eu-west-1 but bucketRegion is us-east-2/],
    ];
    for (const [context, message] of cases) {
      assert.throws(() => parseConfig({ ...CDK_JSON_CONTEXT, ...context }), (err: unknown) => err instanceof ContextError && message.test(err.message), JSON.stringify(context));
    }
    assert.deepEqual(parseConfig({ ...CDK_JSON_CONTEXT, bucketName: 'b-1', bucketRegion: 'eu-west-1', kmsKeyArn: KEY }).sse, 'aws:kms');
  });
});
