/**
 * Restore checks every byte against the sha256 recorded at backup time (lambda/restore/upload-one.ts,
 * lambda/restore/collect.ts catalogItem). Rules: an object whose bytes differ from the recorded
 * sha256 is never uploaded — the upload cannot complete, so `--overwrite` never replaces a good
 * asset with a damaged copy — and the failure says the backup copy is damaged; it is not tried
 * again (the same bytes would come back). A catalog entry passes its sha256 on to the restore,
 * except a `stale` one, whose object is an older version than the one the sha256 describes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import type { RestoreItem } from '../../lambda/core/restore-plan.ts';
import type { UploadRequest, UploadResult, Uploader } from '../../lambda/ports/upload.ts';
import { catalogItem } from '../../lambda/restore/collect.ts';
import { uploadItem } from '../../lambda/restore/upload-one.ts';
import { entryFor } from '../../lambda/store/catalog.ts';
import { listedAsset } from '../fakes/listed-asset.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';

const good = Buffer.from('the original bytes, as backed up');
const sha = createHash('sha256').update(good).digest('hex');

/** An account holding what completed uploads stored; an upload completes only on a body that ended cleanly. */
class Account implements Uploader {
  readonly description = 'memory account';
  readonly stored = new Map<string, Buffer>();
  attempts = 0;
  async upload(r: UploadRequest): Promise<UploadResult> {
    this.attempts += 1;
    const chunks: Buffer[] = [];
    for await (const c of r.body) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    this.stored.set(r.publicId, body);
    return { publicId: r.publicId, version: 2, bytes: body.length, existing: false };
  }
}

const item = (over: Partial<RestoreItem> = {}): RestoreItem => ({
  key: 'image/upload/cat.jpg', length: good.length, publicId: 'cat', resourceType: 'image', type: 'upload', format: 'jpg',
  tags: [], context: {}, metadata: {}, source: 'catalog', sha256: sha, ...over,
});

describe('uploadItem against the recorded sha256', () => {
  test('a damaged object (same length, other bytes) is not uploaded, is reported damaged, and is tried once', async () => {
    const dest = new MemoryDestination();
    const damaged = Buffer.from(good);
    damaged[5] = (damaged[5] ?? 0) ^ 0xff;
    dest.set('image/upload/cat.jpg', damaged);
    const account = new Account();
    account.stored.set('cat', good); // the good asset --overwrite would replace
    await assert.rejects(uploadItem(item(), dest, account, { overwrite: true, attempts: 3, retryDelayMs: 0 }, () => undefined), /differs from the sha256 recorded at backup time: not uploaded/);
    assert.ok(account.stored.get('cat')?.equals(good), 'the good asset was replaced by the damaged copy');
    assert.equal(account.attempts, 1, 'a checksum mismatch is not tried again');
  });

  test('an object with the recorded bytes is uploaded whole', async () => {
    const dest = new MemoryDestination();
    dest.set('image/upload/cat.jpg', good);
    const account = new Account();
    await uploadItem(item(), dest, account, { overwrite: true, retryDelayMs: 0 }, () => undefined);
    assert.ok(account.stored.get('cat')?.equals(good));
  });
});

describe('catalogItem passes the recorded sha256 on', () => {
  const asset = listedAsset('cat', { bytes: good.length });
  test('a current or deleted entry: checked against its sha256', () => {
    for (const state of ['current', 'deleted'] as const) {
      const r = catalogItem(entryFor(asset, 'image/upload/cat.jpg', state, sha), good.length);
      assert.ok('key' in r, JSON.stringify(r));
      assert.equal(r.sha256, sha, state);
    }
  });
  test('a stale entry: its object is an older version, which that sha256 does not describe', () => {
    const r = catalogItem(entryFor(asset, 'image/upload/cat.jpg', 'stale', sha), good.length + 7);
    assert.ok('key' in r, JSON.stringify(r));
    assert.equal(r.sha256, undefined);
    assert.equal(r.olderVersion, true);
  });
});
