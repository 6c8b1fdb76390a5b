/**
 * Object metadata (lambda/core/metadata.ts): the Cloudinary identity every object carries
 * (docs/architecture.md, "What goes where"), ASCII only because S3 metadata travels in HTTP headers,
 * within S3's 2 KB of user metadata, and read back unchanged.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Asset } from '../../lambda/core/asset.ts';
import { objectMetadata, readObjectMetadata } from '../../lambda/core/metadata.ts';

const makeAsset = (over: Partial<Asset> = {}): Asset => ({
  assetId: '3515c6000a548515f1134043f9785c2f',
  publicId: 'folder/cat',
  resourceType: 'image',
  type: 'upload',
  format: 'jpg',
  version: 1_700_000_000,
  bytes: 123_456,
  createdAt: '2023-11-14T22:13:20Z',
  secureUrl: 'https://res.cloudinary.com/demo/image/upload/v1700000000/folder/cat.jpg',
  tags: ['a'],
  context: { alt: 'x' },
  metadata: {},
  ...over,
});

const identity = (a: Asset) => ({
  publicId: a.publicId,
  assetId: a.assetId,
  resourceType: a.resourceType,
  type: a.type,
  format: a.format,
  version: a.version,
  bytes: a.bytes,
});

const isAscii = (s: string): boolean => [...s].every((ch) => (ch.codePointAt(0) ?? 0) < 128);

/** S3's own measure of user metadata: UTF-8 bytes of every key and value. */
const metadataBytes = (meta: Record<string, string>): number =>
  Object.entries(meta).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);

describe('objectMetadata -> readObjectMetadata round trip', () => {
  const cases: ReadonlyArray<readonly [string, Asset]> = [
    ['plain', makeAsset()],
    ['raw without format', makeAsset({ publicId: 'docs/report.pdf', resourceType: 'raw', format: '' })],
    ['private video', makeAsset({ resourceType: 'video', type: 'private', format: 'mp4' })],
    ['accents', makeAsset({ publicId: 'café/déjà vu' })],
    ['NFD accent', makeAsset({ publicId: 'cafe\u0301' })],
    ['CJK', makeAsset({ publicId: '日本語/写真' })],
    ['emoji (astral plane)', makeAsset({ publicId: 'emoji 😀' })],
    ['percent', makeAsset({ publicId: '100%' })],
    ['percent escape look-alike', makeAsset({ publicId: 'a%2Fb%' })],
    ['plus, hash, question mark, ampersand, equals', makeAsset({ publicId: 'a+b#c?d&e=f' })],
    ['spaces and tabs', makeAsset({ publicId: ' lead\tand trail ' })],
    ['newline and CR (header injection)', makeAsset({ publicId: 'a\r\nx-amz-meta-evil: 1' })],
    ['quotes and backslash', makeAsset({ publicId: `"q" 'q' \\` })],
    ['version 0 and bytes 0', makeAsset({ version: 0, bytes: 0 })],
    ['5 TB asset', makeAsset({ bytes: 5 * 2 ** 40 })],
    ['1,024 ASCII characters (the longest kept)', makeAsset({ publicId: 'a'.repeat(1024) })],
  ];
  for (const [name, a] of cases) {
    test(name, () => {
      const meta = objectMetadata(a);
      for (const [k, v] of Object.entries(meta)) {
        assert.ok(isAscii(k), `key ${JSON.stringify(k)} is ASCII`);
        assert.ok(isAscii(v), `${k}=${JSON.stringify(v)} is ASCII`);
        assert.doesNotMatch(v, /[\u0000-\u001f\u007f]/, `${k} has no control character`);
        assert.equal(k, k.toLowerCase(), 'keys are lower case, as S3 returns them');
      }
      assert.ok(metadataBytes(meta) <= 2048, `${metadataBytes(meta)} bytes of metadata`);
      assert.deepEqual(readObjectMetadata(meta), identity(a));
    });
  }
});

describe('a public_id too long for S3 metadata is left out (the catalog has it)', () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['1,025 ASCII characters', 'a'.repeat(1025)],
    ['2,000 ASCII characters', 'b'.repeat(2000)],
    ['200 CJK characters (1,800 once encoded)', '日'.repeat(200)],
    ['300 x "é" (1,800 once encoded)', 'é'.repeat(300)],
  ];
  for (const [name, publicId] of cases) {
    test(name, () => {
      const a = makeAsset({ publicId });
      const meta = objectMetadata(a);
      assert.ok(metadataBytes(meta) <= 2048, `${metadataBytes(meta)} bytes of metadata`);
      for (const v of Object.values(meta)) assert.ok(isAscii(v));
      const { publicId: _omitted, ...rest } = identity(a);
      assert.deepEqual(readObjectMetadata(meta), rest);
    });
  }
});

describe('readObjectMetadata of objects without (all) metadata', () => {
  const cases: ReadonlyArray<readonly [string, Record<string, string | undefined>, object]> = [
    ['nothing', {}, {}],
    ['unrelated metadata only', { 'other-tool': 'x' }, {}],
    ['only a public_id', { 'cld-public-id': 'caf%C3%A9' }, { publicId: 'café' }],
    ['undefined values', { 'cld-public-id': undefined, 'cld-bytes': '12' }, { bytes: 12 }],
  ];
  for (const [name, meta, expected] of cases) {
    test(name, () => {
      assert.deepEqual(readObjectMetadata(meta), expected);
    });
  }
});
