/**
 * Cloudinary errors (lambda/adapters/cloudinary/errors.ts): the SDK's rejection shapes (the SDK's
 * lib/api_client/execute_request.js) become SourceErrors with the HTTP code; 420/429 carry
 * the "Try again on ..." time; 5xx and network errors may be retried, 4xx may not.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimitedError, isRetryable, parseRetryAt, toSourceError } from '../../lambda/adapters/cloudinary/errors.ts';
import { SourceError } from '../../lambda/core/errors.ts';

describe('parseRetryAt', () => {
  const cases: ReadonlyArray<readonly [string, string, number | undefined]> = [
    ['Cloudinary 420 text', 'Rate Limit Exceeded. Try again on 2026-11-25 10:00:00 UTC', Date.UTC(2026, 10, 25, 10, 0, 0)],
    ['lower case', 'rate limit exceeded, try again on 2026-01-02 03:04:05 UTC', Date.UTC(2026, 0, 2, 3, 4, 5)],
    ['without "UTC" (Cloudinary times are UTC)', 'Try again on 2026-06-30 23:59:59', Date.UTC(2026, 5, 30, 23, 59, 59)],
    ['ISO "T" separator', 'Try again on 2026-06-30T12:00:00 UTC', Date.UTC(2026, 5, 30, 12, 0, 0)],
    ['year end', 'Try again on 2025-12-31 23:00:00 UTC.', Date.UTC(2025, 11, 31, 23, 0, 0)],
    ['no time given', 'Rate Limit Exceeded', undefined],
    ['empty', '', undefined],
    ['a date without time', 'Try again on 2026-11-25', undefined],
    ['month 13', 'Try again on 2026-13-01 10:00:00 UTC', undefined],
    ['hour 25', 'Try again on 2026-11-25 25:00:00 UTC', undefined],
  ];
  for (const [name, message, expected] of cases) {
    test(name, () => {
      const d = parseRetryAt(message);
      assert.equal(d?.getTime(), expected);
    });
  }
});

/** Request details the SDK attaches to a rejection; none of it may reach a message. */
const REQUEST = {
  request_options: { auth: '111122223333444:sdk-secret-value', headers: { Authorization: 'Basic c2RrLXNlY3JldC12YWx1ZQ==' } },
  query_params: 'max_results=500&api_secret=sdk-secret-value',
};

interface Expect {
  readonly httpCode: number | undefined;
  readonly rateLimited?: boolean;
  readonly retryAt?: number;
  readonly says: readonly string[];
  readonly retryable: boolean;
}

describe('toSourceError and isRetryable on what the SDK rejects with', () => {
  const cases: ReadonlyArray<{ name: string; err: unknown; expect: Expect }> = [
    {
      name: '404 {error:{message,http_code}}',
      err: { ...REQUEST, error: { message: 'Resource not found - cat', http_code: 404 } },
      expect: { httpCode: 404, says: ['Resource not found - cat'], retryable: false },
    },
    {
      name: '400',
      err: { ...REQUEST, error: { message: 'Invalid max_results', http_code: 400 } },
      expect: { httpCode: 400, says: ['Invalid max_results'], retryable: false },
    },
    {
      name: '401 tells what to fix',
      err: { ...REQUEST, error: { message: 'Invalid api_key 1111', http_code: 401 } },
      expect: { httpCode: 401, says: ['Invalid api_key 1111', 'CLOUDINARY_URL'], retryable: false },
    },
    {
      name: '403',
      err: { ...REQUEST, error: { message: 'Admin API is disabled', http_code: 403 } },
      expect: { httpCode: 403, says: ['Admin API is disabled'], retryable: false },
    },
    {
      name: '420 with "Try again on"',
      err: { ...REQUEST, error: { message: 'Rate Limit Exceeded. Try again on 2026-11-25 10:00:00 UTC', http_code: 420 } },
      expect: { httpCode: 420, rateLimited: true, retryAt: Date.UTC(2026, 10, 25, 10), says: ['Rate Limit Exceeded'], retryable: false },
    },
    {
      name: '429 without a time',
      err: { ...REQUEST, error: { message: 'Too Many Requests', http_code: 429 } },
      expect: { httpCode: 429, rateLimited: true, says: ['Too Many Requests'], retryable: false },
    },
    {
      name: '500 {error:{message,http_code}}',
      err: { ...REQUEST, error: { message: 'General Error', http_code: 500 } },
      expect: { httpCode: 500, says: ['General Error'], retryable: true },
    },
    {
      name: '503 top-level {message,http_code}',
      err: { ...REQUEST, message: 'Server returned unexpected status code - 503', http_code: 503 },
      expect: { httpCode: 503, says: ['unexpected status code - 503'], retryable: true },
    },
    {
      name: '502 top-level {message,http_code}',
      err: { ...REQUEST, message: 'Server returned unexpected status code - 502', http_code: 502 },
      expect: { httpCode: 502, says: ['unexpected status code - 502'], retryable: true },
    },
    {
      name: 'invalid JSON body on a 200 {error:{message,http_code:200}}',
      err: { ...REQUEST, error: { message: 'Server return invalid JSON response. Status Code 200', http_code: 200 } },
      expect: { httpCode: 200, says: ['invalid JSON response'], retryable: true },
    },
    {
      name: 'network failure: a plain Error',
      err: Object.assign(new Error('getaddrinfo ENOTFOUND api.cloudinary.com'), { code: 'ENOTFOUND' }),
      expect: { httpCode: undefined, says: ['ENOTFOUND'], retryable: true },
    },
    {
      name: 'connection reset: a plain Error',
      err: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      expect: { httpCode: undefined, says: ['ECONNRESET'], retryable: true },
    },
    {
      // res.on('error') in the SDK: reject({ message: <the Error>, http_code: res.statusCode, ... })
      name: 'response broken mid-body: top-level {message: Error, http_code}',
      err: { ...REQUEST, message: new Error('aborted'), http_code: 200 },
      expect: { httpCode: 200, says: ['aborted'], retryable: true },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const e = toSourceError(c.err, 'listing image assets');
      assert.ok(e instanceof SourceError);
      assert.equal(e.httpCode, c.expect.httpCode);
      assert.equal(e instanceof RateLimitedError, c.expect.rateLimited ?? false, 'RateLimitedError exactly for 420/429');
      if (e instanceof RateLimitedError) assert.equal(e.retryAt?.getTime(), c.expect.retryAt);
      assert.ok(e.message.includes('listing image assets'), 'says what was being done');
      for (const s of c.expect.says) assert.ok(e.message.includes(s), `${JSON.stringify(e.message)} includes ${JSON.stringify(s)}`);
      assert.doesNotMatch(e.message, /\[object Object\]/);
      assert.ok(!e.message.includes('sdk-secret-value') && !e.message.includes('c2RrLXNlY3JldC12YWx1ZQ'), 'no request details');
      assert.equal(isRetryable(e), c.expect.retryable);
    });
  }
});

describe('isRetryable by code', () => {
  const cases: ReadonlyArray<readonly [number | undefined, boolean]> = [
    [undefined, true],
    [408, true],
    [500, true],
    [502, true],
    [503, true],
    [504, true],
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [409, false],
    [420, false],
    [429, false],
  ];
  for (const [code, retryable] of cases) {
    test(`${code ?? 'no code (network)'} -> ${retryable ? 'retry' : 'do not retry'}`, () => {
      assert.equal(isRetryable(new SourceError('x', code)), retryable);
    });
  }
});
