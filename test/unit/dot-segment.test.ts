/**
 * Which public_ids cannot be fetched through their secure_url (lambda/core/asset.ts
 * hasDotSegment): URL parsers resolve `.` and `..` segments, so `a/../b` would be fetched as
 * `b`. Those go through the signed download URL, which carries the public_id as a parameter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasDotSegment } from '../../lambda/core/asset.ts';

const cases: ReadonlyArray<readonly [string, boolean, string]> = [
  ['a/../b', true, "a '..' segment"],
  ['./c', true, "a leading '.' segment"],
  ['a/.', true, "a trailing '.' segment"],
  ['../../etc/passwd', true, 'traversal'],
  ['..', true, "'..' alone (raw, no format)"],
  ['.', true, "'.' alone"],
  ['a/b', false, 'plain folders'],
  ['a..b', false, 'dots inside a segment'],
  ['.hidden/x', false, 'a segment starting with a dot'],
  ['...', false, 'three dots'],
  ['a/%2e%2e/b', false, 'an escaped look-alike is a name, not a segment (the URL encodes its %)'],
  ['..\\x', false, 'a backslash is encoded in the URL'],
  ['', false, 'empty'],
];

for (const [publicId, expected, why] of cases) {
  test(`${JSON.stringify(publicId)}: ${expected ? 'signed download' : 'secure_url'} (${why})`, () => {
    assert.equal(hasDotSegment(publicId), expected);
  });
}

test('what the rule guards against: the URL parser resolves the segment', () => {
  assert.equal(new URL('https://res.cloudinary.com/demo/image/upload/v1/a/../b.jpg').pathname, '/demo/image/upload/v1/b.jpg');
  assert.equal(new URL('https://res.cloudinary.com/demo/image/upload/v1/a/%2e%2e/b.jpg').pathname, '/demo/image/upload/v1/b.jpg');
});
