/**
 * Moderation status survives a restore: a pending, an approved and a rejected asset come
 * back in the same state, an unmoderated one stays unmoderated. The documented way
 * (cloudinary_npm docs/moderate-upload.md): upload with `moderation: 'manual'` (the asset arrives
 * `pending`), then record the decision with the Admin API `update` and `moderation_status` — one
 * Admin API call per approved or rejected asset, none for pending. Backup and restore run through
 * the CLI and the real `cloudinary` SDK against two fakes; the fake refuses a decision on an asset
 * that is not under moderation, so a restore that skips the upload parameter fails here.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import { parseReport, runCli } from '../helpers.ts';

const STATES = { 'mod/waiting': 'pending', 'mod/ok': 'approved', 'mod/no': 'rejected' } as const;

describe('restore brings back the moderation status', () => {
  let src: CloudinaryFake;
  let dst: CloudinaryFake;
  let folder: string;

  before(async () => {
    src = new CloudinaryFake({ cloudName: 'mod-source', apiKey: 'modsrc', apiSecret: 'mod-secret-1' });
    dst = new CloudinaryFake({ cloudName: 'mod-target', apiKey: 'moddst', apiSecret: 'mod-secret-2' });
    await Promise.all([src.start(), dst.start()]);
    for (const [publicId, moderationStatus] of Object.entries(STATES)) src.addAsset({ publicId, bytes: 1_500, moderationStatus });
    src.addAsset({ publicId: 'plain', bytes: 1_400 });
    src.addAsset({ publicId: 'clips/held', resourceType: 'video', bytes: 3_000, moderationStatus: 'rejected' });
    folder = await mkdtemp(path.join(tmpdir(), 'cb-mod-'));
    const r = await runCli(['backup', '--to', folder, '--json'], { CLOUDINARY_URL: src.cloudinaryUrl });
    assert.equal(r.code, 0, r.stderr);
  });

  after(async () => {
    await Promise.all([src.stop(), dst.stop()]);
    await rm(folder, { recursive: true, force: true });
  });

  test('a dry run shows the status each upload comes back in, and changes nothing', async () => {
    const r = await runCli(['restore', '--from', folder, '--dry-run'], { CLOUDINARY_URL: dst.cloudinaryUrl });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /upload image\/upload\/mod\/waiting \([^)]*moderation pending\)/);
    assert.match(r.stdout, /upload image\/upload\/mod\/ok \([^)]*moderation approved\)/);
    assert.match(r.stdout, /upload video\/upload\/clips\/held \([^)]*moderation rejected\)/);
    assert.doesNotMatch(r.stdout, /upload image\/upload\/plain \([^)]*moderation/);
    assert.match(r.stdout, /moderation +1 pending, 1 approved, 2 rejected/);
    const json = parseReport(await runCli(['restore', '--from', folder, '--dry-run', '--json'], { CLOUDINARY_URL: dst.cloudinaryUrl }));
    assert.deepEqual(json['moderation'], { pending: 1, approved: 1, rejected: 2 });
    assert.equal(dst.listAssets().length, 0);
    assert.equal(dst.requestLog.filter((l) => l.method === 'POST').length, 0, 'a dry run sends no upload and no update');
  });

  test('pending, approved and rejected assets come back in the same state; one Admin API call per decision', async () => {
    const adminBefore = dst.stats.adminCalls;
    const r = await runCli(['restore', '--from', folder, '--json'], { CLOUDINARY_URL: dst.cloudinaryUrl });
    const report = parseReport(r);
    assert.equal(r.code, 0, `${r.stderr}\n${JSON.stringify(report.failures)}`);
    assert.equal(report['restored'], 5);
    for (const publicId of Object.keys(STATES)) {
      assert.equal(dst.getAsset(publicId)?.moderationStatus, src.getAsset(publicId)?.moderationStatus, publicId);
    }
    assert.equal(dst.getAsset('clips/held', 'video')?.moderationStatus, 'rejected');
    assert.equal(dst.getAsset('plain')?.moderationStatus, undefined, 'an unmoderated asset is not put under moderation');
    const decisions = dst.requestLog.filter((l) => l.method === 'POST' && l.kind === 'resource');
    assert.equal(decisions.length, 3, 'one update per approved or rejected asset, none for pending');
    // Every Admin API call the fake received is in the report's count (the decisions included).
    assert.equal(report['cloudinaryApiCalls'], dst.stats.adminCalls - adminBefore);
  });
});
