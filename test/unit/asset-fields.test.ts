/**
 * Real-account behaviours, pure parts: what a listed resource becomes (resource.ts toAsset), which originals
 * need the signed download API (core/download-route.ts), and
 * that object metadata keeps to identity however long a folder or shown name is.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { accessRestricted, deliveredFormat } from '../../lambda/core/asset.ts';
import { downloadApiReason } from '../../lambda/core/download-route.ts';
import type { Asset } from '../../lambda/core/asset.ts';
import { objectMetadata } from '../../lambda/core/metadata.ts';
import { toAsset } from '../../lambda/adapters/cloudinary/resource.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const base: Asset = {
  assetId: 'id', publicId: 'cat', resourceType: 'image', type: 'upload', format: 'jpg', version: 1, bytes: 10, createdAt: '',
  secureUrl: 'https://res.cloudinary.com/demo/image/upload/v1/cat.jpg', tags: [], context: {}, metadata: {},
};

describe('toAsset: the fields a restore needs', () => {
  test('dynamic folder, shown name, access, moderation', () => {
    const a = toAsset({
      public_id: 'x1', resource_type: 'image', type: 'upload', asset_folder: 'A/B', display_name: 'Nice', access_mode: 'authenticated',
      access_control: [{ access_type: 'token' }, { access_type: 'anonymous', start: '2026-01-01T00:00:00Z', junk: 1 }, 'bad'],
      moderation_status: 'approved',
    });
    assert.equal(a.assetFolder, 'A/B');
    assert.equal(a.displayName, 'Nice');
    assert.equal(a.accessMode, 'authenticated');
    assert.deepEqual(a.accessControl, [{ access_type: 'token' }, { access_type: 'anonymous', start: '2026-01-01T00:00:00Z' }]);
    assert.equal(a.moderationStatus, 'approved');
    assert.equal(a.processing, undefined);
  });
  test('moderation from the details shape; processing from placeholder or pending', () => {
    assert.equal(toAsset({ public_id: 'x', resource_type: 'image', type: 'upload', moderation: [{ kind: 'manual', status: 'rejected' }] }).moderationStatus, 'rejected');
    assert.equal(toAsset({ public_id: 'x', resource_type: 'video', type: 'upload', placeholder: true }).processing, true);
    assert.equal(toAsset({ public_id: 'x', resource_type: 'video', type: 'upload', status: 'pending' }).processing, true);
  });
  test('empty folder and public access are not recorded', () => {
    const a = toAsset({ public_id: 'x', resource_type: 'image', type: 'upload', asset_folder: '', access_control: [] });
    assert.ok(!('assetFolder' in a) && !('accessControl' in a));
  });
});

describe('downloadApiReason: the download API only where a signed delivery URL cannot serve', () => {
  const cases: Array<[string, Partial<Asset>, string | undefined]> = [
    ['public upload', {}, undefined],
    ['private type: signed URL', { type: 'private' }, undefined],
    ['authenticated type: signed URL', { type: 'authenticated' }, undefined],
    ['access_mode authenticated: signed URL', { accessMode: 'authenticated' }, undefined],
    ['access_mode public', { accessMode: 'public' }, undefined],
    ['token rule', { accessControl: [{ access_type: 'token' }] }, 'access-control'],
    ['anonymous, open now', { accessControl: [{ access_type: 'anonymous', start: '2026-01-01T00:00:00Z' }] }, undefined],
    ['anonymous, opens later', { accessControl: [{ access_type: 'anonymous', start: '2026-07-01T00:00:00Z' }] }, 'access-control'],
    ['anonymous, closed already', { accessControl: [{ access_type: 'anonymous', end: '2026-05-01T00:00:00Z' }] }, 'access-control'],
    ['token or an open anonymous window: public', { accessControl: [{ access_type: 'token' }, { access_type: 'anonymous' }] }, undefined],
    ['a .. segment', { publicId: 'a/../b', type: 'private' }, 'dot-segment'],
    ['an empty segment', { publicId: 'double//slash' }, 'empty-segment'],
    ['a leading slash', { publicId: '/lead', type: 'authenticated' }, 'empty-segment'],
    ['a trailing slash', { publicId: 'trail/' }, 'empty-segment'],
  ];
  for (const [name, patch, want] of cases) test(name, () => assert.equal(downloadApiReason({ ...base, ...patch }, NOW), want));
  test('accessRestricted without rules', () => assert.equal(accessRestricted(undefined, NOW), false));
  test('deliveredFormat reads a raw extension', () => assert.equal(deliveredFormat({ format: '', publicId: 'docs/Terms.PDF' }), 'pdf'));
});

test('object metadata keeps to identity, far below 2 KB, whatever the folder and name', () => {
  const meta = objectMetadata({ ...base, assetFolder: 'F/'.repeat(500), displayName: 'N'.repeat(1000), accessControl: [{ access_type: 'token' }], moderationStatus: 'approved' });
  assert.deepEqual(Object.keys(meta).sort(), ['cld-asset-id', 'cld-bytes', 'cld-format', 'cld-public-id', 'cld-resource-type', 'cld-type', 'cld-version']);
  const size = Object.entries(meta).reduce((n, [k, v]) => n + k.length + v.length, 0);
  assert.ok(size < 512, `${size} bytes`);
});
