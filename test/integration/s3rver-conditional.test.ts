/**
 * The S3 test server honours conditional writes as S3 does (s3rver-child.cjs; S3 User Guide
 * "How to prevent object overwrites with conditional writes"), driven by the real S3 client, so a
 * lease or lock built on If-None-Match / If-Match can be tested against it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { rejection, s3For, s3Sha } from '../helpers.ts';

const BUCKET = 'cond';

/**
 * A body that sends its first half at once and the rest only after `holdMs`, so two requests are
 * both inside the server (headers received, body still arriving) at the same time.
 */
const slowBody = (bytes: Buffer, holdMs: number): PassThrough => {
  const body = new PassThrough();
  body.write(bytes.subarray(0, bytes.length / 2));
  void sleep(holdMs).then(() => body.end(bytes.subarray(bytes.length / 2)));
  return body;
};

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('s3rver conditional writes', () => {
  let server: S3rverHandle;
  let s3: S3Client;

  before(async () => {
    server = await startS3rver([BUCKET]);
    s3 = s3For(server.endpoint);
  });

  after(() => server.stop());

  test('If-None-Match: * creates a missing key and refuses an existing one with 412, keeping the object', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'inm', Body: 'first', IfNoneMatch: '*' }));
    const r = await rejection(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'inm', Body: 'second', IfNoneMatch: '*' })));
    assert.deepEqual(r, { status: 412, code: 'PreconditionFailed' });
    assert.equal(await s3Sha(s3, BUCKET, 'inm'), sha(Buffer.from('first')));
  });

  test('If-Match: the current ETag replaces the object; a stale ETag is refused with 412; a missing key with 404', async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'im', Body: 'v1' }));
    const second = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'im', Body: 'v2', IfMatch: first.ETag }));
    assert.notEqual(second.ETag, first.ETag);
    const stale = await rejection(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'im', Body: 'v3', IfMatch: first.ETag })));
    assert.deepEqual(stale, { status: 412, code: 'PreconditionFailed' });
    assert.equal(await s3Sha(s3, BUCKET, 'im'), sha(Buffer.from('v2')));
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'im' }));
    assert.equal(head.ETag, second.ETag, 'the ETag If-Match compares is the one HeadObject shows');
    const missing = await rejection(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'im-missing', Body: 'x', IfMatch: first.ETag })));
    assert.deepEqual(missing, { status: 404, code: 'NoSuchKey' });
    assert.equal(await s3Sha(s3, BUCKET, 'im-missing'), undefined);
  });

  test('two concurrent If-None-Match: * PUTs on one key: exactly one succeeds, and its bytes are stored', async () => {
    const a = Buffer.alloc(256 * 1024, 'a');
    const b = Buffer.alloc(256 * 1024, 'b');
    const put = (body: Buffer) =>
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'race', Body: slowBody(body, 300), ContentLength: body.length, IfNoneMatch: '*' }));
    const results = await Promise.allSettled([put(a), put(b)]);
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    assert.equal(won.length, 1, `exactly one conditional PUT wins (${results.map((r) => r.status).join(', ')})`);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    const e = lost.reason as { name: string; $metadata?: { httpStatusCode?: number } };
    assert.ok([412, 409].includes(e.$metadata?.httpStatusCode ?? 0), `loser answered ${e.$metadata?.httpStatusCode} ${e.name}`);
    assert.equal(await s3Sha(s3, BUCKET, 'race'), sha(won[0] === 0 ? a : b));
  });

  test('CompleteMultipartUpload with If-None-Match: * on an existing key is refused with 412', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'mp', Body: 'kept' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'mp', UploadId, PartNumber: 1, Body: 'new' }));
    const complete = new CompleteMultipartUploadCommand({
      Bucket: BUCKET,
      Key: 'mp',
      UploadId,
      IfNoneMatch: '*',
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
    });
    assert.deepEqual(await rejection(s3.send(complete)), { status: 412, code: 'PreconditionFailed' });
    assert.equal(await s3Sha(s3, BUCKET, 'mp'), sha(Buffer.from('kept')));
  });
});
