/**
 * Originals through signed delivery URLs, driven through the real CLI into a folder against the
 * Cloudinary fake: private, authenticated and access_mode authenticated originals cost no Admin
 * API call; an account with strict transformations backs up; the fake refuses a tampered, missing
 * or wrongly made signature; the download API is used only for what a signed URL cannot fetch,
 * and the report says why for each asset. The exceptions: access_control that blocks anonymous
 * delivery now, public_ids a delivery URL cannot name (`.`, `..` or empty segments), formats the CDN
 * refused this run.
 */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { keyFor } from '../../lambda/core/keys.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import type { CloudinaryFakeOptions, FakeAsset, FakeAssetSpec } from '../fakes/cloudinary-fake.ts';
import { expectedSignature } from '../fakes/cloudinary/delivery-signature.ts';
import { parseReport, runCli, sha256OfStream } from '../helpers.ts';

const HOUR = 3600_000;
/** Listings of a run: 3 resource types x 3 delivery types, one page each here. */
const LISTINGS = 9;
/** The structured-metadata field definitions, read once per run. */
const METADATA_FIELDS = 1;

/** A fake with these assets, a folder, and a backup run through the CLI. */
const rig = async (opts: CloudinaryFakeOptions, specs: FakeAssetSpec[]) => {
  const fake = new CloudinaryFake({ cloudName: 'signed-cloud', apiKey: 'k-signed', apiSecret: 'secret-signed-0123', ...opts });
  await fake.start();
  const assets = specs.map((s) => fake.addAsset(s));
  const folder = await mkdtemp(path.join(tmpdir(), 'cb-signed-'));
  const backup = async (url = fake.cloudinaryUrl) => {
    const r = await runCli(['backup', '--to', folder, '--json', '--concurrency', '1'], { CLOUDINARY_URL: url });
    return { r, report: parseReport(r) };
  };
  const wrongBytes = async (list: readonly FakeAsset[]): Promise<string[]> => {
    const wrong: string[] = [];
    for (const a of list) {
      const got = await sha256OfStream(createReadStream(path.join(folder, keyFor('', a)))).catch(() => 'missing');
      if (got !== fake.expectedSha256(a)) wrong.push(a.publicId);
    }
    return wrong;
  };
  const stop = async () => {
    await fake.stop();
    await rm(folder, { recursive: true, force: true });
  };
  return { fake, assets, folder, backup, wrongBytes, stop };
};

/** Private, authenticated and access_mode authenticated assets of every resource type, names in several scripts. */
const restricted: FakeAssetSpec[] = [
  { publicId: 'vault/ключ 1', type: 'private', bytes: 3_000 },
  { publicId: 'vault/写真', type: 'authenticated', bytes: 3_100 },
  { publicId: 'vault/clip', resourceType: 'video', type: 'private', bytes: 5_000 },
  { publicId: 'vault/notes.txt', resourceType: 'raw', type: 'authenticated', format: '', bytes: 700 },
  { publicId: 'members/أ only', accessMode: 'authenticated', bytes: 2_000 },
  { publicId: 'members/film', resourceType: 'video', accessMode: 'authenticated', bytes: 4_000 },
  { publicId: 'public/é', bytes: 1_000 },
];

describe('private and authenticated originals through signed delivery URLs', () => {
  test('backed up byte for byte with no Admin API call for their downloads', async () => {
    const t = await rig({ optimizeByDefault: true }, restricted);
    try {
      const { r, report } = await t.backup();
      assert.equal(r.code, 0, r.stderr);
      assert.equal(report['copied'], restricted.length);
      assert.deepEqual(await t.wrongBytes(t.assets), []);
      assert.equal(t.fake.stats.requests.download, 0, 'no download API request');
      assert.equal(report['downloadApiTotal'], 0);
      assert.deepEqual(report['downloadApi'], []);
      assert.equal(report['cloudinaryApiCalls'], LISTINGS + METADATA_FIELDS, 'only the listings and the metadata fields');
      const deliveries = t.fake.requestLog.filter((l) => l.kind === 'delivery');
      assert.equal(deliveries.length, restricted.length);
      assert.ok(deliveries.every((l) => /^\/signed-cloud\/(image|video|raw)\/(upload|private|authenticated)\/s--[\w-]{8}--\//.test(l.path)), 'every delivery is signed');
    } finally {
      await t.stop();
    }
  });

  test('an account that signs with SHA-256 (signature_algorithm in CLOUDINARY_URL) backs up too', async () => {
    const t = await rig({ urlSignatureAlgorithm: 'sha256' }, restricted.slice(0, 2));
    try {
      const { r, report } = await t.backup(`${t.fake.cloudinaryUrl}&signature_algorithm=sha256`);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(report['copied'], 2);
      assert.equal(t.fake.stats.requests.download, 0);
    } finally {
      await t.stop();
    }
  });
});

describe('strict transformations', () => {
  test('an account with strict transformations backs up every original through signed fl_original URLs', async () => {
    const specs: FakeAssetSpec[] = [
      { publicId: 'open/photo', bytes: 6_000 },
      { publicId: 'open/clip', resourceType: 'video', bytes: 7_000 },
      { publicId: 'open/readme', resourceType: 'raw', format: '', bytes: 800 },
      { publicId: 'vault/photo', type: 'private', bytes: 6_100 },
    ];
    const t = await rig({ strictTransformations: true, optimizeByDefault: true }, specs);
    try {
      // The account refuses the unsigned fl_original URL the backup used to send.
      const photo = t.assets[0] as FakeAsset;
      const unsigned = await fetch(`${t.fake.origin}/signed-cloud/image/upload/fl_original/v${photo.version}/open/photo.jpg`);
      assert.equal(unsigned.status, 401);
      assert.match(unsigned.headers.get('x-cld-error') ?? '', /Transformation fl_original is not allowed/);

      const { r, report } = await t.backup();
      assert.equal(r.code, 0, r.stderr);
      assert.equal(report['copied'], specs.length);
      assert.equal(report['failed'], 0);
      assert.deepEqual(await t.wrongBytes(t.assets), [], 'the original bytes, not the optimized ones');
      assert.equal(t.fake.stats.requests.download, 0, 'no fallback to the download API');
      assert.equal(report['cloudinaryApiCalls'], LISTINGS + METADATA_FIELDS);
    } finally {
      await t.stop();
    }
  });
});

describe('the fake checks delivery signatures as the SDK makes them', () => {
  let fake: CloudinaryFake;
  let asset: FakeAsset;
  const SECRET = 'secret-signed-0123';
  const url = (sig: string): string => `${fake.origin}/signed-cloud/image/private/${sig}/fl_original/v${asset.version}/vault/key.jpg`;
  const sign = (secret: string, algorithm: 'sha1' | 'sha256' = 'sha1', length: 8 | 32 = 8): string =>
    `s--${expectedSignature(secret, ['fl_original', `v${asset.version}`, 'vault', 'key.jpg'], length, algorithm)}--`;

  before(async () => {
    fake = new CloudinaryFake({ cloudName: 'signed-cloud', apiKey: 'k-signed', apiSecret: SECRET });
    await fake.start();
    asset = fake.addAsset({ publicId: 'vault/key', type: 'private', bytes: 900 });
  });
  after(async () => fake.stop());

  test('the SDK-made signature is served; tampered, missing, other-secret or other-path ones answer 401', async () => {
    const { v2: cloudinary } = await import('cloudinary');
    cloudinary.config({ cloud_name: 'signed-cloud', api_key: 'k-signed', api_secret: SECRET, secure: true });
    const sdkUrl = cloudinary.utils.url('vault/key', { resource_type: 'image', type: 'private', version: String(asset.version), format: 'jpg', flags: 'original', sign_url: true, urlAnalytics: false });
    const sdkSig = /\/(s--[\w-]{8}--)\//.exec(sdkUrl)?.[1] ?? '';
    assert.equal(sdkSig, sign(SECRET), 'the fake signs as the SDK does');
    const ok = await fetch(url(sdkSig));
    assert.equal(ok.status, 200);
    assert.equal((await ok.arrayBuffer()).byteLength, 900);

    const flip = (c: string): string => (c === 'A' ? 'B' : 'A');
    const tampered = `s--${flip(sdkSig[3] as string)}${sdkSig.slice(4)}`;
    const cases: Array<[string, string]> = [
      ['tampered', url(tampered)],
      ['made with another secret', url(sign('another-secret'))],
      ['SHA-256 on a SHA-1 account', url(sign(SECRET, 'sha256'))],
      ['missing', `${fake.origin}/signed-cloud/image/private/fl_original/v${asset.version}/vault/key.jpg`],
      ['for another transformation', `${fake.origin}/signed-cloud/image/private/${sdkSig}/v${asset.version}/vault/key.jpg`],
    ];
    for (const [name, u] of cases) {
      const res = await fetch(u);
      assert.equal(res.status, 401, name);
      assert.ok((res.headers.get('x-cld-error') ?? '') !== '', `${name}: X-Cld-Error says why`);
      await res.arrayBuffer();
    }
    const long = await fetch(url(sign(SECRET, 'sha256', 32)));
    assert.equal(long.status, 200, 'long_url_signature (32 characters of SHA-256) is accepted');
    await long.arrayBuffer();
  });
});

describe('the download API only for what a signed URL cannot fetch', () => {
  test('access_control that blocks anonymous delivery, dot- or empty-segment public_ids and refused formats, each with its reason', async () => {
    const now = Date.now();
    const specs: FakeAssetSpec[] = [
      { publicId: 'vault/private', type: 'private', bytes: 1_000 },
      { publicId: 'members/only', accessMode: 'authenticated', bytes: 1_100 },
      { publicId: 'tokens/needed', accessControl: [{ access_type: 'token' }], bytes: 1_200 },
      { publicId: 'embargo/later', accessControl: [{ access_type: 'anonymous', start: new Date(now + 24 * HOUR).toISOString() }], bytes: 1_300 },
      { publicId: 'embargo/open', accessControl: [{ access_type: 'anonymous', start: new Date(now - HOUR).toISOString() }], bytes: 1_350 },
      { publicId: 'dots/../up', type: 'private', bytes: 1_400 },
      { publicId: 'double//slash', type: 'authenticated', bytes: 1_450 },
      { publicId: 'docs/a.pdf', resourceType: 'raw', format: '', bytes: 1_500 },
      { publicId: 'docs/b.pdf', resourceType: 'raw', format: '', bytes: 1_600 },
    ];
    const t = await rig({}, specs);
    try {
      const { r, report } = await t.backup();
      assert.equal(r.code, 0, r.stderr);
      assert.equal(report['copied'], specs.length);
      assert.deepEqual(await t.wrongBytes(t.assets), []);
      const viaApi = t.fake.requestLog.filter((l) => l.kind === 'download').map((l) => new URL(l.path, 'http://x').searchParams.get('public_id')).sort();
      assert.deepEqual(viaApi, ['docs/a.pdf', 'docs/b.pdf', 'dots/../up', 'double//slash', 'embargo/later', 'tokens/needed']);
      const reasons = Object.fromEntries((report['downloadApi'] as Array<{ publicId: string; reason: string }>).map((d) => [d.publicId, d.reason]));
      const { 'docs/a.pdf': a, 'docs/b.pdf': b, ...others } = reasons;
      assert.deepEqual(others, { 'tokens/needed': 'access-control', 'embargo/later': 'access-control', 'dots/../up': 'dot-segment', 'double//slash': 'empty-segment' });
      // With one copy at a time, the first PDF copied is refused by the CDN, the other goes straight to the API.
      assert.deepEqual([a, b].sort(), ['cdn-refused', 'refused-format']);
      assert.equal(report['downloadApiTotal'], 6);
      assert.equal(report['cloudinaryApiCalls'], LISTINGS + METADATA_FIELDS + 6, 'one Admin API call per download API fetch, none for the others');
      // Also in the run's folder under _reports/: one JSON line per asset, one file per page that used the API.
      const logs = report['downloadApiLogs'] as string[];
      assert.ok(logs.length >= 1 && logs.every((k) => /_reports\/[^/]+\/download-api-\d{6}\.jsonl$/.test(k)), logs.join());
      const lines = (await Promise.all(logs.map((k) => readFile(path.join(t.folder, k), 'utf8')))).join('').trim().split('\n');
      assert.equal(lines.length, 6);
      assert.ok(lines.some((l) => JSON.parse(l).reason === 'dot-segment'));
      const other = await mkdtemp(path.join(tmpdir(), 'cb-signed-h-'));
      const human = await runCli(['backup', '--to', other, '--concurrency', '1'], { CLOUDINARY_URL: t.fake.cloudinaryUrl });
      await rm(other, { recursive: true, force: true });
      assert.match(human.stdout, /download API 6 original\(s\), one Admin API call each \(.*2 access-control.*\)/);
    } finally {
      await t.stop();
    }
  });
});
