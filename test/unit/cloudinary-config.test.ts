/**
 * CLOUDINARY_URL parsing (lambda/adapters/cloudinary/config.ts): `cloudinary://API_KEY:API_SECRET@CLOUD_NAME`
 * with optional upload_prefix, secure_distribution, cname and private_cdn. Errors are
 * ConfigErrors that say what is wrong and never contain the secret.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCloudinaryUrl } from '../../lambda/adapters/cloudinary/config.ts';
import type { CloudinaryConfig } from '../../lambda/adapters/cloudinary/config.ts';
import { ConfigError } from '../../lambda/core/errors.ts';

const KEY = '123456789012345';
const SECRET = 'Zk3-s3cr3t_VALUE';
const BASE = `cloudinary://${KEY}:${SECRET}@my-cloud`;
const DEFAULTS: CloudinaryConfig = {
  cloudName: 'my-cloud',
  apiKey: KEY,
  apiSecret: SECRET,
  uploadPrefix: 'https://api.cloudinary.com',
  privateCdn: false,
};

describe('parseCloudinaryUrl: valid URLs', () => {
  const cases: ReadonlyArray<readonly [string, string, CloudinaryConfig]> = [
    ['key, secret and cloud', BASE, DEFAULTS],
    ['surrounding whitespace (a pasted value)', `  ${BASE}\n`, DEFAULTS],
    ['upload_prefix on loopback', `${BASE}?upload_prefix=http://127.0.0.1:1234`, { ...DEFAULTS, uploadPrefix: 'http://127.0.0.1:1234' }],
    ['regional upload_prefix with a trailing slash', `${BASE}?upload_prefix=https://api-eu.cloudinary.com/`, { ...DEFAULTS, uploadPrefix: 'https://api-eu.cloudinary.com' }],
    ['secure_distribution', `${BASE}?secure_distribution=cdn.example.com`, { ...DEFAULTS, secureDistribution: 'cdn.example.com' }],
    ['cname', `${BASE}?cname=images.example.org`, { ...DEFAULTS, cname: 'images.example.org' }],
    ['private_cdn=true', `${BASE}?private_cdn=true`, { ...DEFAULTS, privateCdn: true }],
    ['private_cdn=false', `${BASE}?private_cdn=false`, DEFAULTS],
    [
      'every option at once',
      `${BASE}?upload_prefix=https://api-ap.cloudinary.com&secure_distribution=cdn.example.com&cname=images.example.org&private_cdn=true`,
      {
        ...DEFAULTS,
        uploadPrefix: 'https://api-ap.cloudinary.com',
        secureDistribution: 'cdn.example.com',
        cname: 'images.example.org',
        privateCdn: true,
      },
    ],
  ];
  for (const [name, raw, expected] of cases) {
    test(name, () => {
      assert.deepEqual(parseCloudinaryUrl(raw), expected);
    });
  }
});

describe('parseCloudinaryUrl: invalid URLs throw a ConfigError without the secret', () => {
  const cases: ReadonlyArray<{ name: string; raw: string | undefined; secret?: string; says?: RegExp }> = [
    { name: 'unset', raw: undefined, says: /not set/ },
    { name: 'empty', raw: '', says: /not set/ },
    { name: 'blank', raw: '   ', says: /not set/ },
    { name: 'not a URL', raw: `${KEY}:${SECRET}@my-cloud`, secret: SECRET },
    { name: 'http:// scheme', raw: `http://${KEY}:${SECRET}@my-cloud`, secret: SECRET, says: /cloudinary:\/\// },
    { name: 'https:// scheme', raw: `https://${KEY}:${SECRET}@my-cloud`, secret: SECRET, says: /cloudinary:\/\// },
    { name: 'missing key', raw: `cloudinary://:${SECRET}@my-cloud`, secret: SECRET, says: /API key/ },
    { name: 'missing secret', raw: `cloudinary://${KEY}@my-cloud`, says: /API secret/ },
    { name: 'empty secret', raw: `cloudinary://${KEY}:@my-cloud`, says: /API secret/ },
    { name: 'missing cloud', raw: `cloudinary://${KEY}:${SECRET}@`, secret: SECRET },
    { name: 'missing cloud and "@"', raw: `cloudinary://${KEY}:${SECRET}`, secret: SECRET },
    { name: 'upload_prefix not a URL', raw: `${BASE}?upload_prefix=api.cloudinary.com`, secret: SECRET, says: /upload_prefix/ },
    { name: 'upload_prefix not http(s)', raw: `${BASE}?upload_prefix=ftp://api.cloudinary.com`, secret: SECRET, says: /upload_prefix/ },
    { name: 'a stray "%" in the secret', raw: `cloudinary://${KEY}:ab%zz${SECRET}@my-cloud`, secret: `ab%zz${SECRET}` },
    { name: 'a stray "%" in the key', raw: `cloudinary://1%G2:${SECRET}@my-cloud`, secret: SECRET },
  ];
  for (const c of cases) {
    test(c.name, () => {
      let caught: unknown;
      try {
        parseCloudinaryUrl(c.raw);
      } catch (err) {
        caught = err;
      }
      assert.ok(caught instanceof ConfigError, `a ConfigError, not ${String(caught)}`);
      assert.equal(caught.name, 'ConfigError');
      assert.match(caught.message, /CLOUDINARY_URL/, 'names the setting');
      if (c.says) assert.match(caught.message, c.says);
      if (c.secret) {
        assert.ok(!caught.message.includes(c.secret), 'the message does not contain the secret');
        assert.ok(!String(caught.stack).includes(c.secret), 'nor does the stack');
        assert.ok(!JSON.stringify(caught).includes(c.secret), 'nor any own property');
        assert.ok(!String(caught.cause ?? '').includes(c.secret), 'nor the cause');
      }
    });
  }
});
