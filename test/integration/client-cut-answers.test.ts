/**
 * Answers the project's Cloudinary client (lambda/adapters/cloudinary/exchange.ts) must not take
 * for whole: a body cut before its announced length, and a server that stays silent. Each is a
 * network failure that the guard retries (errors.ts isRetryable), never a short JSON read as an
 * answer.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { AdminApi } from '../../lambda/adapters/cloudinary/api-client.ts';
import { parseCloudinaryUrl } from '../../lambda/adapters/cloudinary/config.ts';
import { isRetryable, toSourceError } from '../../lambda/adapters/cloudinary/errors.ts';

describe('answers cut short or never sent', () => {
  let server: net.Server;
  let mode: 'cut' | 'silent' = 'cut';
  const sockets = new Set<net.Socket>();

  before(async () => {
    // A raw socket server: it can promise a length and then close, which an HTTP server won't.
    server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.once('data', () => {
        if (mode === 'silent') return;
        // What arrives parses as JSON: only the missing bytes tell it is not the answer.
        const body = '{"credits":{"usage":1.5,"limit":25},"plan":"Free"}';
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body) + 40}\r\n\r\n${body}`);
        setTimeout(() => socket.destroy(), 20);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const api = (timeoutMs?: number) =>
    new AdminApi(parseCloudinaryUrl(`cloudinary://1234:cut-secret@cut?upload_prefix=http://127.0.0.1:${(server.address() as AddressInfo).port}`), timeoutMs ? { timeoutMs } : {});

  test('a body closed before its Content-Length is a retryable failure, not an answer', async () => {
    mode = 'cut';
    const err = await api().usage().then(() => assert.fail('resolved'), (e: unknown) => e);
    const source = toSourceError(err, 'reading usage');
    assert.equal(source.httpCode, undefined);
    assert.ok(isRetryable(source));
    assert.doesNotMatch(source.message, /cut-secret/);
  });

  test('a server that stays silent fails the call after the timeout, retryable', async () => {
    mode = 'silent';
    const started = Date.now();
    const err = await api(300).usage().then(() => assert.fail('resolved'), (e: unknown) => e);
    assert.ok(Date.now() - started >= 250);
    const source = toSourceError(err, 'reading usage');
    assert.match(source.message, /did not answer within/);
    assert.ok(isRetryable(source));
  });
});
