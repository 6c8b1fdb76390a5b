/**
 * The Cloudinary fake, exercised through the real `cloudinary` SDK. The SDK reads
 * CLOUDINARY_URL (and picks http for the upload_prefix) when first imported, so it is imported
 * dynamically after the fake has started. node:test runs each file in its own process.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import { signParams } from '../fakes/signing.ts';

type Cloudinary = (typeof import('cloudinary'))['v2'];

/** What the SDK rejects with for 400/401/404/420/429/500 (and a top-level http_code otherwise). */
interface SdkError {
  error?: { message?: string; http_code?: number };
  http_code?: number;
  message?: string;
}

const sha256 = (data: Buffer | Uint8Array): string => createHash('sha256').update(data).digest('hex');

let clock = Date.now();
const fake = new CloudinaryFake({
  cloudName: 'unit-cloud',
  apiKey: '111122223333444',
  apiSecret: 'unit-secret-do-not-echo',
  now: () => clock,
});
let cloudinary: Cloudinary;
let tmp: string;

before(async () => {
  await fake.start();
  process.env['CLOUDINARY_URL'] = fake.cloudinaryUrl;
  const mod = await import('cloudinary');
  cloudinary = mod.v2;
  tmp = await mkdtemp(join(tmpdir(), 'cld-fake-'));
});

after(async () => {
  await fake.stop();
  await rm(tmp, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (err) {
    return err as SdkError;
  }
  assert.fail('expected the call to reject');
}

describe('Admin API listing', () => {
  before(() => {
    for (let i = 0; i < 1200; i++) {
      fake.addAsset({
        publicId: `bulk/img-${String(i).padStart(4, '0')}`,
        tags: i % 2 ? ['odd'] : [],
        context: i === 7 ? { alt: 'seven', caption: 'a=b|c' } : {},
        metadata: i === 7 ? { rating: 5 } : {},
      });
    }
    fake.addAsset({ publicId: 'secret/one', type: 'private' });
    fake.addAsset({ publicId: 'films/clip', resourceType: 'video', bytes: 5000 });
    fake.addAsset({ publicId: 'docs/readme.txt', resourceType: 'raw', bytes: 10 });
    fake.resetRateLimit();
  });

  test('pages 1,200 assets with max_results=500: 3 pages, no duplicates, none missing', async () => {
    const seen = new Set<string>();
    const remaining: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await cloudinary.api.resources({
        resource_type: 'image',
        type: 'upload',
        max_results: 500,
        ...(cursor ? { next_cursor: cursor } : {}),
      });
      pages += 1;
      for (const r of page.resources as Array<Record<string, unknown>>) {
        const id = String(r['public_id']);
        assert.ok(!seen.has(id), `duplicate ${id}`);
        seen.add(id);
        for (const field of ['asset_id', 'format', 'version', 'resource_type', 'type', 'created_at', 'bytes', 'width', 'height', 'url', 'secure_url']) {
          assert.ok(field in r, `${field} missing`);
        }
        assert.ok(!('tags' in r) && !('context' in r), 'tags/context only when asked');
      }
      assert.equal(page.rate_limit_allowed, 500);
      assert.ok(page.rate_limit_reset_at instanceof Date && !Number.isNaN(page.rate_limit_reset_at.getTime()));
      remaining.push(page.rate_limit_remaining as number);
      cursor = page.next_cursor as string | undefined;
    } while (cursor);
    assert.equal(pages, 3);
    assert.equal(seen.size, 1200);
    assert.deepEqual(remaining, [499, 498, 497]);
    assert.equal(fake.getAsset('bulk/img-0000')?.bytes, 1000);
  });

  // Admin API reference, "Get resources": `type` defaults to "upload" (older SDK docs said all
  // types). The fake takes the strict reading, so a source that omits `type` misses private assets.
  test('no type lists only upload; an explicit type lists that type; tags/context/metadata only when asked', async () => {
    const omitted = await cloudinary.api.resources({ resource_type: 'image', max_results: 500, prefix: 'secret/' });
    assert.deepEqual(omitted.resources, [], 'an omitted type is upload only: the private asset is not listed');
    const all = await cloudinary.api.resources({ resource_type: 'image', type: 'private', max_results: 500, prefix: 'secret/' });
    assert.deepEqual(
      (all.resources as Array<{ public_id: string; type: string }>).map((r) => [r.public_id, r.type]),
      [['secret/one', 'private']],
    );
    const page = await cloudinary.api.resources({
      resource_type: 'image',
      type: 'upload',
      prefix: 'bulk/img-000',
      max_results: 10,
      tags: true,
      context: true,
      metadata: true,
    });
    const seven = (page.resources as Array<Record<string, unknown>>).find((r) => r['public_id'] === 'bulk/img-0007');
    assert.ok(seven);
    assert.deepEqual(seven['tags'], ['odd']);
    assert.deepEqual(seven['context'], { custom: { alt: 'seven', caption: 'a=b|c' } });
    assert.deepEqual(seven['metadata'], { rating: 5 });
    const raw = await cloudinary.api.resources({ resource_type: 'raw' });
    const readme = (raw.resources as Array<Record<string, unknown>>)[0];
    assert.equal(readme?.['public_id'], 'docs/readme.txt');
    assert.ok(!('format' in (readme ?? {})), 'raw files with no format list no format');
  });

  test('max_results over 500 is a 400; unknown resource_type a 404', async () => {
    const tooMany = await rejection(cloudinary.api.resources({ resource_type: 'image', max_results: 501 }));
    assert.equal(tooMany.error?.http_code, 400);
    const unknown = await rejection(cloudinary.api.resources({ resource_type: 'sound' }));
    assert.equal(unknown.error?.http_code, 404);
  });

  test('a wrong key or secret is a 401 that never echoes the secret', async () => {
    const badKey = await rejection(cloudinary.api.resources({ api_key: '999', api_secret: 'unit-secret-do-not-echo' }));
    assert.equal(badKey.error?.http_code, 401);
    assert.match(badKey.error?.message ?? '', /^Invalid api_key/);
    const badSecret = await rejection(cloudinary.api.resources({ api_secret: 'wrong-secret' }));
    assert.equal(badSecret.error?.http_code, 401);
    assert.match(badSecret.error?.message ?? '', /^Invalid api_key/);
    assert.ok(!(badSecret.error?.message ?? '').includes('wrong-secret'));
    assert.ok(!(badSecret.error?.message ?? '').includes('unit-secret-do-not-echo'));
  });

  test('an exhausted allowance is a 420 "Try again on", cleared by the next hourly window', async () => {
    fake.setRateLimitRemaining(1);
    const last = await cloudinary.api.resources({ max_results: 1 });
    assert.equal(last.rate_limit_remaining, 0);
    const err = await rejection(cloudinary.api.resources({ max_results: 1 }));
    assert.equal(err.error?.http_code, 420);
    assert.match(err.error?.message ?? '', /^Rate Limit Exceeded\. Try again on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    const resetAt = fake.rateLimitResetAt();
    assert.ok((err.error?.message ?? '').includes(new Date(resetAt).toISOString().slice(0, 19).replace('T', ' ')));
    clock = resetAt + 1000;
    const fresh = await cloudinary.api.resources({ max_results: 1 });
    assert.equal(fresh.rate_limit_remaining, 499);
    assert.equal(new Date(fresh.rate_limit_reset_at as Date).getTime(), resetAt + 3_600_000);
  });

  test('injected listing faults: 429, 503, malformed JSON, repeated cursor', async () => {
    fake.failNextListing(429);
    assert.equal((await rejection(cloudinary.api.resources())).error?.http_code, 429);
    fake.failNextListing(503);
    const unavailable = await rejection(cloudinary.api.resources());
    assert.equal(unavailable.http_code, 503, 'the SDK reports unexpected codes at the top level');
    fake.malformedListingOnce();
    assert.match((await rejection(cloudinary.api.resources())).error?.message ?? '', /invalid JSON/);
    const first = await cloudinary.api.resources({ type: 'upload', max_results: 500 });
    fake.repeatCursorOnce();
    const second = await cloudinary.api.resources({ type: 'upload', max_results: 500, next_cursor: first.next_cursor });
    assert.equal(second.next_cursor, first.next_cursor);
    const stale = await rejection(cloudinary.api.resources({ resource_type: 'video', next_cursor: first.next_cursor }));
    assert.equal(stale.error?.http_code, 400, 'a cursor from another listing is refused');
  });

  test('resource details and usage report', async () => {
    const one = await cloudinary.api.resource('secret/one', { type: 'private' });
    assert.equal(one.public_id, 'secret/one');
    assert.equal(one.type, 'private');
    const missing = await rejection(cloudinary.api.resource('nope/none'));
    assert.equal(missing.error?.http_code, 404);

    fake.resetUsage();
    fake.setUsage({ credits: { limit: 25 }, bandwidth: { usage: 2e9 } });
    const usage = await cloudinary.api.usage();
    assert.equal(usage.plan, 'Free');
    assert.equal(usage.bandwidth.usage, 2e9);
    assert.equal(usage.bandwidth.credits_usage, 2);
    assert.equal(usage.credits.limit, 25);
    assert.ok(usage.credits.usage >= 2);
    assert.equal(typeof usage.credits.used_percent, 'number');
    assert.equal(usage.resources, fake.listAssets().length);
    assert.equal(typeof usage.rate_limit_remaining, 'number');
  });
});

describe('downloads', () => {
  test('private_download_url serves the right bytes; a tampered signature is a 401', async () => {
    const asset = fake.addAsset({ publicId: 'vault/photo one', type: 'private', format: 'png', bytes: 300_000 });
    const url = cloudinary.utils.private_download_url('vault/photo one', 'png', { resource_type: 'image', type: 'private' });
    assert.ok(url.startsWith(`${fake.origin}/v1_1/unit-cloud/image/download?`), url);
    const before = fake.stats.downloadBytes;
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), '300000');
    assert.equal(sha256(Buffer.from(await res.arrayBuffer())), fake.expectedSha256(asset));
    assert.equal(fake.stats.downloadBytes - before, 300_000);

    const tampered = url.replace(/signature=([0-9a-f])/, (_m, c: string) => `signature=${c === '0' ? '1' : '0'}`);
    const bad = await fetch(tampered);
    assert.equal(bad.status, 401);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /^Invalid Signature/);

    // The SDK honours a `timestamp` option its typings do not declare.
    const staleOptions = { type: 'private', timestamp: Math.floor(clock / 1000) - 7200 };
    const stale = cloudinary.utils.private_download_url(
      'vault/photo one',
      'png',
      staleOptions as Parameters<Cloudinary['utils']['private_download_url']>[2],
    );
    assert.equal((await fetch(stale)).status, 401);
  });

  test('a delivery URL signed by the SDK (s--…--) is served; a wrong signature is a 401', async () => {
    const asset = fake.addAsset({ publicId: 'signed/ä b', format: 'jpg', bytes: 2048, version: 1_700_000_123 });
    const local = (url: string): string => url.replace(/^https?:\/\/res\.cloudinary\.com\/unit-cloud/, `${fake.origin}/unit-cloud`);
    const variants = [
      cloudinary.url('signed/ä b', { sign_url: true, version: asset.version, format: 'jpg', secure: true }),
      cloudinary.url('signed/ä b', { sign_url: true, version: asset.version, format: 'jpg', secure: true, flags: 'original' }),
      cloudinary.url('signed/ä b', { sign_url: true, version: asset.version, format: 'jpg', secure: true, long_url_signature: true }),
    ].map(local);
    for (const url of variants) {
      assert.match(url, /\/s--[\w-]{8,32}--\//, url);
      const res = await fetch(url);
      assert.equal(res.status, 200, url);
      assert.equal(sha256(Buffer.from(await res.arrayBuffer())), fake.expectedSha256(asset));
      const wrong = url.replace(/\/s--([\w-])/, (_m, c: string) => `/s--${c === 'A' ? 'B' : 'A'}`);
      assert.equal((await fetch(wrong)).status, 401, wrong);
    }
  });

  test('public delivery of secure_url; private originals are not public; replace changes the bytes', async () => {
    const asset = fake.addAsset({ publicId: 'pub/ä b', bytes: 4096, version: 1_700_000_000 });
    const page = await cloudinary.api.resources({ type: 'upload', prefix: 'pub/' });
    const listed = (page.resources as Array<{ secure_url: string; version: number }>)[0];
    assert.ok(listed);
    assert.ok(listed.secure_url.startsWith(`${fake.origin}/unit-cloud/image/upload/v1700000000/`));
    const res = await fetch(listed.secure_url);
    assert.equal(res.status, 200);
    assert.equal(sha256(Buffer.from(await res.arrayBuffer())), fake.expectedSha256(asset));

    const oldSha = fake.expectedSha256(asset);
    fake.replaceAsset('pub/ä b', 'image', 'upload', {});
    const replaced = fake.getAsset('pub/ä b');
    assert.ok(replaced && replaced.version > 1_700_000_000);
    assert.notEqual(fake.expectedSha256(replaced), oldSha);
    assert.equal(sha256(fake.contentOf(replaced)), fake.expectedSha256(replaced));

    fake.addAsset({ publicId: 'hidden', type: 'authenticated' });
    const hidden = await cloudinary.api.resource('hidden', { type: 'authenticated' });
    assert.equal((await fetch(hidden.secure_url as string)).status, 401);
    fake.setSecureUrl('hidden', 'image', 'authenticated', 'https://evil.example/x.jpg');
    assert.equal((await cloudinary.api.resource('hidden', { type: 'authenticated' })).secure_url, 'https://evil.example/x.jpg');
  });

  test('cut, stalled and overlong downloads', async () => {
    const asset = fake.addAsset({ publicId: 'faulty', bytes: 1_000_000 });
    const url = `${fake.origin}/unit-cloud/image/upload/v${asset.version}/faulty.jpg`;

    fake.cutDownload('faulty', 10_000);
    const cut = await fetch(url);
    assert.equal(cut.headers.get('content-length'), '1000000');
    await assert.rejects(cut.arrayBuffer());
    assert.equal((await (await fetch(url)).arrayBuffer()).byteLength, 1_000_000, 'one-shot by default');

    fake.stallDownload('faulty');
    const stalled = await fetch(url, { signal: AbortSignal.timeout(300) });
    assert.equal(stalled.status, 200);
    await assert.rejects(stalled.arrayBuffer());

    fake.overlongDownload('faulty', { extraBytes: 500 });
    const raw = await rawGet(fake.port, new URL(url).pathname);
    const split = raw.indexOf('\r\n\r\n');
    assert.match(raw.subarray(0, split).toString(), /Content-Length: 1000000/);
    assert.equal(raw.length - split - 4, 1_000_500);
  });

  test('downloadFailureRate is deterministic for a seed', async () => {
    const asset = fake.addAsset({ publicId: 'flaky', bytes: 20_000 });
    const url = `${fake.origin}/unit-cloud/image/upload/v${asset.version}/flaky.jpg`;
    const run = async (): Promise<boolean[]> => {
      fake.downloadFailureRate(0.5, 42);
      const outcomes: boolean[] = [];
      for (let i = 0; i < 12; i++) {
        outcomes.push(await fetch(url).then((r) => r.arrayBuffer()).then(() => true, () => false));
      }
      fake.downloadFailureRate(0);
      return outcomes;
    };
    const first = await run();
    assert.deepEqual(await run(), first);
    assert.ok(first.includes(true) && first.includes(false), JSON.stringify(first));
  });
});

describe('uploads', () => {
  test('upload of a data URI creates a private asset with tags, context and metadata', async () => {
    const bytes = Buffer.from('hello, private world');
    const result = await cloudinary.uploader.upload(`data:image/png;base64,${bytes.toString('base64')}`, {
      public_id: 'uploads/first',
      type: 'private',
      tags: ['x', 'y'],
      context: { alt: 'a|b=c' },
      metadata: { sku: 'A-1' },
    });
    assert.equal(result.public_id, 'uploads/first');
    assert.equal(result.type, 'private');
    assert.equal(result.format, 'png');
    assert.equal(result.bytes, bytes.length);
    assert.deepEqual(result.tags, ['x', 'y']);
    assert.deepEqual(result.context, { custom: { alt: 'a|b=c' } });
    const stored = fake.getAsset('uploads/first', 'image', 'private');
    assert.ok(stored);
    assert.deepEqual(stored.metadata, { sku: 'A-1' });
    const url = cloudinary.utils.private_download_url('uploads/first', 'png', { type: 'private' });
    assert.deepEqual(Buffer.from(await (await fetch(url)).arrayBuffer()), bytes);
  });

  test('upload of a file path and upload_stream', async () => {
    const path = join(tmp, 'photo.jpeg');
    await writeFile(path, Buffer.alloc(5000, 7));
    const fromPath = await cloudinary.uploader.upload(path, { public_id: 'uploads/from-path' });
    assert.equal(fromPath.format, 'jpg');
    assert.equal(fromPath.bytes, 5000);

    const data = Buffer.from('streamed raw bytes');
    const streamed = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const stream = cloudinary.uploader.upload_stream({ resource_type: 'raw', public_id: 'uploads/s.bin' }, (err, res) =>
        err || !res ? reject(err) : resolve(res as unknown as Record<string, unknown>),
      );
      stream.end(data);
    });
    assert.equal(streamed['resource_type'], 'raw');
    const asset = fake.getAsset('uploads/s.bin', 'raw', 'upload');
    assert.ok(asset);
    assert.deepEqual(fake.contentOf(asset), data);
  });

  test('a badly signed upload is a 401', async () => {
    const form = new FormData();
    const params = { public_id: 'uploads/forged', timestamp: String(Math.floor(clock / 1000)) };
    for (const [k, v] of Object.entries(params)) form.append(k, v);
    form.append('api_key', fake.apiKey);
    form.append('signature', signParams(params, 'not-the-secret'));
    form.append('file', new Blob([Buffer.from('forged')]), 'forged.jpg');
    const res = await fetch(`${fake.origin}/v1_1/unit-cloud/image/upload`, { method: 'POST', body: form });
    assert.equal(res.status, 401);
    const body = (await res.json()) as { error: { message: string } };
    assert.match(body.error.message, /^Invalid Signature .*String to sign - 'public_id=uploads\/forged&timestamp=\d+'/);
    assert.equal(fake.getAsset('uploads/forged'), undefined);

    form.set('signature', signParams(params, fake.apiSecret));
    const ok = await fetch(`${fake.origin}/v1_1/unit-cloud/image/upload`, { method: 'POST', body: form });
    assert.equal(ok.status, 200, 'the same form, correctly signed, is accepted');
  });

  test('upload_large in 5 MiB chunks assembles the file', async () => {
    const path = join(tmp, 'large.bin');
    const data = Buffer.alloc(5 * 1024 * 1024 + 1_000_003); // under the 10 MB raw limit
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
    await writeFile(path, data);
    const uploadsBefore = fake.stats.uploads;
    const requestsBefore = fake.stats.requests.upload;
    const result = await new Promise<Record<string, unknown>>((resolve, reject) => {
      void cloudinary.uploader.upload_large(path, { public_id: 'uploads/large.bin', chunk_size: 5 * 1024 * 1024 }, (err, res) =>
        err || !res ? reject(err) : resolve(res as unknown as Record<string, unknown>),
      );
    });
    assert.equal(result['bytes'], data.length);
    assert.equal(result['resource_type'], 'raw');
    assert.equal(fake.stats.requests.upload - requestsBefore, 2);
    assert.equal(fake.stats.uploads - uploadsBefore, 1);
    const asset = fake.getAsset('uploads/large.bin', 'raw', 'upload');
    assert.ok(asset);
    assert.equal(fake.expectedSha256(asset), sha256(data));
  });

  // Upload API reference (upload_large, chunk_size): chunks are at least 5 MB, except the last.
  test('chunks under 5 MB (but the last) are refused', async () => {
    const path = join(tmp, 'small-chunks.bin');
    await writeFile(path, Buffer.alloc(300_000, 1));
    const err = await new Promise<SdkError>((resolve) => {
      void cloudinary.uploader.upload_large(path, { public_id: 'uploads/small-chunks.bin', chunk_size: 100_000 }, (e) => resolve((e ?? {}) as SdkError));
    });
    assert.equal(err.http_code ?? err.error?.http_code, 400);
    assert.match(err.message ?? err.error?.message ?? '', /5 MB minimum/);
    assert.equal(fake.getAsset('uploads/small-chunks.bin', 'raw', 'upload'), undefined);
  });

  // Docs, "Permitted naming conventions": 1-255 characters, `?&#\%<>+` forbidden, leading and
  // trailing whitespace and `/` omitted, no folder named `v` + digits. Enforced by default.
  test('the Upload API applies the public_id rules by default; seeded assets keep any name', async () => {
    const data = `data:text/plain;base64,${Buffer.from('n').toString('base64')}`;
    const refused = async (publicId: string): Promise<SdkError> => {
      try {
        await cloudinary.uploader.upload(data, { public_id: publicId, resource_type: 'raw' });
      } catch (e) {
        return e as SdkError;
      }
      return {};
    };
    for (const [publicId, why] of [
      ['a+b', /the character \+ is forbidden/],
      ['100%', /the character % is forbidden/],
      ['why?x', /the character \? is forbidden/],
      ['n'.repeat(256), /it must have 1 to 255 characters, not 256/],
      ['v12/photo', /a folder may not be named v12/],
    ] as const) {
      const err = await refused(publicId);
      assert.equal(err.error?.http_code ?? err.http_code, 400, publicId);
      assert.match(err.error?.message ?? err.message ?? '', new RegExp(`^public_id \\(.*\\) is invalid: ${why.source}`), publicId);
      assert.equal(fake.getAsset(publicId, 'raw'), undefined);
    }
    const trimmed = await cloudinary.uploader.upload(data, { public_id: ' names/trail/ ', resource_type: 'raw' });
    assert.equal(trimmed.public_id, 'names/trail', 'leading and trailing whitespace and slashes are omitted');
    // What an account already holds (made under older rules) is listed as it is.
    assert.equal(fake.addAsset({ publicId: 'old/a+b 100%' }).publicId, 'old/a+b 100%');
  });
});

/** GET over a raw socket, returning every byte received until the server closes. */
function rawGet(port: number, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
  });
}
