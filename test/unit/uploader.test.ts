/**
 * The pure parts of the Cloudinary uploader (lambda/adapters/cloudinary/uploader.ts): cutting a
 * stream into the chunks of a chunked upload, and turning SDK-shaped errors into UploadErrors.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { chunksOf, toUploadError } from '../../lambda/adapters/cloudinary/uploader.ts';

const regroup = async (pieces: number[], size: number): Promise<{ lengths: number[]; same: boolean }> => {
  let n = 0;
  const input = pieces.map((len) => Buffer.from(Array.from({ length: len }, () => n++ % 251)));
  const out: Buffer[] = [];
  for await (const c of chunksOf(Readable.from(input), size)) out.push(c);
  return { lengths: out.map((b) => b.length), same: Buffer.concat(out).equals(Buffer.concat(input)) };
};

describe('chunksOf', () => {
  const cases: Array<[string, number[], number, number[]]> = [
    ['small reads gathered into full chunks, the rest last', [3, 3, 3, 3], 5, [5, 5, 2]],
    ['one read spanning several chunks', [12], 5, [5, 5, 2]],
    ['an exact multiple ends on a full chunk', [4, 6], 5, [5, 5]],
    ['less than one chunk', [2], 5, [2]],
    ['nothing in, nothing out', [], 5, []],
  ];
  for (const [name, pieces, size, expected] of cases) {
    test(name, async () => {
      const r = await regroup(pieces, size);
      assert.deepEqual(r.lengths, expected);
      assert.ok(r.same, 'the bytes are unchanged and in order');
    });
  }
});

describe('toUploadError', () => {
  const cases: Array<[string, unknown, number | undefined, boolean, RegExp]> = [
    ['a refused signature says to check the secret', { message: 'Invalid Signature abc', http_code: 401 }, 401, false, /secret in CLOUDINARY_URL/],
    ['a bad request is not retried', { message: 'Invalid type', http_code: 400 }, 400, false, /HTTP 400\): Invalid type/],
    ['a server error is retried', { message: 'oops', http_code: 500 }, 500, true, /HTTP 500/],
    ['the SDK timeout (499) is retried', { message: 'Request Timeout', http_code: 499, name: 'TimeoutError' }, 499, true, /Timeout/],
    ['a network error is retried', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), undefined, true, /socket hang up/],
    ['a rate limit is retried', { error: { message: 'slow down', http_code: 429 } }, 429, true, /slow down/],
  ];
  for (const [name, input, code, retryable, message] of cases) {
    test(name, () => {
      const e = toUploadError(input, 'folder/pic');
      assert.equal(e.httpCode, code);
      assert.equal(e.retryable, retryable);
      assert.equal(e.credentialsRefused, code === 401);
      assert.match(e.message, message);
    });
  }
});
