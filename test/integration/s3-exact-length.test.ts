/**
 * A body longer than listed never replaces the old backup, over real HTTP: the engine writing to the S3 destination on s3rver. A
 * download that delivers the listed N bytes, then more (the chunk boundary exactly at N), must
 * not complete the PUT (Content-Length N: the server has all it asked for) nor the multipart
 * upload's last part: the good old backup stays and no upload is left open.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { S3Destination } from '../../lambda/adapters/s3/destination.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { s3For, s3Sha } from '../helpers.ts';
import { StubSource, backup, sha } from '../support/stub-world.ts';

const BUCKET = 'long-bodies';
const MiB = 1024 * 1024;

describe('a body longer than listed, boundary exactly at N, into S3 (s3rver)', () => {
  let s3rver: S3rverHandle;
  before(async () => {
    s3rver = await startS3rver([BUCKET]);
  });
  after(async () => {
    await s3rver.stop();
  });

  const cases: ReadonlyArray<readonly [string, number]> = [
    ['one PUT', 64 * 1024],
    ['a multipart upload', 6 * MiB],
  ];
  for (const [how, size] of cases) {
    test(`${how} (${size} bytes): never completes; the old object stays, no upload left open`, async () => {
      const prefix = `p${size}`;
      const src = new StubSource();
      src.add('big', Buffer.alloc(size, 1));
      const dest = new S3Destination(s3For(s3rver.endpoint), BUCKET, { probeKey: `${prefix}/_catalog/write-check`, singlePutMax: 5 * MiB });
      await backup(src, dest, { prefix, resourceTypes: ['image'] });
      const key = `${prefix}/image/upload/big.jpg`;
      const oldSha = await s3Sha(s3For(s3rver.endpoint), BUCKET, key);
      assert.equal(oldSha, sha(Buffer.alloc(size, 1)));

      src.replace('big', Buffer.alloc(size, 2));
      src.serve('big', [Buffer.alloc(size, 3), Buffer.from('and then some more bytes')]);
      const report = await backup(src, dest, { prefix, resourceTypes: ['image'], copyAttempts: 1 });
      assert.equal(report.failed, 1, JSON.stringify(report.failures));
      assert.equal(await s3Sha(s3For(s3rver.endpoint), BUCKET, key), oldSha, 'the old backup is untouched');
      assert.deepEqual(await s3rver.openUploads(BUCKET), []);
    });
  }
});
