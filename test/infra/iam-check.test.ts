import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deniedCalls, wildcard } from './iam-check.ts';
import type { ApiCall, TemplateJson } from './iam-check.ts';
import { onlyLogicalId, synth } from './synth.ts';

/** A minimal template: one durable function, its role, one policy with the intrinsics CDK writes. */
const template = (statements: unknown[], managed: unknown[] = []): TemplateJson => ({
  Resources: {
    Bucket: { Type: 'AWS::S3::Bucket', Properties: {} },
    Role: { Type: 'AWS::IAM::Role', Properties: { ManagedPolicyArns: managed } },
    Policy: { Type: 'AWS::IAM::Policy', Properties: { Roles: [{ Ref: 'Role' }], PolicyDocument: { Statement: statements } } },
    Fn: { Type: 'AWS::Lambda::Function', Properties: { Role: { 'Fn::GetAtt': ['Role', 'Arn'] }, DurableConfig: {} } },
  },
});
const objectsUnder = (prefix: string): unknown => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Bucket', 'Arn'] }, `/${prefix}/*`]] });
const put = (key: string): ApiCall => ({ action: 's3:PutObject', resource: `arn:aws:s3:::bucket/${key}` });

describe('iam-check: which calls a role does not allow', () => {
  it('allows a call an Allow statement covers (Fn::Join of Fn::GetAtt resolved) and refuses one outside it', () => {
    const t = template([{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: objectsUnder('cloudinary') }]);
    assert.deepEqual(deniedCalls(t, [put('cloudinary/_catalog/lease.json'), put('other/x')]), [put('other/x')]);
  });

  it('matches actions case-insensitively with wildcards, resources case-sensitively', () => {
    const t = template([{ Effect: 'Allow', Action: 's3:get*', Resource: 'arn:aws:s3:::bucket/Cloud?nary/*' }]);
    const get = { action: 's3:GetObject', resource: 'arn:aws:s3:::bucket/Cloudinary/a/b' };
    const lower = { action: 's3:GetObject', resource: 'arn:aws:s3:::bucket/cloudinary/a/b' };
    assert.deepEqual(deniedCalls(t, [get, lower, put('Cloudinary/a')]), [lower, put('Cloudinary/a')]);
    assert.equal(wildcard('a*c', 'a/b:c', false), true);
    assert.equal(wildcard('a.c', 'abc', false), false, 'a dot is literal');
  });

  it('lets a Deny win, ignores a conditional Allow, and reads NotAction', () => {
    const all = { Effect: 'Allow', Action: 's3:*', Resource: '*' };
    const deny = { Effect: 'Deny', Action: 's3:PutObject', Resource: objectsUnder('locked') };
    assert.deepEqual(deniedCalls(template([all, deny]), [put('locked/a'), put('open/a')]), [put('locked/a')]);
    const conditional = { ...all, Condition: { Bool: { 'aws:SecureTransport': 'true' } } };
    assert.deepEqual(deniedCalls(template([conditional]), [put('a')]), [put('a')]);
    const notDelete = { Effect: 'Allow', NotAction: 's3:Delete*', Resource: '*' };
    const del = { action: 's3:DeleteObject', resource: 'arn:aws:s3:::bucket/a' };
    assert.deepEqual(deniedCalls(template([notDelete]), [put('a'), del]), [del]);
  });

  it("reads the AWS managed durable policy's grant on *, and refuses to guess an unknown managed policy", () => {
    const arn = (name: string): unknown => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::aws:policy/${name}`]] });
    const checkpoint = { action: 'lambda:CheckpointDurableExecution', resource: 'arn:aws:lambda:us-east-1:123456789012:function:other:1/durable-execution/x/y' };
    assert.deepEqual(deniedCalls(template([], [arn('service-role/AWSLambdaBasicDurableExecutionRolePolicy')]), [checkpoint]), []);
    assert.throws(() => deniedCalls(template([], [arn('AdministratorAccess')]), [checkpoint]), /AdministratorAccess is not known/);
  });
});

describe("iam-check on the synthesized stack: the function's role against the calls it makes", () => {
  const region = 'us-east-1';
  const account = '123456789012';
  const check = (overrides: Record<string, unknown>, calls: ApiCall[]): ApiCall[] => {
    const { template } = synth(overrides);
    return deniedCalls(template, calls, { region, account });
  };
  const functionName = (overrides: Record<string, unknown>): string => {
    const { template } = synth(overrides);
    const fn = template.findResources('AWS::Lambda::Function')[onlyLogicalId(template, 'AWS::Lambda::Function')] as {
      Properties: { FunctionName: string };
    };
    return fn.Properties.FunctionName;
  };
  const existing = { bucketName: 'my-existing-bucket' };
  const object = (key: string): string => `arn:aws:s3:::my-existing-bucket/${key}`;

  it('allows the run lease (conditional GET/PUT of <prefix>/_catalog/lease.json), asset writes and the listing; not delete without prune', () => {
    const calls: ApiCall[] = [
      // The copy records a committed catalog holds (lambda/store/copy-record.ts) are deleted by every run.
      { action: 's3:DeleteObject', resource: object('cloudinary/_catalog/copies/2026-01-01T00-00-00-000Z-abc/0a1b2c3d-000000.jsonl') },
      // Retention deletes retired originals under _history/ only (docs/history.md).
      { action: 's3:DeleteObject', resource: object('cloudinary/_history/ab/ab12/1700000000') },
      { action: 's3:GetObject', resource: object('cloudinary/_catalog/lease.json') },
      { action: 's3:PutObject', resource: object('cloudinary/_catalog/lease.json') },
      { action: 's3:PutObject', resource: object('cloudinary/image/upload/a.jpg') },
      { action: 's3:AbortMultipartUpload', resource: object('cloudinary/video/upload/b.mp4') },
      { action: 's3:ListBucket', resource: 'arn:aws:s3:::my-existing-bucket' },
    ];
    const refused = [
      { action: 's3:DeleteObject', resource: object('cloudinary/image/upload/a.jpg') },
      { action: 's3:DeleteObject', resource: object('cloudinary/_catalog/current.json') },
      { action: 's3:DeleteObjectVersion', resource: object('cloudinary/_history/ab/ab12/1700000000') },
      { action: 's3:PutObject', resource: object('elsewhere/a.jpg') },
    ];
    assert.deepEqual(check(existing, [...calls, ...refused]), refused);
  });

  it("allows checkpoints of this function's executions on any version, and of no other function", () => {
    const name = functionName(existing);
    const own = { action: 'lambda:CheckpointDurableExecution', resource: `arn:aws:lambda:${region}:${account}:function:${name}:7/durable-execution/run/abc` };
    const state = { ...own, action: 'lambda:GetDurableExecutionState' };
    const other = { ...own, resource: `arn:aws:lambda:${region}:${account}:function:someone-else:1/durable-execution/run/abc` };
    assert.deepEqual(check(existing, [own, state, other]), [other]);
  });

  it("uses the bucket's KMS key (GenerateDataKey, Decrypt) only when kmsKeyArn is given, and nothing more on it", () => {
    const key = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const use = [
      { action: 'kms:GenerateDataKey', resource: key },
      { action: 'kms:Decrypt', resource: key },
    ];
    const more = [{ action: 'kms:Encrypt', resource: key }];
    assert.deepEqual(check({ ...existing, kmsKeyArn: key }, [...use, ...more]), more);
    assert.deepEqual(check(existing, use), use);
  });
});
