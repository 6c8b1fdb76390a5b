/**
 * The signed PUT (lambda/adapters/s3/signed-put.ts) sends what the SDK's PutObject sends: the same
 * path for an awkward key, the same object headers (Content-Type, Content-Length, x-amz-meta-*,
 * x-amz-content-sha256, the security token), on one keep-alive connection. The SDK's own request
 * to the same sink is the reference, in both checksum modes; with checksums on, the SDK sends a
 * CRC32 trailer and ours a SHA256 one (the copy's digest), with the same aws-chunked headers
 * (@aws-sdk/checksums flexible-checksums middleware). The server is a bare loopback sink that
 * answers 200: S3's semantics are tested against s3rver in test/integration/s3-signed-put.test.ts.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '../../lambda/adapters/s3/client.ts';
import { SignedPut } from '../../lambda/adapters/s3/signed-put.ts';

interface Seen {
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  /** The client's port: one per connection. */
  readonly port: number | undefined;
}

let server: http.Server;
let endpoint: string;
const seen: Seen[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks), port: req.socket.remotePort });
      res.writeHead(200, { etag: '"0"' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Runs `fn` with the SDK's environment set as a deployment would (a session token included). */
const withEnv = async <T>(checksums: 'WHEN_REQUIRED' | 'WHEN_SUPPORTED', fn: () => Promise<T>): Promise<T> => {
  const env: Record<string, string> = {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKTEST',
    AWS_SECRET_ACCESS_KEY: 'secret-test',
    AWS_SESSION_TOKEN: 'token-test',
    AWS_REQUEST_CHECKSUM_CALCULATION: checksums,
  };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
};

/** Headers that describe the object and its signing; the SDK's telemetry headers are left out. */
const objectHeaders = (h: http.IncomingHttpHeaders): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(h).filter(([k]) => !['user-agent', 'x-amz-user-agent', 'amz-sdk-invocation-id', 'amz-sdk-request', 'authorization', 'x-amz-date', 'connection'].includes(k)),
  );

const KEY = 'cld/image/upload/a b/ümlaut (1)+x!*.jpg';
const data = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));
const metadata = { public_id: 'a b/ümlaut (1)+x!*', version: '1700000000' };

for (const checksums of ['WHEN_REQUIRED', 'WHEN_SUPPORTED'] as const) {
  describe(`signed PUT vs the SDK's PutObject (${checksums})`, () => {
    test('same path, same object headers; the signature covers every x-amz-* header', () =>
      withEnv(checksums, async () => {
        seen.length = 0;
        const client = createS3Client(process.env);
        for (const contentType of [undefined, 'image/jpeg']) {
          const params = { Bucket: 'bkt', Key: KEY, ContentLength: data.length, Metadata: metadata, ...(contentType ? { ContentType: contentType } : {}) };
          await client.send(new PutObjectCommand({ ...params, Body: Readable.from([data]) }));
          const put = new SignedPut(client, 'bkt');
          const request = { key: KEY, body: Readable.from([data]), length: data.length, metadata, ...(contentType ? { contentType } : {}), sha256: () => 'ab'.repeat(32) };
          assert.equal(await put.accepts(request), true);
          await put.put(request, new AbortController().signal);
          put.destroy();
        }
        client.destroy();
        assert.equal(seen.length, 4);
        for (const [sdk, ours] of [[seen[0]!, seen[1]!], [seen[2]!, seen[3]!]] as const) {
          // The SDK adds ?x-id=PutObject (an operation marker S3 ignores); the path is the same.
          assert.equal(ours.url, sdk.url.replace(/\?x-id=PutObject$/, ''));
          const expected = objectHeaders(sdk.headers);
          if (checksums === 'WHEN_SUPPORTED') {
            Object.assign(expected, { 'x-amz-sdk-checksum-algorithm': 'SHA256', 'x-amz-trailer': 'x-amz-checksum-sha256' });
            assert.match(ours.body.toString('latin1'), /0\r\nx-amz-checksum-sha256:q6ur[^\r]*\r\n\r\n$/);
          } else {
            assert.deepEqual(ours.body, data);
          }
          assert.deepEqual(objectHeaders(ours.headers), expected);
          const signed = /SignedHeaders=([^,]+),/.exec(String(ours.headers.authorization))?.[1]?.split(';') ?? [];
          for (const name of Object.keys(ours.headers).filter((n) => n.startsWith('x-amz-') && n !== 'x-amz-user-agent')) {
            assert.ok(signed.includes(name), `${name} is signed (${signed.join(';')})`);
          }
          assert.match(String(ours.headers.authorization), /^AWS4-HMAC-SHA256 Credential=AKTEST\/\d{8}\/eu-west-1\/s3\/aws4_request, /);
        }
      }));

    test('a body that ends short fails the PUT instead of leaving it waiting', () =>
      withEnv(checksums, async () => {
        const client = createS3Client(process.env);
        const put = new SignedPut(client, 'bkt');
        const request = { key: 'short', body: Readable.from([data.subarray(0, 1000)]), length: data.length, sha256: () => 'ab'.repeat(32) };
        await assert.rejects(put.put(request, new AbortController().signal), /1000|Content-Length|content-length/);
        put.destroy();
        client.destroy();
      }));
  });
}

test('PUTs one after the other reuse one keep-alive connection', () =>
  withEnv('WHEN_REQUIRED', async () => {
    seen.length = 0;
    const client = createS3Client(process.env);
    const put = new SignedPut(client, 'bkt');
    for (let i = 0; i < 3; i += 1) await put.put({ key: `k${i}`, body: Readable.from([data]), length: data.length }, new AbortController().signal);
    put.destroy();
    client.destroy();
    assert.equal(seen.length, 3);
    assert.equal(new Set(seen.map((s) => s.port)).size, 1);
  }));
