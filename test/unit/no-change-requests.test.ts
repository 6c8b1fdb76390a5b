/**
 * The S3 requests a no-change night makes whatever its size. Each object the run reads
 * once is read once (the catalog pointer, the damage record), a damage record a run did not read
 * is left alone, and the leftover multipart uploads under a prefix are listed in one request.
 * In-memory source and destination; the S3 side of the last is test/integration/memory-s3.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Readable } from 'node:stream';
import { abortStaleUploads } from '../../lambda/backup/stale-uploads.ts';
import type { Destination, PutRequest, PutResult, TaggedObject } from '../../lambda/ports/storage.ts';
import { Catalog } from '../../lambda/store/catalog.ts';
import { damageKey, recordDamage } from '../../lambda/store/damage.ts';
import type { DamageRecord } from '../../lambda/store/damage.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';
import { StubSource, backup } from '../support/stub-world.ts';

/** Counts reads per key; calls `onPut` before each put. */
class CountingDestination extends MemoryDestination {
  readonly reads = new Map<string, number>();
  onPut: ((key: string) => Promise<void>) | undefined;
  private count(key: string): void {
    this.reads.set(key, (this.reads.get(key) ?? 0) + 1);
  }
  override async get(key: string): Promise<Readable> {
    this.count(key);
    return super.get(key);
  }
  override async readTagged(key: string): Promise<TaggedObject | undefined> {
    this.count(key);
    return super.readTagged(key);
  }
  override async put(r: PutRequest): Promise<PutResult> {
    await this.onPut?.(r.key);
    return super.put(r);
  }
}

const b = (s: string): Buffer => Buffer.from(s, 'utf8');
const POINTER = new Catalog(new MemoryDestination(), '').pointerKey;

describe('the fixed S3 requests of a no-change night', () => {
  test('the catalog pointer and the damage record are read once each', async () => {
    const src = new StubSource();
    for (const id of ['a', 'b', 'c']) src.add(id, b(`body ${id}`));
    const dest = new CountingDestination();
    await backup(src, dest);
    await backup(src, dest);
    dest.reads.clear();
    const report = await backup(src, dest);
    assert.equal(report.copied, 0);
    assert.equal(dest.reads.get(POINTER), 1, 'pointer reads');
    assert.equal(dest.reads.get(damageKey('')), 1, 'damage record reads');
  });

  test('keys a verify --deep records while a backup runs stay recorded; the next night copies them', async () => {
    const src = new StubSource();
    for (const id of ['a', 'b']) src.add(id, b(`body ${id}`));
    const dest = new CountingDestination();
    await backup(src, dest);
    const keys = (): string[] | undefined => (JSON.parse(dest.bytes(damageKey(''))?.toString('utf8') ?? 'null') as DamageRecord | null)?.objects.map((o) => o.key);
    // b is damaged before the run (the run reads that and copies b again); a is recorded during
    // it: verify takes no lease, and writes its whole finding after the backup read the record.
    await recordDamage(dest, '', [{ key: 'image/upload/b.jpg', detail: 'recorded before the run' }]);
    dest.onPut = async (key) => {
      if (key !== POINTER) return;
      dest.onPut = undefined;
      await recordDamage(dest, '', [
        { key: 'image/upload/a.jpg', detail: 'recorded during the run' },
        { key: 'image/upload/b.jpg', detail: 'recorded before the run' },
      ]);
    };
    assert.equal((await backup(src, dest)).copied, 1, 'b copied again');
    assert.deepEqual(keys(), ['image/upload/a.jpg'], 'b repaired; a not copied by that run, so it stays');
    assert.equal((await backup(src, dest)).copied, 1, 'the next night copies a');
    assert.deepEqual(keys(), []);
  });

  test('leftover uploads: one listing under a prefix, filtered to the type folders; one per type folder at the root', async () => {
    const calls: Array<{ prefix: string; accept: ((key: string) => boolean) | undefined }> = [];
    const dest = {
      abortStaleUploads: async (prefix: string, _olderThan: Date, accept?: (key: string) => boolean) => {
        calls.push({ prefix, accept });
        return 0;
      },
    } as unknown as Destination;
    const types = ['image', 'video', 'raw'];
    await abortStaleUploads(dest, { prefix: 'cld', resourceTypes: types }, new Date());
    assert.deepEqual(calls.map((c) => c.prefix), ['cld/']);
    const accept = calls[0]?.accept;
    assert.ok(accept);
    for (const k of ['cld/image/upload/a.jpg', 'cld/video/private/v.mp4', 'cld/raw/upload/r']) assert.equal(accept(k), true, k);
    for (const k of ['cld/_catalog/a/000000.jsonl', 'cld/imagex/a.jpg', 'cld/notes.txt', 'other/image/a.jpg']) assert.equal(accept(k), false, k);
    calls.length = 0;
    await abortStaleUploads(dest, { prefix: '', resourceTypes: types }, new Date());
    assert.deepEqual(calls.map((c) => [c.prefix, c.accept]), [['image/', undefined], ['video/', undefined], ['raw/', undefined]]);
  });
});
