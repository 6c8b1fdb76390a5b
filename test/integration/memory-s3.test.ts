/**
 * The benchmarks' in-memory S3 server (test/fakes/memory-s3/) answers listings as S3 does
 * (API_ListObjectsV2.html: keys in UTF-8 binary order, at most 1,000 a page, continuation tokens
 * that are opaque and checked, StartAfter) and refuses with 501 what it does not implement. The
 * rest of what backups rely on is the Destination contract (test/contract/destinations.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateMultipartUploadCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { S3Destination } from '../../lambda/adapters/s3/destination.ts';
import { collect, seededChunks } from '../fakes/content.ts';
import { startMemoryS3 } from '../fakes/memory-s3.ts';
import type { MemoryS3Handle } from '../fakes/memory-s3.ts';
import { rejection, s3For } from '../helpers.ts';

const BUCKET = 'mem';
let s3: MemoryS3Handle;
before(async () => {
  s3 = await startMemoryS3({ buckets: [BUCKET], maxOldSpaceMiB: 512 });
});
after(async () => {
  await s3.stop();
});

/** 2,500 keys, among them characters whose UTF-16 and UTF-8 orders differ (U+FF21 vs U+1F600). */
const KEYS = [
  ...Array.from({ length: 2_497 }, (_, i) => `p/k${String((i * 7919) % 2_497).padStart(5, '0')}`),
  'p/\uff21-fullwidth',
  'p/\u{1f600}-emoji',
  'p/\u00e9-latin',
];
const utf8Sorted = [...KEYS].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));

describe('memory-s3 (the benchmarks\' S3)', () => {
  test('seeded objects list in UTF-8 binary order, 1,000 a page, and read back as content.ts generates them', async () => {
    await s3.seed(BUCKET, [...KEYS.map((key, i) => ({ key, seed: `s${i}`, size: 100 + i })), { key: 'q/other', seed: 'x', size: 1 }]);
    const client = s3For(s3.endpoint);
    const listed: string[] = [];
    const counts: number[] = [];
    for await (const page of paginateListObjectsV2({ client, pageSize: 1000 }, { Bucket: BUCKET, Prefix: 'p/' })) {
      counts.push(page.KeyCount ?? -1);
      for (const o of page.Contents ?? []) listed.push(o.Key as string);
    }
    assert.deepEqual(counts, [1000, 1000, 500]);
    assert.deepEqual(listed, utf8Sorted);
    const capped = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 5000 }));
    assert.equal(capped.KeyCount, 1000, 'max-keys over 1,000 is capped, not refused');
    assert.equal(capped.IsTruncated, true);
    const after = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'p/', StartAfter: utf8Sorted[2_496] }));
    assert.deepEqual(after.Contents?.map((o) => o.Key), utf8Sorted.slice(2_497));
    const i = KEYS.indexOf('p/\u{1f600}-emoji');
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'p/\u{1f600}-emoji' }));
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), collect(seededChunks(`s${i}`, 100 + i)));
    client.destroy();
  });

  test('a continuation token it did not issue is refused; a missing key is 404; what it does not implement is 501', async () => {
    const client = s3For(s3.endpoint);
    assert.deepEqual(await rejection(client.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: 'p/k00001' }))), { status: 400, code: 'InvalidArgument' });
    assert.equal((await rejection(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'p/none' })))).status, 404);
    assert.deepEqual(await rejection(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'p/none' }))), { status: 404, code: 'NoSuchKey' });
    assert.deepEqual(await rejection(client.send(new ListObjectsV2Command({ Bucket: BUCKET, Delimiter: '/' }))), { status: 501, code: 'NotImplemented' });
    assert.deepEqual(await rejection(client.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: 'p/k00001' }] } }))), { status: 501, code: 'NotImplemented' });
    assert.deepEqual(await rejection(client.send(new ListObjectsV2Command({ Bucket: 'nope' }))), { status: 404, code: 'NoSuchBucket' });
    client.destroy();
  });
});

describe('S3Destination.abortStaleUploads with a filter (one listing under the prefix)', () => {
  test('aborts the old uploads whose key the filter takes, and no other', async () => {
    const client = s3For(s3.endpoint);
    for (const Key of ['cld/image/upload/a.jpg', 'cld/notes/b.txt']) await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key }));
    const dest = new S3Destination(client, BUCKET, { probeKey: 'cld/_catalog/write-check' });
    const aborted = await dest.abortStaleUploads('cld/', new Date(Date.now() + 60_000), (k) => k.startsWith('cld/image/'));
    assert.equal(aborted, 1);
    assert.deepEqual(await s3.openUploads(BUCKET), ['cld/notes/b.txt']);
    client.destroy();
  });
});
