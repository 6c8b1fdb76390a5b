/**
 * How the project's Cloudinary client reads answers (lambda/adapters/cloudinary/api-client.ts,
 * upload-client.ts): the SDK's result and rejection shapes (cloudinary_npm
 * lib/api_client/execute_request.js, lib/uploader.js), so errors.ts and uploader.ts classify them
 * as before; and how the fake cuts its answers (test/fakes/cloudinary/pieces.ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminAnswer } from '../../lambda/adapters/cloudinary/api-client.ts';
import { RateLimitedError, isRetryable, toSourceError } from '../../lambda/adapters/cloudinary/errors.ts';
import { multipartHead, multipartTail, uploadAnswer } from '../../lambda/adapters/cloudinary/upload-client.ts';
import { toUploadError } from '../../lambda/adapters/cloudinary/uploader.ts';
import { cutPoints } from '../fakes/cloudinary/pieces.ts';

const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
  status,
  headers,
  text: typeof body === 'string' ? body : JSON.stringify(body),
});

/** What adminAnswer threw, as toSourceError sees it. */
const adminError = (status: number, body: unknown) => {
  try {
    adminAnswer(answer(status, body));
  } catch (err) {
    return { raw: err as Record<string, unknown>, source: toSourceError(err, 'listing image/upload resources') };
  }
  return assert.fail('no rejection');
};

describe('Admin API answers', () => {
  test('a 200 gives the JSON with the rate-limit figures parsed as the SDK does', () => {
    const r = adminAnswer(
      answer(200, { resources: [{ public_id: '日本語' }], next_cursor: 'c2' }, {
        'x-featureratelimit-limit': '500',
        'x-featureratelimit-remaining': '498',
        'x-featureratelimit-reset': 'Mon, 07 Dec 2026 23:00:00 GMT',
      }),
    );
    assert.deepEqual(r['resources'], [{ public_id: '日本語' }]);
    assert.equal(r.rate_limit_allowed, 500);
    assert.equal(r.rate_limit_remaining, 498);
    assert.equal(r.rate_limit_reset_at?.toISOString(), '2026-12-07T23:00:00.000Z');
  });

  test('a 200 without the headers has no rate-limit fields', () => {
    const r = adminAnswer(answer(200, { usage: 1 }));
    assert.equal('rate_limit_allowed' in r, false);
  });

  const cases: ReadonlyArray<{ status: number; body: unknown; nested: boolean; code: number; retryable: boolean; says: RegExp; rateLimited?: boolean }> = [
    { status: 401, body: { error: { message: 'Invalid api_key 123' } }, nested: true, code: 401, retryable: false, says: /refused the credentials.*Invalid api_key 123/ },
    { status: 404, body: { error: { message: 'Resource not found - x' } }, nested: true, code: 404, retryable: false, says: /HTTP 404: Resource not found - x/ },
    { status: 420, body: { error: { message: 'Rate Limit Exceeded. Try again on 2026-12-07 23:00:00 UTC' } }, nested: true, code: 420, retryable: false, says: /Try again/, rateLimited: true },
    { status: 429, body: { error: { message: 'Too many' } }, nested: true, code: 429, retryable: false, says: /Too many/, rateLimited: true },
    { status: 500, body: { error: { message: 'General Error' } }, nested: true, code: 500, retryable: true, says: /HTTP 500/ },
    { status: 503, body: '<html>Service Unavailable</html>', nested: false, code: 503, retryable: true, says: /unexpected status code - 503/ },
    { status: 502, body: '', nested: false, code: 502, retryable: true, says: /unexpected status code - 502/ },
    { status: 200, body: '{"resources":[{"asset_id":"0f3c', nested: true, code: 200, retryable: true, says: /invalid JSON response. Status Code 200/ },
    { status: 400, body: 'not json', nested: true, code: 400, retryable: false, says: /invalid JSON response. Status Code 400/ },
  ];
  for (const c of cases) {
    test(`${c.status} ${typeof c.body === 'string' ? JSON.stringify(c.body.slice(0, 20)) : 'JSON error'}: ${c.nested ? 'err.error.http_code' : 'top-level http_code'}`, () => {
      const { raw, source } = adminError(c.status, c.body);
      if (c.nested) assert.equal((raw['error'] as { http_code?: number }).http_code, c.code);
      else assert.equal(raw['http_code'], c.code);
      assert.equal(source.httpCode, c.code);
      assert.equal(isRetryable(source), c.retryable);
      assert.match(source.message, c.says);
      assert.equal(source instanceof RateLimitedError, c.rateLimited === true);
    });
  }

  test('a 420 carries the time Cloudinary said to come back', () => {
    const { source } = adminError(420, { error: { message: 'Rate Limit Exceeded. Limit of 500 api operations reached. Try again on 2026-12-07 23:00:00 UTC' } });
    assert.equal((source as RateLimitedError).retryAt?.toISOString(), '2026-12-07T23:00:00.000Z');
  });
});

describe('Upload API answers', () => {
  const uploadError = (status: number, body: unknown) => {
    try {
      uploadAnswer(answer(status, body));
    } catch (err) {
      return toUploadError(err, '相册/写真');
    }
    return assert.fail('no rejection');
  };
  const cases: ReadonlyArray<[number, unknown, boolean, RegExp]> = [
    [401, { error: { message: 'Invalid Signature abc' } }, false, /secret in CLOUDINARY_URL/],
    [400, { error: { message: 'File size too large. Got 20000000. Maximum is 10485760.' } }, false, /plan does not accept a file this large/],
    [420, { error: { message: 'Rate Limit Exceeded' } }, true, /HTTP 420/],
    [500, { error: { message: 'General Error' } }, true, /HTTP 500/],
    [502, '<html>Bad Gateway</html>', true, /unexpected status code - 502/],
    // Not retried, as before: the SDK gives it http_code 200 (lib/uploader.js), and the upload may have been stored.
    [200, '{"public_id":"x', false, /invalid JSON response. Status Code 200/],
  ];
  for (const [status, body, retryable, says] of cases) {
    test(`${status}: ${says.source}`, () => {
      const e = uploadError(status, body);
      assert.equal(e.httpCode, status);
      assert.equal(e.retryable, retryable);
      assert.match(e.message, says);
    });
  }

  test('a 200 gives the answer as it is, names whole', () => {
    assert.deepEqual(uploadAnswer(answer(200, { public_id: 'папка/صورة 😀', version: 3 })), { public_id: 'папка/صورة 😀', version: 3 });
  });

  test('the multipart body frames fields and the file as the SDK does', () => {
    const head = multipartHead('B0', [['public_id', 'été'], ['tags[]', 'a'], ['skip', undefined], ['timestamp', 17]], 'file.jpg').toString('utf8');
    assert.equal(
      head,
      '--B0\r\nContent-Disposition: form-data; name="public_id"\r\n\r\nété\r\n' +
        '--B0\r\nContent-Disposition: form-data; name="tags[]"\r\n\r\na\r\n' +
        '--B0\r\nContent-Disposition: form-data; name="timestamp"\r\n\r\n17\r\n' +
        '--B0\r\nContent-Disposition: form-data; name="file"; filename="file.jpg"\r\nContent-Type: application/octet-stream\r\n\r\n',
    );
    assert.equal(multipartTail('B0').toString(), '\r\n--B0--');
  });
});

describe('the fake cuts its answers inside characters', () => {
  const pieces = (text: string, size: number): Buffer[] => {
    const bytes = Buffer.from(text, 'utf8');
    const out: Buffer[] = [];
    let start = 0;
    for (const cut of [...cutPoints(bytes, size), bytes.length]) {
      out.push(bytes.subarray(start, cut));
      start = cut;
    }
    return out;
  };
  const splitsACharacter = (ps: Buffer[]): boolean => ps.slice(0, -1).some((p) => p.toString('utf8').endsWith('\uFFFD'));
  const cases: ReadonlyArray<[string, string, number, boolean]> = [
    ['ASCII only: whole pieces of the size', 'a'.repeat(10_000), 4096, false],
    ['a short answer with one character is cut inside it', '{"public_id":"é"}', 4096, true],
    ['a short answer in several scripts', '{"a":"日本語","b":"папка","c":"😀"}', 4096, true],
    ['a long answer, mostly non-ASCII', JSON.stringify(Array.from({ length: 300 }, (_, i) => `写真 ${i} صورة 🎉`)), 1024, true],
    ['a long answer with one accent far in', `${'x'.repeat(9000)}é${'y'.repeat(100)}`, 4096, true],
  ];
  for (const [name, text, size, split] of cases) {
    test(name, () => {
      const ps = pieces(text, size);
      assert.equal(Buffer.concat(ps).toString('utf8'), text, 'the pieces are the answer, in order');
      assert.ok(ps.every((p) => p.length > 0 && p.length <= size), `every piece holds 1..${size} bytes`);
      assert.equal(splitsACharacter(ps), split);
    });
  }
});
