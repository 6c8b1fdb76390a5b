/**
 * Cloudinary's public_id rules (docs, "Permitted naming conventions": 1-255 characters, `?&#\%<>+`
 * "utterly forbidden", no leading or trailing whitespace or `/`, no folder named `v` + digits),
 * and how restore brings a moderation status back (cloudinary_npm docs/moderate-upload.md).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { publicIdRuleBroken } from '../../lambda/core/public-id-rules.ts';
import { moderationSteps } from '../../lambda/restore/moderation.ts';

describe('publicIdRuleBroken', () => {
  const cases: Array<[string, string, RegExp | undefined]> = [
    ['plain', 'summer/beach', undefined],
    ['spaces, commas, = @ ( ) inside', 'a, b=100 @(x)', undefined],
    ['non-English letters', '日本語/café ü', undefined],
    ['dots and dashes', '../a-b/./c', undefined],
    ['255 characters', 'x'.repeat(255), undefined],
    ['255 code points, 510 UTF-16 units', '😀'.repeat(255), undefined],
    ['256 characters', 'x'.repeat(256), /1 to 255 characters \(it has 256\)/],
    ['empty', '', /it is empty/],
    ['question mark', 'why?x=1', /\(it contains "\?"\)/],
    ['ampersand', 'a&b', /"&"/],
    ['hash', 'c#d', /"#"/],
    ['backslash', 'a\\b', /"\\\\"/],
    ['percent', '100%', /"%"/],
    ['percent escape', 'a%26b', /"%"/],
    ['angle brackets', '<b>', /"<"/],
    ['plus', 'a+b', /"\+"/],
    ['leading slash', '/lead', /begin or end with whitespace or "\/"/],
    ['trailing slash', 'trail/', /begin or end/],
    ['leading space', ' x', /begin or end/],
    ['trailing newline', 'x\n', /begin or end/],
    ['folder v + digits', 'v2/photo', /folder "v2"/],
    ['last segment v + digits is a name, not a folder', 'photos/v2', undefined],
    ['folder v alone', 'v/photo', undefined],
  ];
  for (const [name, publicId, rule] of cases) {
    test(name, () => {
      const got = publicIdRuleBroken(publicId);
      if (rule === undefined) assert.equal(got, undefined);
      else assert.match(got ?? '(accepted)', rule);
    });
  }
});

describe('moderationSteps', () => {
  const cases: Array<[string | undefined, { manual: boolean; decide?: string }]> = [
    [undefined, { manual: false }],
    ['', { manual: false }],
    ['pending', { manual: true }],
    ['queued', { manual: true }],
    ['approved', { manual: true, decide: 'approved' }],
    ['rejected', { manual: true, decide: 'rejected' }],
    // A chain whose one moderation rejected: the rest are aborted, the asset is rejected.
    ['aborted', { manual: true, decide: 'rejected' }],
    ['something new', { manual: true }],
  ];
  for (const [status, steps] of cases) test(String(status), () => assert.deepEqual(moderationSteps(status), steps));
});
