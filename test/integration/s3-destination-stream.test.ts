/**
 * The S3 destination's streamed single PUT, as the Lambda sends it to AWS (SDK default checksums:
 * `aws-chunked` with a CRC32 trailer), fed the way a download feeds it: small pieces. Real S3
 * refuses an aws-chunked body whose chunks (but the last) are under 8 KiB
 * (InvalidChunkSizeError; aws/aws-sdk-js-v3#6859, #7596), and the test server does the same
 * (s3rver-strict.cjs). A network read is often smaller than 8 KiB.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { S3Destination } from '../../lambda/adapters/s3/destination.ts';
import { createS3Client } from '../../lambda/adapters/s3/client.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { s3For, s3Sha } from '../helpers.ts';

const BUCKET = 'stream';

describe('S3 destination: streamed PUT with SDK default checksums', () => {
  let server: S3rverHandle;

  before(async () => {
    server = await startS3rver([BUCKET]);
  });

  after(() => server.stop());

  test('a body that arrives in 1,000-byte pieces is stored whole', async () => {
    // The SDK reads region, credentials and checksum settings from process.env (this test's own
    // process); no checksum variable: the SDK defaults.
    const { AWS_REQUEST_CHECKSUM_CALCULATION: _r, AWS_RESPONSE_CHECKSUM_VALIDATION: _v, ...env } = server.env;
    Object.assign(process.env, env);
    delete process.env.AWS_REQUEST_CHECKSUM_CALCULATION;
    const destination = new S3Destination(createS3Client(process.env), BUCKET, { probeKey: 'probe' });
    const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31) % 256));
    const body = Readable.from((function* () {
      for (let i = 0; i < data.length; i += 1000) yield data.subarray(i, i + 1000);
    })());
    await destination.put({ key: 'small-pieces.bin', body, length: data.length });
    assert.equal(await s3Sha(s3For(server.endpoint), BUCKET, 'small-pieces.bin'), createHash('sha256').update(data).digest('hex'));
  });
});
