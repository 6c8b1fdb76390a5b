import assert from 'node:assert/strict';
import { test } from 'node:test';
import { caseFold, localPathFor } from '../../lambda/core/local-name.ts';

test('local paths are the public_id as folders, made safe for every desktop file system', () => {
  const cases: Array<[string, string, string[]]> = [
    ['products/shoe', 'jpg', ['products', 'shoe.jpg']],
    ['notes/readme.txt', '', ['notes', 'readme.txt']],
    ['a/../b', 'png', ['a', '_', 'b.png']],
    ['./x', 'png', ['_', 'x.png']],
    ['double//slash', 'jpg', ['double', '_', 'slash.jpg']],
    ['/leading', 'jpg', ['_', 'leading.jpg']],
    ['na:me?<>|*"', 'jpg', ['na_me______.jpg']],
    ['tab\there', 'jpg', ['tab_here.jpg']],
    ['back\\slash', 'jpg', ['back_slash.jpg']],
    ['trailing. ', 'jpg', ['trailing__.jpg']],
    ['odd', 'we ird', ['odd']],
    ['caf\u0065\u0301', 'jpg', ['caf\u00e9.jpg']],
  ];
  for (const [id, format, want] of cases) assert.deepEqual(localPathFor(id, format), want, id);
});

test('a long name is clipped to 200 bytes with its extension kept, never splitting a character', () => {
  const [name] = localPathFor('é'.repeat(300), 'jpeg');
  assert.ok(name !== undefined && name.endsWith('.jpeg'));
  assert.ok(Buffer.byteLength(name, 'utf8') <= 200, String(Buffer.byteLength(name ?? '', 'utf8')));
  assert.ok(name.isWellFormed() && !name.includes('\ufffd'));
});

test('case twins fold to the same key, other names do not', () => {
  assert.equal(caseFold('Photo.JPG'), caseFold('photo.jpg'));
  assert.equal(caseFold('Caf\u0065\u0301.jpg'), caseFold('CAF\u00c9.JPG'));
  assert.notEqual(caseFold('photo1.jpg'), caseFold('photo.jpg'));
});
