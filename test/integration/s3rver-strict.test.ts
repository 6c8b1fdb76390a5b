/**
 * The S3 test server refuses what Amazon S3 refuses (s3rver-strict.cjs): bad SigV4 signatures,
 * bodies that do not match their digests, aws-chunked streams with small chunks or a wrong
 * trailer, keys over 1,024 bytes, user metadata over 2 KB, parts under 5 MiB but the last. And
 * it accepts what the SDK sends by default against AWS (`WHEN_SUPPORTED` checksums: a streamed
 * body as `aws-chunked` with a CRC trailer), storing the decoded bytes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { ChecksumAlgorithm, ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-s3';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import { Crc32c, Crc64Nvme } from '@aws-sdk/checksums/crc';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { rejection, s3Sha } from '../helpers.ts';

const BUCKET = 'strict';
const MiB = 1024 * 1024;

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A client as the Lambda has it against AWS: SDK default checksums. */
const client = (endpoint: string, extra: Partial<ConstructorParameters<typeof S3Client>[0]> = {}): S3Client =>
  new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    ...extra,
  });

/** A stream of `bytes` in pieces of `piece` bytes (what an HTTP download hands the uploader). */
const pieces = (bytes: Buffer, piece: number): Readable =>
  Readable.from((function* () {
    for (let i = 0; i < bytes.length; i += piece) yield bytes.subarray(i, i + piece);
  })(), { objectMode: false });

/** Rewrites the body after signing (the signature does not cover an unsigned-trailer body). */
const afterSigning = (s3: S3Client, rewrite: (chunk: Buffer) => Buffer): void => {
  const mw: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
    const request = args.request as { body: unknown };
    const body = request.body;
    if (body instanceof Readable) {
      request.body = body.pipe(new Transform({ transform: (c: Buffer | string, _e, done) => done(null, rewrite(Buffer.from(c))) }));
    } else if (Buffer.isBuffer(body) || typeof body === 'string') {
      request.body = rewrite(Buffer.from(body));
    }
    return next(args);
  };
  s3.middlewareStack.addRelativeTo(mw, { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'rewriteBody' });
};

describe('s3rver refuses what S3 refuses', () => {
  let server: S3rverHandle;
  let s3: S3Client;
  const data = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 251));

  before(async () => {
    server = await startS3rver([BUCKET]);
    s3 = client(server.endpoint);
  });

  after(() => server.stop());

  test('the CRC implementations give the standard check values for "123456789"', async () => {
    const c = new Crc32c();
    c.update(Buffer.from('123456789'));
    assert.equal(Buffer.from(await c.digest()).toString('hex'), 'e3069283');
    const n = new Crc64Nvme();
    n.update(Buffer.from('123456789'));
    assert.equal(Buffer.from(await n.digest()).toString('hex'), 'ae8b14860a799888');
  });

  for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME'] as ChecksumAlgorithm[]) {
    test(`a streamed PUT with SDK default checksums (aws-chunked, ${algorithm} trailer) stores the decoded bytes`, async () => {
      const key = `stream-${algorithm}`;
      const put = await s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: pieces(data, 64 * 1024), ContentLength: data.length, ChecksumAlgorithm: algorithm }),
      );
      assert.ok(put.ETag);
      assert.equal(await s3Sha(s3, BUCKET, key), sha(data));
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      assert.equal(head.ContentLength, data.length);
      assert.equal(head.ContentEncoding, undefined, 'aws-chunked is not stored as the content coding');
    });
  }

  test('an aws-chunked body whose trailer checksum is wrong is refused with BadDigest, nothing stored', async () => {
    const bad = client(server.endpoint);
    afterSigning(bad, (c) => {
      const s = c.toString('latin1');
      return s.startsWith('x-amz-checksum-crc32:') ? Buffer.from('x-amz-checksum-crc32:AAAAAA==\r\n', 'latin1') : c;
    });
    const r = await rejection(bad.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'bad-trailer', Body: pieces(data, 64 * 1024), ContentLength: data.length })));
    assert.deepEqual(r, { status: 400, code: 'BadDigest' });
    assert.equal(await s3Sha(s3, BUCKET, 'bad-trailer'), undefined);
  });

  test('an aws-chunked body of chunks under 8 KiB is refused (InvalidChunkSizeError); the SDK buffer option fixes it', async () => {
    const r = await rejection(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'small-chunks', Body: pieces(data, 1000), ContentLength: data.length })));
    assert.deepEqual(r, { status: 403, code: 'InvalidChunkSizeError' });
    assert.equal(await s3Sha(s3, BUCKET, 'small-chunks'), undefined);
    const buffered = client(server.endpoint, { requestStreamBufferSize: 64 * 1024 });
    await buffered.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'small-chunks', Body: pieces(data, 1000), ContentLength: data.length }));
    assert.equal(await s3Sha(s3, BUCKET, 'small-chunks'), sha(data));
  });

  test('a checksum header that does not match the body is refused with BadDigest', async () => {
    const r = await rejection(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'bad-header', Body: data, ChecksumCRC32: 'AAAAAA==' })));
    assert.deepEqual(r, { status: 400, code: 'BadDigest' });
  });

  test('a signed payload changed after signing is refused with XAmzContentSHA256Mismatch', async () => {
    const bad = client(server.endpoint, { requestChecksumCalculation: 'WHEN_REQUIRED' });
    afterSigning(bad, (c) => Buffer.from(c.toString('latin1').replace('hello', 'HELLO'), 'latin1'));
    const r = await rejection(bad.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'tampered', Body: Buffer.from('hello world') })));
    assert.deepEqual(r, { status: 400, code: 'XAmzContentSHA256Mismatch' });
  });

  test('a wrong secret, a header changed after signing, and an unsigned request are refused', async () => {
    const wrong = client(server.endpoint, { credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'WRONG' } });
    assert.equal((await rejection(wrong.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'stream-CRC32' })))).status, 403);
    assert.deepEqual(await rejection(wrong.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'stream-CRC32' }))), { status: 403, code: 'SignatureDoesNotMatch' });
    const tamper = client(server.endpoint);
    const mw: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
      (args.request as { headers: Record<string, string> }).headers['x-amz-meta-owner'] = 'mallory';
      return next(args);
    };
    tamper.middlewareStack.addRelativeTo(mw, { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'tamper' });
    const r = await rejection(tamper.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'tamper', Body: 'x', Metadata: { owner: 'alice' } })));
    assert.deepEqual(r, { status: 403, code: 'SignatureDoesNotMatch' });
    const anon = await fetch(`${server.endpoint}/${BUCKET}/stream-CRC32`);
    assert.equal(anon.status, 403);
  });

  test('keys over 1,024 bytes are refused (KeyTooLongError); 1,024 bytes are accepted', async () => {
    const key = (n: number): string => Array.from({ length: Math.ceil(n / 100) }, (_, i) => 'k'.repeat(99) + String(i % 10)).join('/').slice(0, n);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key(1024), Body: 'ok' }));
    const r = await rejection(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key(1025), Body: 'no' })));
    assert.deepEqual(r, { status: 400, code: 'KeyTooLongError' });
    // UTF-8 bytes, not characters: 360 three-byte characters and 5 slashes are 1,085 bytes.
    const wide = Array.from({ length: 6 }, () => '€'.repeat(60)).join('/');
    assert.ok(wide.length < 1024 && Buffer.byteLength(wide) > 1024);
    assert.deepEqual(await rejection(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: wide, Body: 'no' }))), { status: 400, code: 'KeyTooLongError' });
  });

  test('user metadata over 2 KB is refused (MetadataTooLarge) on PutObject and CreateMultipartUpload; 2 KB is accepted', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'meta-ok', Body: 'x', Metadata: { a: 'v'.repeat(2047) } }));
    const over = { a: 'v'.repeat(2048) };
    assert.deepEqual(await rejection(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'meta-big', Body: 'x', Metadata: over }))), {
      status: 400,
      code: 'MetadataTooLarge',
    });
    assert.deepEqual(await rejection(s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'meta-big', Metadata: over }))), {
      status: 400,
      code: 'MetadataTooLarge',
    });
  });

  test('a multipart upload with a part under 5 MiB that is not the last is refused (EntityTooSmall); a small last part is fine', async () => {
    const upload = async (sizes: number[]) => {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp' }));
      const parts = [];
      for (const [i, size] of sizes.entries()) {
        const r = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'mp', UploadId, PartNumber: i + 1, Body: Buffer.alloc(size, i) }));
        parts.push({ PartNumber: i + 1, ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32 });
      }
      return s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp', UploadId, MultipartUpload: { Parts: parts } }));
    };
    assert.deepEqual(await rejection(upload([5 * MiB - 1, 10])), { status: 400, code: 'EntityTooSmall' });
    await upload([5 * MiB, 10]);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'mp' }));
    assert.equal(head.ContentLength, 5 * MiB + 10);
  });
});
