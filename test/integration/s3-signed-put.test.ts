/**
 * The S3 destination's streamed single PUT, now sent by lambda/adapters/s3/signed-put.ts (the
 * SDK's signer, no SDK middleware), against s3rver with the strict rules of s3rver-strict.cjs:
 * SigV4 checked (every x-amz-* header signed, a temporary key's session token required),
 * aws-chunked decoded and its x-amz-checksum-* trailer checked, a PUT stored only when every byte
 * arrived. Each test runs in both checksum modes: WHEN_REQUIRED (plain body, UNSIGNED-PAYLOAD)
 * and the SDK's default (aws-chunked with our sha256 as trailer), whatever S3_TEST_CHECKSUMS says.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../../lambda/adapters/s3/client.ts';
import { S3Destination } from '../../lambda/adapters/s3/destination.ts';
import { DestinationError } from '../../lambda/core/errors.ts';
import { ExactLengthStream } from '../../lambda/transfer/exact-length.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';

const BUCKET = 'signed';
const MODES = ['WHEN_REQUIRED', 'WHEN_SUPPORTED'] as const;
type Mode = (typeof MODES)[number];
/** The temporary credentials s3rver-strict.cjs knows (a Lambda role's are of this kind). */
const TEMP = { id: 'S3RVERTEMP', secret: 'S3RVER-TEMP-SECRET', token: 'S3RVER-TEMP-SESSION-TOKEN' };

let server: S3rverHandle;
before(async () => {
  server = await startS3rver([BUCKET]);
});
after(() => server.stop());

/** A client built as the CLI builds it, from an environment (checksum mode, credentials). */
const withClient = async (mode: Mode, creds: Record<string, string>, fn: (client: S3Client) => Promise<void>): Promise<void> => {
  const env: Record<string, string | undefined> = {
    ...server.env,
    AWS_REQUEST_CHECKSUM_CALCULATION: mode,
    AWS_RESPONSE_CHECKSUM_VALIDATION: mode,
    AWS_SESSION_TOKEN: undefined,
    ...creds,
  };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  const client = createS3Client(process.env);
  try {
    await fn(client);
  } finally {
    client.destroy();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
};

/** The body as the engine gives it: the download piped through the length check. */
const checked = (data: Buffer, length = data.length, pieces = 7): ExactLengthStream => {
  const v = new ExactLengthStream(length, 10_000);
  const step = Math.ceil(data.length / pieces);
  Readable.from(Array.from({ length: pieces }, (_, i) => data.subarray(i * step, (i + 1) * step))).pipe(v);
  return v;
};

const putChecked = (d: S3Destination, key: string, data: Buffer, extra: { length?: number; metadata?: Record<string, string>; contentType?: string } = {}) => {
  const body = checked(data, extra.length);
  return d.put({ key, body, length: extra.length ?? data.length, sha256: () => body.sha256, ...(extra.metadata ? { metadata: extra.metadata } : {}), ...(extra.contentType ? { contentType: extra.contentType } : {}) });
};

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const readSha = async (d: S3Destination, key: string): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const c of await d.get(key)) chunks.push(c as Buffer);
  return sha(Buffer.concat(chunks));
};
const bytes = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * seed + 7) % 256));

/** Counts the PutObject commands that go through the SDK (the signed PUT sends none). */
const countSdkPuts = (client: S3Client): { readonly n: number } => {
  const counter = { n: 0 };
  const send = client.send.bind(client) as (c: unknown, o?: unknown) => Promise<unknown>;
  (client as unknown as { send: (c: unknown, o?: unknown) => Promise<unknown> }).send = (command, options) => {
    if (command instanceof PutObjectCommand) counter.n += 1;
    return send(command, options);
  };
  return counter;
};

for (const mode of MODES) {
  describe(`S3 signed PUT (${mode})`, () => {
    test('a streamed object goes without the SDK; its bytes, metadata and content type arrive', () =>
      withClient(mode, {}, async (client) => {
        const sdkPuts = countSdkPuts(client);
        const d = new S3Destination(client, BUCKET, { probeKey: 'probe' });
        const data = bytes(300_001, 13);
        const key = `${mode}/a b/ümlaut (1)+x!*.jpg`;
        await putChecked(d, key, data, { metadata: { public_id: 'a b/ümlaut (1)+x!*', version: '17' }, contentType: 'image/jpeg' });
        assert.equal(sdkPuts.n, 0, 'the streamed write went through the SDK');
        const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
        assert.equal(head.ContentType, 'image/jpeg');
        assert.deepEqual(head.Metadata, { public_id: 'a b/ümlaut (1)+x!*', version: '17' });
        assert.equal(head.ContentLength, data.length);
        assert.equal(await readSha(d, key), sha(data));
        // A small buffer (catalog, probe) stays on the SDK, whose retries can replay it.
        await d.put({ key: `${mode}/small.json`, body: Buffer.from('{}'), length: 2, contentType: 'application/json' });
        assert.equal(sdkPuts.n, 1);
      }));

    // A short body must fail the PUT, not leave it waiting for bytes that never come: a hang
    // is this test's failure, so it gets a bound.
    test('a body that ends short or runs long stores nothing: the old object stays', { timeout: 30_000 }, () =>
      withClient(mode, {}, async (client) => {
        const d = new S3Destination(client, BUCKET, { probeKey: 'probe' });
        const key = `${mode}/keep.bin`;
        const old = bytes(200_000, 3);
        await putChecked(d, key, old);
        const fresh = bytes(200_000, 5);
        // Through the length check, as the engine sends it.
        await assert.rejects(putChecked(d, key, fresh.subarray(0, 150_000), { length: 200_000 }), DestinationError);
        await assert.rejects(putChecked(d, key, Buffer.concat([fresh, fresh.subarray(0, 10)]), { length: 200_000 }), DestinationError);
        // A raw stream with no length check: the PUT itself must not complete short.
        await assert.rejects(d.put({ key, body: Readable.from([fresh.subarray(0, 150_000)]), length: 200_000, sha256: () => sha(fresh) }), DestinationError);
        assert.equal(await readSha(d, key), sha(old));
        assert.deepEqual(await server.openUploads(BUCKET), []);
      }));

    test('S3 error answers map to the errors the SDK path raised (DestinationError, same code, status and message)', () =>
      withClient(mode, {}, async (client) => {
        const d = new S3Destination(client, BUCKET, { probeKey: 'probe' });
        // The error the SDK's PutObject raises for the same failure (a streamed body: not retried).
        const sdkError = async (bucket: string, key: string): Promise<Record<string, unknown>> => {
          const e = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Readable.from([Buffer.alloc(20_000, 1)]), ContentLength: 20_000 })).then(
            () => assert.fail('the SDK put succeeded'),
            (err: Error & { $metadata: { httpStatusCode: number } }) => err,
          );
          return { name: e.name, message: e.message, status: e.$metadata.httpStatusCode };
        };
        const ourError = async (dest: S3Destination, bucket: string, key: string): Promise<Record<string, unknown>> => {
          const e = await putChecked(dest, key, Buffer.alloc(20_000, 1)).then(
            () => assert.fail('the signed put succeeded'),
            (err: Error) => err,
          );
          assert.ok(e instanceof DestinationError, `${e.name}: ${e.message}`);
          const cause = e.cause as Error & { $metadata: { httpStatusCode: number } };
          assert.equal(e.message, `writing s3://${bucket}/${key} failed: ${cause.message}`);
          return { name: cause.name, message: cause.message, status: cause.$metadata.httpStatusCode };
        };
        const missing = new S3Destination(client, 'no-such-bucket', { probeKey: 'probe' });
        const nb = await ourError(missing, 'no-such-bucket', 'k');
        assert.deepEqual(nb, { name: 'NoSuchBucket', message: 'The specified bucket does not exist', status: 404 });
        assert.deepEqual(nb, await sdkError('no-such-bucket', 'k'));
        for (const [status, code] of [[403, 'AccessDenied'], [503, 'SlowDown'], [500, 'InternalError']] as const) {
          await server.injectFaults([{ op: 'PutObject', key: `${mode}/fault-${code}`, status, code, times: 2 }]);
          const ours = await ourError(d, BUCKET, `${mode}/fault-${code}`);
          assert.deepEqual(ours, { name: code, message: 'Injected PutObject failure', status });
          assert.deepEqual(ours, await sdkError(BUCKET, `${mode}/fault-${code}`));
          await server.clearFaults();
        }
      }));

    // S3 refuses a request signed more than 15 minutes off its clock (403 RequestTimeTooSkewed,
    // ErrorResponses.html; s3rver's authentication checks the same). The SDK learns the offset
    // from the error's Date header into config.systemClockOffset and signs with it from then on.
    test('a skewed clock: the signature uses the client\'s clock offset, and a RequestTimeTooSkewed answer corrects it', () =>
      withClient(mode, {}, async (client) => {
        const d = new S3Destination(client, BUCKET, { probeKey: 'probe' });
        client.config.systemClockOffset = -3_600_000; // as if this machine's clock were an hour behind
        const err = await putChecked(d, `${mode}/skew.bin`, bytes(10_000, 2)).then(
          () => assert.fail('a request signed an hour off was accepted'),
          (e: Error) => e,
        );
        assert.equal((err.cause as Error).name, 'RequestTimeTooSkewed');
        assert.ok(Math.abs(client.config.systemClockOffset) < 5_000, `offset now ${client.config.systemClockOffset} ms`);
        await putChecked(d, `${mode}/skew.bin`, bytes(10_000, 2));
      }));

    // transfer/retrying.ts starts the write while the download opens: the signed PUT
    // is prepared then, but it takes no connection and sends nothing before the body's input is
    // open. A download that fails to open must cost the bucket nothing, and must not cost the
    // pool its kept-alive connection (a request destroyed before its body would take it down).
    // Connections are counted by a TCP relay in front of s3rver.
    test('the PUT waits for the body\'s input: no request before it opens, and none, nor a lost connection, when it never does', { timeout: 30_000 }, async () => {
      let connections = 0;
      const target = new URL(server.endpoint);
      const relay = net.createServer((c) => {
        connections += 1;
        const up = net.connect(Number(target.port), target.hostname);
        c.pipe(up).pipe(c);
        c.on('error', () => up.destroy());
        up.on('error', () => c.destroy());
      });
      await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
      const relayUrl = `http://127.0.0.1:${(relay.address() as net.AddressInfo).port}`;
      try {
        await withClient(mode, { AWS_ENDPOINT_URL_S3: relayUrl }, async (client) => {
          const d = new S3Destination(client, BUCKET, { probeKey: 'probe' });
          const data = bytes(120_000, 11);
          const pending = (): ExactLengthStream => new ExactLengthStream(data.length, 10_000, undefined, undefined, { inputPending: true });
          const putOf = (key: string, body: ExactLengthStream) => d.put({ key, body, length: data.length, sha256: () => body.sha256, ready: body.opened });
          const openNow = (body: ExactLengthStream): void => {
            Readable.from([data.subarray(0, 50_000), data.subarray(50_000)]).pipe(body);
            body.inputOpened();
          };
          // One write first: the signed PUT's pool then holds one kept-alive connection.
          const first = pending();
          const writingFirst = putOf(`${mode}/first.bin`, first);
          openNow(first);
          await writingFirst;
          await server.requestCounts({ reset: true });
          const before = connections;

          const failed = pending();
          const failing = putOf(`${mode}/never.bin`, failed);
          await new Promise((r) => setTimeout(r, 200));
          failed.destroy(new Error('download failed: HTTP 404'));
          await assert.rejects(failing, (err: Error) => err instanceof DestinationError && /HTTP 404/.test(err.message));
          assert.equal((await server.requestCounts()).PutObject ?? 0, 0, 'a PUT was sent for a body whose input never opened');
          await assert.rejects(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${mode}/never.bin` })));

          const later = pending();
          const writing = putOf(`${mode}/later.bin`, later);
          await new Promise((r) => setTimeout(r, 200));
          assert.equal((await server.requestCounts()).PutObject ?? 0, 0, 'the PUT went out before its body\'s input opened');
          openNow(later);
          await writing;
          assert.equal(await readSha(d, `${mode}/later.bin`), sha(data));
          // The HeadObject and GetObject above went through the SDK's own pool: one connection.
          assert.equal(connections - before, 1, 'the signed PUT lost its kept-alive connection to a body that never opened');
        });
      } finally {
        relay.close();
      }
    });

    test('temporary credentials: the session token is sent and signed', () =>
      withClient(mode, { AWS_ACCESS_KEY_ID: TEMP.id, AWS_SECRET_ACCESS_KEY: TEMP.secret, AWS_SESSION_TOKEN: TEMP.token }, async (client) => {
        const d = new S3Destination(client, BUCKET, { probeKey: 'probe' });
        const data = bytes(70_000, 11);
        await putChecked(d, `${mode}/temp.bin`, data);
        assert.equal(await readSha(d, `${mode}/temp.bin`), sha(data));
      }));

    test('a refused signature names no secret: neither the secret key nor the session token is in the error', () =>
      withClient(mode, { AWS_ACCESS_KEY_ID: TEMP.id, AWS_SECRET_ACCESS_KEY: 'WRONG-SECRET-d41d8cd9', AWS_SESSION_TOKEN: TEMP.token }, async (client) => {
        const d = new S3Destination(client, BUCKET, { probeKey: 'probe' });
        const err = await putChecked(d, `${mode}/refused.bin`, bytes(10_000, 1)).then(
          () => assert.fail('a wrong secret was accepted'),
          (e: Error) => e,
        );
        assert.equal((err.cause as Error).name, 'SignatureDoesNotMatch');
        const everything = [err.message, err.stack, String(err.cause), (err.cause as Error).stack, JSON.stringify(err.cause)].join('\n');
        for (const secret of ['WRONG-SECRET-d41d8cd9', TEMP.token]) assert.ok(!everything.includes(secret), `the error shows ${secret}`);
      }));
  });
}

test('with checksums on, S3 checks the sha256 trailer: a wrong digest is refused (BadDigest) and the old object stays', () =>
  withClient('WHEN_SUPPORTED', {}, async (client) => {
    const d = new S3Destination(client, BUCKET, { probeKey: 'probe' });
    const old = bytes(90_000, 17);
    await putChecked(d, 'trailer/k.bin', old);
    const fresh = bytes(90_000, 19);
    const err = await d.put({ key: 'trailer/k.bin', body: Readable.from([fresh]), length: fresh.length, sha256: () => sha(old) }).then(
      () => assert.fail('a wrong sha256 trailer was accepted'),
      (e: Error) => e,
    );
    assert.equal((err.cause as Error).name, 'BadDigest');
    assert.equal(await readSha(d, 'trailer/k.bin'), sha(old));
  }));
