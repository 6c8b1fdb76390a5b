/**
 * Download hosts (lambda/core/hosts.ts), against docs/commands.md ("How originals are fetched", hosts): downloads go only to
 * res.cloudinary.com (https), the account's secure_distribution / cname / private CDN, and the
 * API origin exactly. Anything else in an API response is refused.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { refuseUrl } from '../../lambda/core/hosts.ts';
import type { HostPolicy } from '../../lambda/core/hosts.ts';

const CLOUD: HostPolicy = { cloudName: 'demo', apiOrigin: 'https://api.cloudinary.com' };
const LOCAL: HostPolicy = { cloudName: 'demo', apiOrigin: 'http://127.0.0.1:1234' };
const CUSTOM: HostPolicy = {
  cloudName: 'demo',
  apiOrigin: 'https://api.cloudinary.com',
  secureDistribution: 'cdn.example.com',
  cname: 'images.example.org',
};

const IMG = '/demo/image/upload/v1700000000/cat.jpg';

const cases: ReadonlyArray<{ name: string; url: string; policy: HostPolicy; allowed: boolean }> = [
  { name: 'https res.cloudinary.com', url: `https://res.cloudinary.com${IMG}`, policy: CLOUD, allowed: true },
  { name: 'host and scheme in capitals', url: `HTTPS://RES.Cloudinary.COM${IMG}`, policy: CLOUD, allowed: true },
  { name: 'explicit default port 443', url: `https://res.cloudinary.com:443${IMG}`, policy: CLOUD, allowed: true },
  { name: 'signed download on the API host', url: 'https://api.cloudinary.com/v1_1/demo/image/download?api_key=1&signature=s', policy: CLOUD, allowed: true },
  { name: 'API origin on loopback (tests)', url: 'http://127.0.0.1:1234/v1_1/demo/image/download?x=1', policy: LOCAL, allowed: true },
  { name: 'res.cloudinary.com with a loopback API origin', url: `https://res.cloudinary.com${IMG}`, policy: LOCAL, allowed: true },

  { name: 'http on res.cloudinary.com', url: `http://res.cloudinary.com${IMG}`, policy: CLOUD, allowed: false },
  { name: 'http on the https API host', url: 'http://api.cloudinary.com/v1_1/demo/image/download', policy: CLOUD, allowed: false },
  { name: 'another host', url: 'https://example.com/cat.jpg', policy: CLOUD, allowed: false },
  { name: 'cloudinary.com itself', url: 'https://cloudinary.com/cat.jpg', policy: CLOUD, allowed: false },
  { name: 'instance metadata over http', url: 'http://169.254.169.254/latest/meta-data/iam/', policy: CLOUD, allowed: false },
  { name: 'instance metadata over https', url: 'https://169.254.169.254/latest/meta-data/', policy: CLOUD, allowed: false },
  { name: 'metadata as IPv6-mapped literal', url: 'https://[::ffff:a9fe:a9fe]/latest/', policy: CLOUD, allowed: false },
  { name: 'metadata as a decimal IP', url: 'https://2852039166/latest/', policy: CLOUD, allowed: false },
  { name: 'localhost http', url: 'http://localhost/admin', policy: CLOUD, allowed: false },
  { name: 'localhost https', url: 'https://localhost/admin', policy: CLOUD, allowed: false },
  { name: 'file:', url: 'file:///etc/passwd', policy: CLOUD, allowed: false },
  { name: 'ftp: on res.cloudinary.com', url: 'ftp://res.cloudinary.com/cat.jpg', policy: CLOUD, allowed: false },
  { name: 'data:', url: 'data:text/plain,hello', policy: CLOUD, allowed: false },
  { name: 'blob: wrapping the API origin', url: 'blob:https://api.cloudinary.com/5b1c0c4e-0000-4000-8000-000000000000', policy: CLOUD, allowed: false },
  { name: 'blob: wrapping res.cloudinary.com', url: 'blob:https://res.cloudinary.com/5b1c0c4e', policy: CLOUD, allowed: false },
  { name: 'user and password', url: `https://user:pass@res.cloudinary.com${IMG}`, policy: CLOUD, allowed: false },
  { name: 'user only', url: `https://user@res.cloudinary.com${IMG}`, policy: CLOUD, allowed: false },
  { name: 'the real host hidden as userinfo', url: 'https://res.cloudinary.com@evil.com/cat.jpg', policy: CLOUD, allowed: false },
  { name: 'userinfo on the API origin', url: 'http://a:b@127.0.0.1:1234/v1_1/demo', policy: LOCAL, allowed: false },
  { name: 'another port', url: `https://res.cloudinary.com:8443${IMG}`, policy: CLOUD, allowed: false },
  { name: 'lookalike suffix', url: `https://res.cloudinary.com.evil.com${IMG}`, policy: CLOUD, allowed: false },
  { name: 'lookalike prefix', url: `https://evilres.cloudinary.com${IMG}`, policy: CLOUD, allowed: false },
  { name: 'a subdomain of res', url: `https://x.res.cloudinary.com${IMG}`, policy: CLOUD, allowed: false },
  { name: 'API origin, another port', url: 'http://127.0.0.1:1235/v1_1/demo', policy: LOCAL, allowed: false },
  { name: 'API origin, https instead of http', url: 'https://127.0.0.1:1234/v1_1/demo', policy: LOCAL, allowed: false },
  { name: 'API origin, localhost instead of 127.0.0.1', url: 'http://localhost:1234/v1_1/demo', policy: LOCAL, allowed: false },
  { name: 'API origin, no port', url: 'http://127.0.0.1/v1_1/demo', policy: LOCAL, allowed: false },
  { name: 'not a URL', url: 'not a url', policy: CLOUD, allowed: false },
  { name: 'relative path', url: '/demo/image/upload/cat.jpg', policy: CLOUD, allowed: false },

  { name: 'secure_distribution when configured', url: 'https://cdn.example.com/cat.jpg', policy: CUSTOM, allowed: true },
  { name: 'secure_distribution when not configured', url: 'https://cdn.example.com/cat.jpg', policy: CLOUD, allowed: false },
  { name: 'secure_distribution over http', url: 'http://cdn.example.com/cat.jpg', policy: CUSTOM, allowed: false },
  { name: 'secure_distribution lookalike', url: 'https://cdn.example.com.evil.com/cat.jpg', policy: CUSTOM, allowed: false },
  { name: 'cname when configured', url: 'https://images.example.org/cat.jpg', policy: CUSTOM, allowed: true },
  { name: 'cname when not configured', url: 'https://images.example.org/cat.jpg', policy: CLOUD, allowed: false },
  // The private-CDN host of the configured cloud needs no flag: the console's CLOUDINARY_URL never has private_cdn=true.
  { name: 'private CDN of this cloud, no flag', url: `https://demo-res.cloudinary.com/image/upload/v1/cat.jpg`, policy: CLOUD, allowed: true },
  { name: 'private CDN of this cloud, capitals', url: `https://DEMO-res.cloudinary.com/image/upload/v1/cat.jpg`, policy: CLOUD, allowed: true },
  { name: "another cloud's private CDN", url: `https://other-res.cloudinary.com${IMG}`, policy: CLOUD, allowed: false },
  { name: 'private CDN of this cloud over http', url: 'http://demo-res.cloudinary.com/image/upload/v1/cat.jpg', policy: CLOUD, allowed: false },
  { name: 'private CDN lookalike suffix', url: 'https://demo-res.cloudinary.com.evil.com/cat.jpg', policy: CLOUD, allowed: false },
  { name: 'private CDN of a cloud whose name ends like ours', url: 'https://xdemo-res.cloudinary.com/cat.jpg', policy: CLOUD, allowed: false },
];

describe('refuseUrl', () => {
  for (const c of cases) {
    test(`${c.allowed ? 'allows' : 'refuses'}: ${c.name}`, () => {
      const reason = refuseUrl(c.url, c.policy);
      if (c.allowed) {
        assert.equal(reason, undefined);
      } else {
        assert.equal(typeof reason, 'string', `${c.url} must be refused`);
        assert.ok((reason ?? '').length > 0, 'the reason says why');
      }
    });
  }
});
