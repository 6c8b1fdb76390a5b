/**
 * Every original byte for byte on real-account behaviours the fake models — a Free
 * plan's blocked formats (PDF, archives: 401 on the CDN), `access_mode: authenticated` (a
 * signed URL), `access_control` uploads (401 on the CDN, a token is needed), "optimize by default" (re-encoded bytes on an
 * un-transformed URL), still-processing assets (pending, not failed), dynamic folders — driven
 * through the real CLI into a folder.
 */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalDestination } from '../../lambda/adapters/local/folder.ts';
import { keyFor } from '../../lambda/core/keys.ts';
import { Catalog } from '../../lambda/store/catalog.ts';
import type { CatalogEntry } from '../../lambda/store/catalog.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import type { FakeAsset } from '../fakes/cloudinary-fake.ts';
import { parseReport, runCli, sha256OfStream } from '../helpers.ts';

const HOUR = 3600_000;

describe('originals on a Free, optimize-by-default, dynamic-folder account', () => {
  let fake: CloudinaryFake;
  let folder: string;
  let env: Record<string, string>;
  const ready: FakeAsset[] = [];
  let pending: FakeAsset;

  before(async () => {
    // Free plan defaults (PDF and archives blocked) plus optimize by default.
    fake = new CloudinaryFake({ cloudName: 'free-cloud', apiKey: 'k1', apiSecret: 'secret-orig', optimizeByDefault: true });
    await fake.start();
    const now = Date.now();
    const add = (spec: Parameters<CloudinaryFake['addAsset']>[0]): FakeAsset => {
      const a = fake.addAsset(spec);
      ready.push(a);
      return a;
    };
    add({ publicId: 'k3x9photo', bytes: 40_000, assetFolder: 'Holidays/2025', displayName: 'Beach at dawn' });
    add({ publicId: 'clip', resourceType: 'video', bytes: 60_000, assetFolder: 'Holidays/2025' });
    add({ publicId: 'docs/terms.pdf', resourceType: 'raw', format: '', bytes: 9_000 });
    add({ publicId: 'docs/manual.pdf', resourceType: 'raw', format: '', bytes: 7_000 });
    add({ publicId: 'brochure', format: 'pdf', bytes: 11_000 });
    add({ publicId: 'bundle.zip', resourceType: 'raw', format: '', bytes: 5_000 });
    add({ publicId: 'members/only', accessMode: 'authenticated', bytes: 3_000 });
    add({ publicId: 'members/token', accessControl: [{ access_type: 'token' }], bytes: 3_500 });
    add({ publicId: 'embargo/later', accessControl: [{ access_type: 'anonymous', start: new Date(now + 24 * HOUR).toISOString() }], bytes: 2_500 });
    add({ publicId: 'embargo/open', accessControl: [{ access_type: 'anonymous', start: new Date(now - HOUR).toISOString() }], bytes: 2_600 });
    add({ publicId: 'vault/key', type: 'private', bytes: 1_500 });
    add({ publicId: 'vault/auth', type: 'authenticated', bytes: 1_600 });
    add({ publicId: 'mod/approved', bytes: 1_700, moderationStatus: 'approved' });
    pending = fake.addAsset({ publicId: 'uploads/processing', resourceType: 'video', bytes: 50_000, processing: true });
    folder = await mkdtemp(path.join(tmpdir(), 'cb-orig-'));
    env = { CLOUDINARY_URL: fake.cloudinaryUrl };
  });

  after(async () => {
    await fake.stop();
    await rm(folder, { recursive: true, force: true });
  });

  test('every original is stored byte for byte; the download API only where a signed delivery URL cannot serve it; pending is not failed', async () => {
    // One copy at a time, so that "a blocked format is tried on the CDN once" is deterministic
    // (with more in flight, every copy started before the first refusal tries the CDN too).
    const r = await runCli(['backup', '--to', folder, '--json', '--concurrency', '1'], env);
    const report = parseReport(r);
    assert.deepEqual(report.failures, []);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(report['pending'], 1, 'the asset still processing is pending');
    assert.equal(report['failed'], 0);
    assert.equal(report['copied'], ready.length);

    const wrong: string[] = [];
    for (const a of ready) {
      const got = await sha256OfStream(createReadStream(path.join(folder, keyFor('', a)))).catch(() => 'missing');
      if (got !== fake.expectedSha256(a)) wrong.push(`${a.publicId}: ${got}`);
    }
    assert.deepEqual(wrong, [], 'objects that are not the original bytes');

    // Routes: every delivery type through a signed delivery URL (images and videos with
    // fl_original); the download API only for access_control that blocks anonymous delivery now,
    // and blocked formats after the CDN refused them.
    const downloads = fake.requestLog.filter((l) => l.kind === 'download').map((l) => new URL(l.path, 'http://x').searchParams.get('public_id'));
    const viaApi = new Set(['members/token', 'embargo/later', 'docs/terms.pdf', 'docs/manual.pdf', 'brochure', 'bundle.zip']);
    assert.deepEqual(new Set(downloads), viaApi);
    assert.equal(downloads.length, viaApi.size, 'each original downloaded once');
    const delivery = fake.requestLog.filter((l) => l.kind === 'delivery').map((l) => l.path);
    assert.ok(delivery.some((p) => /\/image\/upload\/s--[\w-]{8}--\/fl_original\//.test(p) && p.includes('k3x9photo')), 'images go signed with fl_original');
    assert.ok(delivery.some((p) => /\/video\/upload\/s--[\w-]{8}--\/fl_original\//.test(p) && p.includes('clip')), 'videos go signed with fl_original');
    for (const id of ['members/only', 'vault/key', 'vault/auth']) assert.ok(delivery.some((p) => p.includes(id) && p.includes('/s--')), `${id} through a signed delivery URL`);
    assert.ok(!delivery.some((p) => p.includes('members/token') || p.includes('embargo/later')), 'access-controlled assets never tried on the CDN');
    const reasons = new Map((report['downloadApi'] as Array<{ publicId: string; reason: string }>).map((d) => [d.publicId, d.reason]));
    assert.equal(reasons.get('members/token'), 'access-control');
    assert.equal(reasons.get('embargo/later'), 'access-control');
    assert.equal(reasons.get('brochure'), 'cdn-refused');
    assert.equal(reasons.get('bundle.zip'), 'cdn-refused');
    assert.deepEqual(new Set([reasons.get('docs/terms.pdf'), reasons.get('docs/manual.pdf')]), new Set(['cdn-refused', 'refused-format']));
    assert.equal(report['downloadApiTotal'], viaApi.size);
    // raw PDF: the CDN refused docs/terms.pdf or docs/manual.pdf first, the other went straight to the API.
    assert.equal(delivery.filter((p) => p.includes('/raw/upload/') && p.includes('.pdf')).length, 1, 'a blocked format is tried on the CDN once per run');
    // Admin API calls: 9 listings (3 resource types x 3 delivery types) + one per download API fetch.
    assert.equal(report['cloudinaryApiCalls'], 9 + viaApi.size + 1, 'listings, signed downloads and the metadata-field definitions');
    assert.ok(!fake.requestLog.some((l) => l.kind === 'delivery' && l.path.includes('processing')), 'a processing asset is not downloaded');
  });

  test('the catalog records folder, display name, access and moderation', async () => {
    const catalog = new Catalog(new LocalDestination(folder), '');
    const byId = new Map<string, CatalogEntry>();
    for await (const e of catalog.entries()) byId.set(e.publicId, e);
    assert.equal(byId.get('k3x9photo')?.assetFolder, 'Holidays/2025');
    assert.equal(byId.get('k3x9photo')?.displayName, 'Beach at dawn');
    assert.equal(byId.get('members/only')?.accessMode, 'authenticated');
    assert.deepEqual(byId.get('members/token')?.accessControl, [{ access_type: 'token' }]);
    assert.equal(byId.get('mod/approved')?.moderationStatus, 'approved');
    assert.equal(byId.get(pending.publicId)?.state, 'stale', 'a pending asset is recorded as not yet copied');
  });

  test('the next run copies the asset once it is ready', async () => {
    fake.updateProcessing(pending.publicId, 'video', 'upload', false);
    const r = await runCli(['backup', '--to', folder, '--json'], env);
    const report = parseReport(r);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(report['copied'], 1);
    assert.equal(report['pending'], 0);
    const got = await sha256OfStream(createReadStream(path.join(folder, keyFor('', pending))));
    assert.equal(got, fake.expectedSha256(pending));
  });
});
