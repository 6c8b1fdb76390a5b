/**
 * signedDeliveryUrl (adapters/cloudinary/signed-url.ts): the real SDK's `utils.url` with
 * `sign_url`, grafted onto the listed secure_url's host. Each signature is checked against the
 * Cloudinary fake's own signer (test/fakes/cloudinary/delivery-signature.ts), written apart from
 * the SDK, for SHA-1, SHA-256 (`signature_algorithm`) and `long_url_signature`.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { v2 as cloudinary } from 'cloudinary';
import type { Asset } from '../../lambda/core/asset.ts';
import { signedDeliveryUrl } from '../../lambda/adapters/cloudinary/signed-url.ts';
import { expectedSignature, signatureOf } from '../fakes/cloudinary/delivery-signature.ts';

const SECRET = 'unit-secret-0123456789';
cloudinary.config({ cloud_name: 'demo', api_key: '1234', api_secret: SECRET, secure: true });

const base: Asset = {
  assetId: 'id', publicId: 'cat', resourceType: 'image', type: 'upload', format: 'jpg', version: 1, bytes: 10, createdAt: '',
  secureUrl: 'https://res.cloudinary.com/demo/image/upload/v1/cat.jpg', tags: [], context: {}, metadata: {},
};

/** The path after `/<resource_type>/<type>/`, split, and the signature segment's value. */
const parts = (url: string, asset: Asset): { sig: string | undefined; after: string[] } => {
  const path = new URL(url).pathname;
  const marker = `/${asset.resourceType}/${asset.type}/`;
  const segs = path.slice(path.indexOf(marker) + marker.length).split('/');
  return { sig: signatureOf(segs[0]), after: segs.slice(1) };
};

describe('signedDeliveryUrl: signed, fl_original for images and videos, the listed host', () => {
  const cases: Array<[string, Partial<Asset>, RegExp]> = [
    ['public upload image', {}, /^https:\/\/res\.cloudinary\.com\/demo\/image\/upload\/s--[\w-]{8}--\/fl_original\/v1\/cat\.jpg$/],
    ['private image', { type: 'private', secureUrl: 'https://res.cloudinary.com/demo/image/private/v1/cat.jpg' }, /^https:\/\/res\.cloudinary\.com\/demo\/image\/private\/s--[\w-]{8}--\/fl_original\/v1\/cat\.jpg$/],
    ['authenticated video', { resourceType: 'video', type: 'authenticated', format: 'mp4', secureUrl: 'https://res.cloudinary.com/demo/video/authenticated/v1/cat.mp4' }, /\/video\/authenticated\/s--[\w-]{8}--\/fl_original\/v1\/cat\.mp4$/],
    ['raw: no flag, the public_id carries the extension', { resourceType: 'raw', format: '', publicId: 'docs/a.pdf', secureUrl: 'https://res.cloudinary.com/demo/raw/upload/v1/docs/a.pdf' }, /\/raw\/upload\/s--[\w-]{8}--\/v1\/docs\/a\.pdf$/],
    ['private CDN host kept (no cloud in the path)', { secureUrl: 'https://demo-res.cloudinary.com/image/upload/v1/cat.jpg' }, /^https:\/\/demo-res\.cloudinary\.com\/image\/upload\/s--[\w-]{8}--\/fl_original\/v1\/cat\.jpg$/],
    ['a cloud named like a resource type', { secureUrl: 'https://res.cloudinary.com/image/image/upload/v1/cat.jpg' }, /^https:\/\/res\.cloudinary\.com\/image\/image\/upload\/s--/],
    ['names in several scripts, encoded as the SDK encodes them', { publicId: 'папка/写真 1', secureUrl: 'https://res.cloudinary.com/demo/image/upload/v1/x.jpg' }, /\/fl_original\/v1\/%D0%BF%D0%B0%D0%BF%D0%BA%D0%B0\/%E5%86%99%E7%9C%9F%201\.jpg$/],
    ['a literal % (older names): escaped, not decoded', { publicId: '100% 6', secureUrl: 'https://res.cloudinary.com/demo/image/upload/v1/x.jpg' }, /\/fl_original\/v1\/100%25%206\.jpg$/],
    ['an escape-like % stays literal', { publicId: 'a%20b', secureUrl: 'https://res.cloudinary.com/demo/image/upload/v1/x.jpg' }, /\/fl_original\/v1\/a%2520b\.jpg$/],
    ['another host is kept, for the host policy to refuse', { secureUrl: 'https://evil.example/demo/image/upload/v1/cat.jpg' }, /^https:\/\/evil\.example\/demo\/image\/upload\/s--/],
    ['credentials in the listed URL are kept, for the host policy to refuse', { secureUrl: 'http://u:p@127.0.0.1:9/demo/image/upload/v1/cat.jpg' }, /^http:\/\/u:p@127\.0\.0\.1:9\/demo\/image\/upload\/s--/],
    ['a URL without the marker is returned as listed', { secureUrl: 'file:///etc/passwd' }, /^file:\/\/\/etc\/passwd$/],
  ];
  for (const [name, patch, want] of cases) {
    test(name, () => {
      const asset = { ...base, ...patch };
      const url = signedDeliveryUrl(cloudinary.utils, asset);
      assert.match(url, want);
      const { sig, after } = parts(url, asset);
      if (sig !== undefined) assert.equal(sig, expectedSignature(SECRET, after, 8, 'sha1'), 'the fake signs it the same way');
      assert.ok(!url.includes('_a='), 'no analytics parameter');
    });
  }

  test('SHA-256 (signature_algorithm) and long_url_signature', () => {
    for (const [config, length, algorithm] of [[{ signature_algorithm: 'sha256' }, 8, 'sha256'], [{ long_url_signature: true }, 32, 'sha256']] as const) {
      cloudinary.config(config);
      try {
        const priv = { ...base, type: 'private', secureUrl: 'https://res.cloudinary.com/demo/image/private/v1/cat.jpg' };
        const { sig, after } = parts(signedDeliveryUrl(cloudinary.utils, priv), priv);
        assert.equal(sig?.length, length);
        assert.equal(sig, expectedSignature(SECRET, after, length, algorithm));
        assert.notEqual(sig, expectedSignature(SECRET, after, 8, 'sha1').slice(0, length));
      } finally {
        cloudinary.config({ signature_algorithm: 'sha1', long_url_signature: false });
      }
    }
  });

  test('a signature covers the transformation and the public_id, not the version', () => {
    const sig = (a: Partial<Asset>): string | undefined => parts(signedDeliveryUrl(cloudinary.utils, { ...base, ...a }), { ...base, ...a }).sig;
    assert.equal(sig({ version: 1 }), sig({ version: 2, secureUrl: 'https://res.cloudinary.com/demo/image/upload/v2/cat.jpg' }));
    assert.notEqual(sig({}), sig({ publicId: 'dog' }));
    assert.notEqual(sig({}), sig({ resourceType: 'raw', format: '', publicId: 'cat.jpg', secureUrl: 'https://res.cloudinary.com/demo/raw/upload/v1/cat.jpg' }));
  });
});
