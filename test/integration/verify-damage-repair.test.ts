/**
 * `verify --deep` records what it finds corrupt or overwritten (in the catalog folder),
 * and the next backup copies those assets again — the catalog says "current" and the size may
 * match, so without the record nothing would ever repair them. What is repaired leaves the
 * record; what could not be copied stays in it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { damageKey } from '../../lambda/store/damage.ts';
import type { DamageRecord } from '../../lambda/store/damage.ts';
import { verifyBackup } from '../../lambda/verify/verify.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';
import { StubSource, backup } from '../support/stub-world.ts';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');
const record = (dest: MemoryDestination): DamageRecord | undefined => {
  const body = dest.bytes(damageKey(''));
  return body && (JSON.parse(body.toString('utf8')) as DamageRecord);
};
const deep = (dest: MemoryDestination) => verifyBackup(dest, { prefix: '', deep: true, concurrency: 2 });

describe('verify --deep records damage; the next backup repairs it', () => {
  test('a same-size overwrite and a truncated object are recorded, copied again, and the record empties', async () => {
    const src = new StubSource();
    for (const id of ['a', 'b', 'c', 'd']) src.add(id, b(`original ${id}`));
    const dest = new MemoryDestination();
    await backup(src, dest);
    assert.equal((await deep(dest)).ok, true);
    assert.equal(dest.bytes(damageKey('')), undefined, 'nothing found, nothing written');

    dest.set('image/upload/b.jpg', b('bit rot  b'));
    assert.equal(dest.bytes('image/upload/b.jpg')?.length, b('original b').length, 'same size, other bytes (bit rot, another tool)');
    dest.set('image/upload/c.jpg', b('origin')); // truncated
    const found = await deep(dest);
    assert.equal(found.corrupt, 2);
    assert.equal(found.damageRecorded, damageKey(''));
    assert.deepEqual(record(dest)?.objects.map((o) => o.key).sort(), ['image/upload/b.jpg', 'image/upload/c.jpg']);

    const report = await backup(src, dest);
    assert.equal(report.copied, 2, 'exactly the damaged assets were copied again');
    assert.equal(dest.bytes('image/upload/b.jpg')?.toString(), 'original b');
    assert.equal(dest.bytes('image/upload/c.jpg')?.toString(), 'original c');
    assert.deepEqual(record(dest)?.objects, [], 'the repaired objects left the record');
    assert.equal((await deep(dest)).ok, true);
    assert.equal((await backup(src, dest)).copied, 0, 'and later nights copy nothing');
  });

  test('a damaged object whose copy fails stays recorded and is tried again the next night', async () => {
    const src = new StubSource();
    for (const id of ['a', 'b']) src.add(id, b(`original ${id}`));
    const dest = new MemoryDestination();
    await backup(src, dest);
    dest.set('image/upload/a.jpg', b('damaged  a'));
    await deep(dest);
    dest.failPuts.set('image/upload/a.jpg', 1);
    const failed = await backup(src, dest, { copyAttempts: 1 });
    assert.equal(failed.failed, 1);
    assert.deepEqual(record(dest)?.objects.map((o) => o.key), ['image/upload/a.jpg']);
    const repaired = await backup(src, dest);
    assert.equal(repaired.copied, 1);
    assert.equal(dest.bytes('image/upload/a.jpg')?.toString(), 'original a');
    assert.deepEqual(record(dest)?.objects, []);
  });

  test('a run of other resource types leaves a damaged video recorded; the next full run repairs it', async () => {
    const src = new StubSource();
    src.add('pic', b('a picture'));
    src.add('clip', b('a video clip'), 'video', 'upload', 'mp4');
    const dest = new MemoryDestination();
    await backup(src, dest);
    dest.set('video/upload/clip.mp4', b('a damaged!!!'));
    await deep(dest);
    assert.equal((await backup(src, dest, { resourceTypes: ['image'] })).copied, 0);
    assert.deepEqual(record(dest)?.objects.map((o) => o.key), ['video/upload/clip.mp4'], 'still recorded');
    assert.equal((await backup(src, dest)).copied, 1);
    assert.equal(dest.bytes('video/upload/clip.mp4')?.toString(), 'a video clip');
    assert.deepEqual(record(dest)?.objects, []);
  });
});
