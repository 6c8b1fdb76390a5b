/**
 * Backup keys (lambda/core/keys.ts), against the rules in docs/architecture.md "What goes where":
 * `<prefix>/<resource_type>/<type>/<public_id>.<format>`, unsafe public_ids encoded reversibly,
 * every key <= 1,024 bytes, distinct public_ids never share a key.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEncodedKey, keyFor, normalizePrefix, unsafeReason } from '../../lambda/core/keys.ts';

interface KeyInput {
  readonly publicId: string;
  readonly format: string;
  readonly resourceType: string;
  readonly type: string;
}

const asset = (publicId: string, format = 'jpg', resourceType = 'image', type = 'upload'): KeyInput => ({
  publicId,
  format,
  resourceType,
  type,
});

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

/** A safe public_id of exactly `n` UTF-8 bytes: 9-byte segments joined by `/`, no empty segment. */
const safeIdOfBytes = (n: number): string => {
  let out = '';
  while (n - out.length > 10) out += 'abcdefghi/';
  return out + 'z'.repeat(n - out.length);
};

/** Sanity of the helper itself, so a wrong helper cannot make the boundary cases pass. */
test('safeIdOfBytes builds ids of the asked length with short, non-empty segments', () => {
  for (const n of [1, 10, 11, 999, 1000, 1001]) {
    const id = safeIdOfBytes(n);
    assert.equal(utf8(id), n);
    assert.ok(id.split('/').every((s) => s.length > 0 && s.length <= 10));
  }
});

describe('normalizePrefix', () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['', ''],
    ['/', ''],
    ['backup', 'backup'],
    ['a/b', 'a/b'],
    ['/a/b/', 'a/b'],
    ['//a/b//', 'a/b'],
  ];
  for (const [input, expected] of cases) {
    test(`${JSON.stringify(input)} -> ${JSON.stringify(expected)}`, () => {
      assert.equal(normalizePrefix(input), expected);
    });
  }
});

describe('keyFor: plain keys are <prefix>/<resource_type>/<type>/<public_id>[.<format>]', () => {
  const cases: ReadonlyArray<{ name: string; prefix: string; asset: KeyInput; key: string }> = [
    { name: 'image in a folder', prefix: 'backup', asset: asset('folder/cat'), key: 'backup/image/upload/folder/cat.jpg' },
    { name: 'video', prefix: 'backup', asset: asset('clips/run', 'mp4', 'video'), key: 'backup/video/upload/clips/run.mp4' },
    { name: 'raw without format: no trailing dot', prefix: 'backup', asset: asset('docs/report.pdf', '', 'raw'), key: 'backup/raw/upload/docs/report.pdf' },
    { name: 'private delivery type', prefix: 'backup', asset: asset('x', 'png', 'image', 'private'), key: 'backup/image/private/x.png' },
    { name: 'authenticated delivery type', prefix: 'backup', asset: asset('x', 'png', 'image', 'authenticated'), key: 'backup/image/authenticated/x.png' },
    { name: "prefix ''", prefix: '', asset: asset('cat'), key: 'image/upload/cat.jpg' },
    { name: "prefix '/a/b/'", prefix: '/a/b/', asset: asset('cat'), key: 'a/b/image/upload/cat.jpg' },
    { name: "prefix 'a/b'", prefix: 'a/b', asset: asset('cat'), key: 'a/b/image/upload/cat.jpg' },
    { name: 'percent sign', prefix: 'p', asset: asset('100%'), key: 'p/image/upload/100%.jpg' },
    { name: 'percent escape look-alike', prefix: 'p', asset: asset('a%2Fb'), key: 'p/image/upload/a%2Fb.jpg' },
    { name: 'plus', prefix: 'p', asset: asset('a+b'), key: 'p/image/upload/a+b.jpg' },
    { name: 'hash', prefix: 'p', asset: asset('c#d'), key: 'p/image/upload/c#d.jpg' },
    { name: 'question mark', prefix: 'p', asset: asset('why?'), key: 'p/image/upload/why?.jpg' },
    { name: 'spaces', prefix: 'p', asset: asset('Summer trip/day 1'), key: 'p/image/upload/Summer trip/day 1.jpg' },
    { name: 'accented', prefix: 'p', asset: asset('café/déjà vu'), key: 'p/image/upload/café/déjà vu.jpg' },
    { name: 'CJK', prefix: 'p', asset: asset('日本語/写真'), key: 'p/image/upload/日本語/写真.jpg' },
    { name: 'emoji', prefix: 'p', asset: asset('emoji 😀'), key: 'p/image/upload/emoji 😀.jpg' },
    { name: 'dots inside a segment', prefix: 'p', asset: asset('a..b/.hidden/x.'), key: 'p/image/upload/a..b/.hidden/x..jpg' },
    { name: "'_encoded' not as first segment", prefix: 'p', asset: asset('a/_encoded/b'), key: 'p/image/upload/a/_encoded/b.jpg' },
    {
      name: 'a 200-byte middle segment (the limit) stays plain',
      prefix: 'p',
      asset: asset(`${'m'.repeat(200)}/x`),
      key: `p/image/upload/${'m'.repeat(200)}/x.jpg`,
    },
    {
      name: 'a 200-byte file name including ".jpg" stays plain',
      prefix: 'p',
      asset: asset('f'.repeat(196)),
      key: `p/image/upload/${'f'.repeat(196)}.jpg`,
    },
    {
      name: 'a 200-byte raw file name (no extension added) stays plain',
      prefix: 'p',
      asset: asset('r'.repeat(200), '', 'raw'),
      key: `p/raw/upload/${'r'.repeat(200)}`,
    },
    {
      name: 'a 100 x "é" segment (200 bytes) stays plain',
      prefix: 'p',
      asset: asset(`${'é'.repeat(100)}/x`),
      key: `p/image/upload/${'é'.repeat(100)}/x.jpg`,
    },
    {
      // root "backup/image/upload" (19) + "/" + 1000 + ".jpg" = 1024 bytes
      name: 'a key of exactly 1,024 bytes stays plain',
      prefix: 'backup',
      asset: asset(safeIdOfBytes(1000)),
      key: `backup/image/upload/${safeIdOfBytes(1000)}.jpg`,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(unsafeReason(c.asset.publicId, c.asset.format), undefined, 'the public_id is safe');
      const key = keyFor(c.prefix, c.asset);
      assert.equal(key, c.key);
      assert.equal(decodeEncodedKey(c.prefix, key), undefined, 'a plain key is not an encoded key');
    });
  }
});

/** Public_ids that must not be used as they are; every one must be stored under _encoded or _hashed. */
const UNSAFE: ReadonlyArray<{ name: string; asset: KeyInput; tooLongOnly?: boolean }> = [
  { name: 'empty public_id', asset: asset('') },
  { name: 'empty public_id, raw', asset: asset('', '', 'raw') },
  { name: "'.'", asset: asset('.') },
  { name: "'..'", asset: asset('..') },
  { name: "'.' segment", asset: asset('a/./b') },
  { name: "'..' segment", asset: asset('a/../b') },
  { name: 'path traversal', asset: asset('../../etc/passwd', '', 'raw') },
  { name: "trailing '..'", asset: asset('a/..', '', 'raw') },
  { name: 'leading slash', asset: asset('/lead') },
  { name: 'trailing slash', asset: asset('trail/') },
  { name: 'double slash', asset: asset('a//b') },
  { name: 'only a slash', asset: asset('/') },
  { name: 'NUL', asset: asset('a\u0000b') },
  { name: 'tab', asset: asset('a\tb') },
  { name: 'newline', asset: asset('line\nbreak') },
  { name: 'carriage return', asset: asset('cr\r') },
  { name: 'escape (0x1b)', asset: asset('\u001b[31mred') },
  { name: 'DEL (0x7f)', asset: asset('del\u007f') },
  { name: 'backslash', asset: asset('back\\slash') },
  { name: 'backslash traversal', asset: asset('..\\..\\x') },
  { name: 'a 201-byte middle segment', asset: asset(`${'m'.repeat(201)}/x`) },
  { name: 'a 201-byte raw file name', asset: asset('r'.repeat(201), '', 'raw') },
  { name: 'a 101 x "é" segment (101 chars, 202 bytes)', asset: asset(`${'é'.repeat(101)}/x`) },
  { name: 'file name of 201 bytes with ".jpg"', asset: asset('f'.repeat(197)) },
  { name: '2,000-byte name in one segment', asset: asset('n'.repeat(2000)) },
  // Safe segments, but no prefix makes a 2,000-byte id fit in a key: only keyFor can tell.
  { name: '2,000-byte name in short segments', asset: asset(safeIdOfBytes(2000)), tooLongOnly: true },
  { name: '2,000-byte Unicode name', asset: asset('日本'.repeat(333) + 'xx') },
  { name: 'starts with _encoded/', asset: asset('_encoded/aGVsbG8') },
  { name: 'starts with _hashed/', asset: asset('_hashed/abc') },
  { name: 'unsafe id with an unusual format', asset: asset('a//b', 'tar.gz', 'raw') },
];

describe('keyFor: unsafe public_ids are encoded, within 1,024 bytes, reversibly', () => {
  for (const c of UNSAFE) {
    test(c.name, () => {
      const { publicId, format, resourceType, type } = c.asset;
      if (!c.tooLongOnly) assert.notEqual(unsafeReason(publicId, format), undefined, 'unsafeReason names a reason');
      for (const prefix of ['backup', '', '/a/b/']) {
        const key = keyFor(prefix, c.asset);
        const root = [normalizePrefix(prefix), resourceType, type].filter((s) => s !== '').join('/');
        assert.ok(
          key.startsWith(`${root}/_encoded/`) || key.startsWith(`${root}/_hashed/`),
          `${JSON.stringify(key)} is under ${root}/_encoded/ or ${root}/_hashed/`,
        );
        assert.ok(utf8(key) <= 1024, `key of ${utf8(key)} bytes`);
        const rest = key.slice(root.length + 1);
        for (const segment of rest.split('/')) {
          assert.notEqual(segment, '', 'no empty segment');
          assert.notEqual(segment, '.', "no '.' segment");
          assert.notEqual(segment, '..', "no '..' segment");
          // The reason MAX_SEGMENT_BYTES exists: file systems refuse names over 255 bytes.
          assert.ok(utf8(segment) <= 255, `segment of ${utf8(segment)} bytes`);
        }
        assert.doesNotMatch(key, /[\u0000-\u001f\u007f\\]/, 'no control character or backslash');
        if (key.startsWith(`${root}/_encoded/`)) {
          assert.equal(decodeEncodedKey(prefix, key), publicId, 'decodes back to the public_id');
          assert.equal(decodeEncodedKey(normalizePrefix(prefix), key), publicId, 'with the normalized prefix too');
        } else {
          assert.equal(decodeEncodedKey(prefix, key), undefined, 'a hashed key needs the catalog');
        }
      }
    });
  }
});

describe('keyFor: names too long even encoded go to _hashed', () => {
  const cases: ReadonlyArray<{ name: string; prefix: string; asset: KeyInput }> = [
    // 19 + 1 + 1001 + 4 = 1025 bytes: over the limit as plain, and longer still base64-encoded.
    { name: 'a safe key of 1,025 bytes', prefix: 'backup', asset: asset(safeIdOfBytes(1001)) },
    { name: '2,000-byte name', prefix: 'backup', asset: asset('n'.repeat(2000)) },
    { name: '2,000-byte name, raw', prefix: '', asset: asset(safeIdOfBytes(2000), '', 'raw') },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const key = keyFor(c.prefix, c.asset);
      const root = [normalizePrefix(c.prefix), c.asset.resourceType, c.asset.type].filter((s) => s !== '').join('/');
      assert.ok(key.startsWith(`${root}/_hashed/`), key.slice(0, 80));
      assert.ok(utf8(key) <= 1024);
    });
  }
  test('different long names hash to different keys', () => {
    const a = keyFor('backup', asset(`${'n'.repeat(1999)}a`));
    const b = keyFor('backup', asset(`${'n'.repeat(1999)}b`));
    assert.notEqual(a, b);
  });
});

describe('decodeEncodedKey: only _encoded keys under the given prefix', () => {
  const encoded = keyFor('backup', asset('a//b'));
  const cases: ReadonlyArray<{ name: string; prefix: string; key: string }> = [
    { name: 'a plain key', prefix: 'backup', key: 'backup/image/upload/folder/cat.jpg' },
    { name: "a plain key named '_encoded' (one segment, raw)", prefix: 'backup', key: 'backup/raw/upload/_encoded' },
    { name: 'a hashed key', prefix: 'backup', key: keyFor('backup', asset('n'.repeat(2000))) },
    { name: 'an encoded key read under another prefix', prefix: 'other', key: encoded },
    { name: "an encoded key read under prefix ''", prefix: '', key: encoded },
    { name: 'a catalog key', prefix: 'backup', key: 'backup/_catalog/current.json' },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(decodeEncodedKey(c.prefix, c.key), undefined);
    });
  }
});

describe('keyFor: distinct public_ids never share a key', () => {
  const pairs: ReadonlyArray<readonly [string, string, string]> = [
    ['case only', 'Photo', 'photo'],
    ['case only, encoded', 'A//b', 'a//b'],
    ['NFC vs NFD', 'caf\u00e9', 'cafe\u0301'],
    ['NFC vs NFD, encoded', 'caf\u00e9//', 'cafe\u0301//'],
    ['one space vs two', 'a b', 'a  b'],
    ['slash vs underscore', 'a/b', 'a_b'],
    ['trailing slash', 'a/', 'a'],
    ['leading slash', '/a', 'a'],
    ['double slash', 'a//b', 'a/b'],
    ["'.' segment", 'a/./b', 'a/b'],
    ['backslash vs slash', 'a\\b', 'a/b'],
    ['an unsafe id vs an id that spells its encoding', '.', `_encoded/${Buffer.from('.').toString('base64url')}`],
    ['percent vs its decoding', 'a%2Fb', 'a/b'],
    ['plus vs space', 'a+b', 'a b'],
  ];
  for (const [name, a, b] of pairs) {
    test(name, () => {
      assert.notEqual(a, b);
      for (const prefix of ['backup', '']) {
        for (const format of ['jpg', '']) {
          assert.notEqual(keyFor(prefix, asset(a, format)), keyFor(prefix, asset(b, format)));
        }
      }
    });
  }
  test('every id of the unsafe and plain tables has its own key', () => {
    const ids = new Set<string>([
      ...UNSAFE.map((c) => c.asset.publicId),
      ...pairs.flatMap(([, a, b]) => [a, b]),
      '100%', 'a+b', 'c#d', 'why?', 'Summer trip', 'café', '日本語/写真', 'emoji 😀',
    ]);
    const keys = new Set([...ids].map((id) => keyFor('backup', asset(id))));
    assert.equal(keys.size, ids.size);
  });
});
