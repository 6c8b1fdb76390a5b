/**
 * Reading an asset's identity back from its backup key (lambda/core/restore-plan.ts), which
 * restore uses for objects the catalog does not name: every key keyFor makes (except hashed
 * ones) must map back to the same public_id, resource type, delivery type and format.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { keyFor } from '../../lambda/core/keys.ts';
import { identityFromKey, identityOf, selected } from '../../lambda/core/restore-plan.ts';

const asset = (publicId: string, format: string, resourceType = 'image', type = 'upload') => ({ publicId, format, resourceType, type });

describe('identityFromKey inverts keyFor', () => {
  const cases = [
    asset('photo', 'jpg'),
    asset('folder/sub/Summer trip 1', 'png'),
    asset('v1.2/photo', 'jpg'),
    asset('日本語/café', 'webp', 'image', 'private'),
    asset('clip', 'mp4', 'video', 'authenticated'),
    asset('docs/readme.txt', '', 'raw'),
    asset('archive.tar.gz', '', 'raw', 'private'),
    asset('no-extension', '', 'raw'),
    asset('double//slash', 'jpg'),
    asset('/leading', 'png', 'video'),
    asset('dots/../up', 'jpg'),
    asset('ctrl\u0001char', '', 'raw'),
    asset('_encoded/reserved', 'gif'),
  ];
  for (const prefix of ['', 'backups/cld']) {
    for (const a of cases) {
      test(`${prefix || '(no prefix)'}: ${JSON.stringify(a.publicId)} (${a.resourceType}/${a.type}, "${a.format}")`, () => {
        assert.deepEqual(identityFromKey(prefix, keyFor(prefix, a)), a);
      });
    }
  }

  test('a hashed key cannot be mapped without the catalog', () => {
    const long = `${'segment/'.repeat(150)}end`;
    const key = keyFor('p', asset(long, 'jpg'));
    assert.match(key, /\/_hashed\//);
    assert.match(identityFromKey('p', key) as string, /catalog/);
  });

  test('keys that are not assets are refused with a reason', () => {
    assert.equal(typeof identityFromKey('p', 'other/image/upload/x.jpg'), 'string');
    assert.equal(typeof identityFromKey('', 'image/upload'), 'string');
    assert.equal(typeof identityFromKey('', 'image//x.jpg'), 'string');
  });

  test('an image key without an extension keeps the whole name as public_id', () => {
    assert.deepEqual(identityFromKey('', 'image/upload/folder/name'), asset('folder/name', ''));
  });
});

describe('selected and identityOf', () => {
  test('--only is a plain public_id prefix; none selects everything', () => {
    assert.equal(selected('products/shoe', 'products/'), true);
    assert.equal(selected('product', 'products/'), false);
    assert.equal(selected('anything', undefined), true);
    assert.equal(selected('anything', ''), true);
  });

  test('identityOf separates the three parts unambiguously', () => {
    assert.notEqual(identityOf(asset('a/b', '', 'image', 'upload')), identityOf(asset('b', '', 'image', 'upload/a')));
  });
});
