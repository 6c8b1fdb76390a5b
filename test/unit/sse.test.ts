/** The encryption settings (lambda/core/sse.ts) and what they put on a request (adapters/s3/sse.ts), as tables. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sseHeaders, sseParams } from '../../lambda/adapters/s3/sse.ts';
import { ConfigError } from '../../lambda/core/errors.ts';
import { parseSse } from '../../lambda/core/sse.ts';

const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

describe('server-side encryption settings', () => {
  test('accepted combinations', () => {
    const cases: [string | undefined, string | undefined, ReturnType<typeof parseSse>][] = [
      [undefined, undefined, undefined],
      ['', '  ', undefined],
      ['AES256', undefined, { mode: 'AES256' }],
      [' aws:kms ', undefined, { mode: 'aws:kms' }],
      ['aws:kms', KEY, { mode: 'aws:kms', kmsKeyId: KEY }],
    ];
    for (const [mode, key, expected] of cases) assert.deepEqual(parseSse(mode, key), expected, `${mode} ${key}`);
  });

  test('refused combinations name the option and the fix', () => {
    const cases: [string | undefined, string | undefined, RegExp][] = [
      ['aes256', undefined, /--sse must be AES256 or aws:kms \(got "aes256"\)/],
      ['aws:kms:dsse', undefined, /--sse must be AES256 or aws:kms/],
      [undefined, KEY, /--sse must be AES256 or aws:kms when --sse-kms-key-id is given/],
      ['AES256', KEY, /--sse-kms-key-id is a KMS key: use it with --sse aws:kms/],
    ];
    for (const [mode, key, message] of cases) assert.throws(() => parseSse(mode, key), (e: unknown) => e instanceof ConfigError && message.test(e.message), `${mode} ${key}`);
    assert.throws(() => parseSse('x', undefined, { mode: 'SSE', key: 'SSE_KMS_KEY_ID' }), /^ConfigError: SSE must be/);
  });

  test('the SDK parameters and the signed headers of each setting (none without one)', () => {
    assert.deepEqual(sseParams(undefined), {});
    assert.deepEqual(sseHeaders(undefined), {});
    assert.deepEqual(sseParams({ mode: 'AES256' }), { ServerSideEncryption: 'AES256' });
    assert.deepEqual(sseHeaders({ mode: 'AES256' }), { 'x-amz-server-side-encryption': 'AES256' });
    assert.deepEqual(sseParams({ mode: 'aws:kms', kmsKeyId: KEY }), { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY });
    assert.deepEqual(sseHeaders({ mode: 'aws:kms', kmsKeyId: KEY }), { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': KEY });
  });
});
