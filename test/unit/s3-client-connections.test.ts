/**
 * The S3 client the CLI and the Lambda build (createS3Client) sends large bodies on its keep-alive
 * connections, without `Expect: 100-continue`.
 *
 * Why it matters (read in the SDK's source, versions in package-lock.json):
 * - @aws-sdk/middleware-sdk-s3, addExpectContinueMiddleware: every request body of
 *   `expectContinueHeader` bytes or more (default 2_097_152) gets `Expect: 100-continue`;
 * - @smithy/node-http-handler, NodeHttpHandler.handle: a request with that header is sent
 *   through a new `keepAlive: false` agent, and writeRequestBody waits for the 100 response.
 * So each object or multipart part of 2 MiB or more would open a connection of its own (a TLS
 * handshake against AWS) and wait a round trip before its first byte.
 *
 * The server here is a bare loopback HTTP sink that answers 200 to every PUT: the S3 semantics
 * are not under test, only the connections and headers the client uses.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '../../lambda/adapters/s3/client.ts';

const MiB = 1024 * 1024;

let server: http.Server;
let endpoint: string;
let connections = 0;
const expectHeaders: (string | undefined)[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    expectHeaders.push(req.headers.expect);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { etag: '"0"' });
      res.end();
    });
  });
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

test('PUTs of 2 MiB and more reuse one keep-alive connection and send no Expect: 100-continue', async () => {
  const env = {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
  };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    const client = createS3Client(process.env);
    const body = Buffer.alloc(3 * MiB, 1);
    // One after the other: a pooled connection is free again for the next request.
    for (let i = 0; i < 3; i += 1) {
      await client.send(new PutObjectCommand({ Bucket: 'b', Key: `buffer-${i}`, Body: body, ContentLength: body.length }));
    }
    // A streamed body, as a backup sends (the download piped through the length check).
    await client.send(new PutObjectCommand({ Bucket: 'b', Key: 'stream', Body: Readable.from([body.subarray(0, MiB), body.subarray(MiB)]), ContentLength: body.length }));
    client.destroy();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  assert.equal(expectHeaders.length, 4);
  assert.deepEqual(expectHeaders, [undefined, undefined, undefined, undefined]);
  assert.equal(connections, 1);
});
