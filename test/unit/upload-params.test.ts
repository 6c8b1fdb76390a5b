/**
 * How restore encodes context and structured metadata for the Upload API
 * (lambda/core/upload-params.ts), checked against the fake's parser, which follows Cloudinary's
 * documented `k=v|k2=v2` form with `=` and `|` escaped by a backslash.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeKeyValues, escapeKeyValue, uploadFilename } from '../../lambda/core/upload-params.ts';
import { parseKeyValues } from '../fakes/cloudinary/params.ts';

describe('encodeKeyValues', () => {
  const cases: Array<[string, Record<string, unknown>, string | undefined]> = [
    ['empty record: no parameter at all', {}, undefined],
    ['plain pairs', { alt: 'A cat', caption: 'hi' }, 'alt=A cat|caption=hi'],
    ['= and | in values are escaped', { caption: 'a|b=c' }, 'caption=a\\|b\\=c'],
    ['= and | in keys are escaped too (the SDK leaves them)', { 'k=1|x': 'v' }, 'k\\=1\\|x=v'],
    ['numbers and booleans as text, floats keep their key', { n: 3, f: 1.5, b: true }, 'n=3|f=1.5|b=true'],
    ['null and undefined values are left out', { a: null, b: undefined, c: 'x' }, 'c=x'],
    ['a list is a JSON array of strings', { colors: ['red', 'green'] }, 'colors=["red","green"]'],
    ['list items with separators are escaped', { tags: ['a|b', 'c=d'] }, 'tags=["a\\|b","c\\=d"]'],
    ['unicode passes through', { 'légende': '日本語 😀' }, 'légende=日本語 😀'],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => assert.equal(encodeKeyValues(input), expected));
  }

  test('round-trips through the fake’s parser (context: strings; metadata: strings and lists)', () => {
    const context = { alt: 'é|=', 'a=b': 'x|y', caption: '', plain: 'ok' };
    assert.deepEqual(parseKeyValues(encodeKeyValues(context)), context);
    const metadata = { sku: 'A|1=2', colors: ['red', 'gr|een'], date: '2024-01-02' };
    assert.deepEqual(parseKeyValues(encodeKeyValues(metadata), true), metadata);
  });

  test('escapeKeyValue escapes only = and |', () => {
    assert.equal(escapeKeyValue('a=b|c\\d,e'), 'a\\=b\\|c\\d,e');
  });
});

describe('uploadFilename', () => {
  const cases: Array<[string, string, string]> = [
    ['folder/photo', 'jpg', 'photo.jpg'],
    ['photo.jpg', 'jpg', 'photo.jpg'],
    ['docs/readme.txt', '', 'readme.txt'],
    ['日本語/café ü', 'png', 'caf_.png'],
    ['quote"and\r\nnewline', 'mp4', 'quote_and_newline.mp4'],
    ['..', 'jpg', 'file.jpg'],
    ['x', 'we/ird', 'x'],
  ];
  for (const [publicId, format, expected] of cases) {
    test(`${JSON.stringify(publicId)} + ${JSON.stringify(format)}`, () => assert.equal(uploadFilename(publicId, format), expected));
  }

  test('never holds a quote, a control character or non-ASCII (it goes into a multipart header)', () => {
    for (const id of ['a"b', 'x\u0000y', 'ü/ö', 'a\\b', 'semi;colon']) {
      assert.match(uploadFilename(id, 'jpg'), /^[A-Za-z0-9._-]+$/);
    }
  });
});
