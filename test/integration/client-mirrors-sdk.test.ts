/**
 * The project's Cloudinary client sends what the `cloudinary` SDK sent for the same call
 * (lambda/adapters/cloudinary/api-client.ts, upload-client.ts, uploader.ts). Both are pointed at
 * one recording server on loopback, the SDK through its own transport, and the recorded requests
 * compared: method, path, query, authentication, content type, form or JSON body, multipart
 * fields, file part, and the chunk headers of a chunked upload.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { AdminApi } from '../../lambda/adapters/cloudinary/api-client.ts';
import { parseCloudinaryUrl } from '../../lambda/adapters/cloudinary/config.ts';
import type { CloudinaryConfig } from '../../lambda/adapters/cloudinary/config.ts';
import { loadCloudinary } from '../../lambda/adapters/cloudinary/sdk.ts';
import type { CloudinaryV2 } from '../../lambda/adapters/cloudinary/sdk.ts';
import { CloudinaryUploader, MIN_CHUNK_SIZE } from '../../lambda/adapters/cloudinary/uploader.ts';
import { encodeKeyValues, placementParams, uploadFilename } from '../../lambda/core/upload-params.ts';
import type { UploadRequest } from '../../lambda/ports/upload.ts';
import { readBody } from '../fakes/http-util.ts';
import { multipartBoundary, parseMultipart } from '../fakes/multipart.ts';

interface Recorded {
  method: string;
  path: string;
  query: Array<[string, string]>;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Multipart fields (signature and timestamp left out: they follow the clock) and the file part. */
const form = (r: Recorded) => {
  const parts = parseMultipart(r.body, multipartBoundary(r.headers['content-type']) ?? '');
  return {
    fields: parts.filter((p) => p.filename === undefined && p.name !== 'signature' && p.name !== 'timestamp').map((p) => [p.name, p.data.toString('utf8')]),
    signed: parts.some((p) => p.name === 'signature') && parts.some((p) => p.name === 'timestamp'),
    file: parts.filter((p) => p.filename !== undefined).map((p) => ({ name: p.name, filename: p.filename, type: p.contentType, bytes: p.data.length })),
  };
};

describe('the project client sends what the SDK sent', () => {
  let server: http.Server;
  let recorded: Recorded[] = [];
  let config: CloudinaryConfig;
  let sdk: CloudinaryV2;

  before(async () => {
    server = http.createServer((req, res) => {
      readBody(req, 64 * 1024 * 1024).then((body) => {
        const url = new URL(req.url ?? '/', 'http://x');
        recorded.push({ method: req.method ?? '', path: url.pathname, query: [...url.searchParams].sort(), headers: req.headers, body });
        const text = JSON.stringify({ public_id: 'é', version: 1, bytes: 1, resources: [] });
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) });
        res.end(text);
      }, () => {
        // A request cut before its end is not recorded: the server never saw it whole.
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `cloudinary://123456789012345:mirror-secret@mirror-cloud?upload_prefix=http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    config = parseCloudinaryUrl(url);
    sdk = await loadCloudinary(config, url);
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** The one request `call` made. */
  const one = async (call: () => Promise<unknown>): Promise<Recorded> => {
    recorded = [];
    await call();
    assert.equal(recorded.length, 1);
    return recorded[0] as Recorded;
  };

  const sameRequest = (ours: Recorded, theirs: Recorded): void => {
    assert.equal(ours.method, theirs.method);
    assert.equal(ours.path, theirs.path);
    assert.deepEqual(ours.query, theirs.query);
    assert.equal(ours.headers.authorization, theirs.headers.authorization);
    assert.equal(ours.headers['content-type'], theirs.headers['content-type']);
  };

  test('a listing page: GET with the same query and Basic credentials', async () => {
    const params = { max_results: 500, tags: true, context: true, metadata: true, moderations: true, next_cursor: 'abc/é=' };
    const theirs = await one(() => sdk.api.resources({ resource_type: 'video', type: 'private', ...params }));
    const ours = await one(() => new AdminApi(config).resources('video', 'private', params));
    sameRequest(ours, theirs);
    assert.equal(ours.path, '/v1_1/mirror-cloud/resources/video/private');
    assert.match(String(ours.headers.authorization), /^Basic /);
  });

  test('usage and the metadata field list', async () => {
    sameRequest(await one(() => new AdminApi(config).usage()), await one(() => sdk.api.usage()));
    sameRequest(await one(() => new AdminApi(config).listMetadataFields()), await one(() => sdk.api.list_metadata_fields()));
  });

  test('creating a metadata field: the same JSON body', async () => {
    const field = { external_id: 'couleur', type: 'enum', label: 'Couleur 色', datasource: { values: [{ external_id: 'r', value: 'rouge' }] } };
    const theirs = await one(() => sdk.api.add_metadata_field(field as never));
    const ours = await one(() => new AdminApi(config).addMetadataField(field));
    sameRequest(ours, theirs);
    assert.deepEqual(JSON.parse(ours.body.toString('utf8')), JSON.parse(theirs.body.toString('utf8')));
    assert.equal(ours.headers['content-length'], theirs.headers['content-length']);
  });

  test('a moderation update: the same path encoding and form body', async () => {
    const publicId = "папка/it's é 1";
    const theirs = await one(() => sdk.api.update(publicId, { resource_type: 'video', type: 'private', moderation_status: 'approved' }));
    const ours = await one(() => new AdminApi(config).update(publicId, 'video', 'private', { moderation_status: 'approved' }));
    sameRequest(ours, theirs);
    assert.equal(ours.body.toString('utf8'), theirs.body.toString('utf8'));
  });

  /** What the uploader sent to the SDK before (the same encodings, see uploader.ts uploadOptions). */
  const sdkOptions = (r: Omit<UploadRequest, 'body'>, chunkSize: number) => ({
    resource_type: r.resourceType,
    type: r.type,
    public_id: r.publicId,
    overwrite: r.overwrite,
    ...(r.overwrite ? { invalidate: true } : {}),
    ...(r.tags.length > 0 ? { tags: [...r.tags] } : {}),
    context: encodeKeyValues(r.context),
    metadata: encodeKeyValues(r.metadata),
    ...placementParams(r.placement),
    ...(r.manualModeration ? { moderation: 'manual' } : {}),
    filename: uploadFilename(r.publicId, r.format),
    chunk_size: chunkSize,
  });

  const request = (length: number): Omit<UploadRequest, 'body'> => ({
    publicId: '相册/写真 é',
    resourceType: 'image',
    type: 'private',
    format: 'jpg',
    tags: ['旅行', 'a,b'],
    context: { alt: 'صورة', 'k=1': 'v|2' },
    metadata: { colors: ['red', 'green'] },
    placement: { assetFolder: 'Документы', displayName: '写真 é', accessControl: [{ access_type: 'anonymous', start: '2026-01-01T00:00:00Z' }] },
    manualModeration: true,
    overwrite: true,
    length,
  });

  const sdkUpload = (r: Omit<UploadRequest, 'body'>, chunked: boolean): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const cb = (err?: unknown): void => (err ? reject(err) : resolve());
      const options = sdkOptions(r, MIN_CHUNK_SIZE);
      const sink = chunked ? sdk.uploader.upload_chunked_stream(options as never, cb) : sdk.uploader.upload_stream(options as never, cb);
      Readable.from([Buffer.alloc(r.length, 1)]).pipe(sink);
    });

  const ourUpload = async (r: Omit<UploadRequest, 'body'>): Promise<void> => {
    await new CloudinaryUploader(sdk, config, { chunkSize: MIN_CHUNK_SIZE }).upload({ ...r, body: Readable.from([Buffer.alloc(r.length, 1)]) });
  };

  test('a single upload: the same signed multipart fields and file part', async () => {
    const r = request(2500);
    const theirs = await one(() => sdkUpload(r, false));
    const ours = await one(() => ourUpload(r));
    assert.equal(ours.method, 'POST');
    assert.equal(ours.path, theirs.path);
    assert.equal(ours.path, '/v1_1/mirror-cloud/image/upload');
    assert.equal(ours.headers.authorization, undefined);
    assert.deepEqual(form(ours), form(theirs));
    assert.ok(form(ours).signed);
  });

  test('a chunked upload: the same chunks, Content-Range headers and one upload id', async () => {
    const r = request(2 * MIN_CHUNK_SIZE + 777);
    recorded = [];
    await sdkUpload(r, true);
    const theirs = recorded;
    recorded = [];
    await ourUpload(r);
    const ours = recorded;
    assert.equal(ours.length, 3);
    assert.deepEqual(ours.map((x) => x.headers['content-range']), theirs.map((x) => x.headers['content-range']));
    assert.deepEqual(ours.map((x) => x.headers['content-range']), [
      `bytes 0-${MIN_CHUNK_SIZE - 1}/-1`,
      `bytes ${MIN_CHUNK_SIZE}-${2 * MIN_CHUNK_SIZE - 1}/-1`,
      `bytes ${2 * MIN_CHUNK_SIZE}-${2 * MIN_CHUNK_SIZE + 776}/${2 * MIN_CHUNK_SIZE + 777}`,
    ]);
    assert.equal(new Set(ours.map((x) => x.headers['x-unique-upload-id'])).size, 1);
    for (let i = 0; i < ours.length; i += 1) assert.deepEqual(form(ours[i] as Recorded), form(theirs[i] as Recorded));
  });

  test('a body that fails, or delivers fewer bytes than announced, never completes a request', async () => {
    const uploader = new CloudinaryUploader(sdk, config, { chunkSize: MIN_CHUNK_SIZE });
    for (const length of [2500, MIN_CHUNK_SIZE + 2500]) {
      recorded = [];
      const short = uploader.upload({ ...request(length), body: Readable.from([Buffer.alloc(length - 1, 1)]) });
      await assert.rejects(short, (e: Error & { retryable?: boolean }) => /delivered \d+ bytes, \d+ expected/.test(e.message) && e.retryable === true);
      const boom = new Error('disk read failed');
      const failing = Readable.from((async function* () {
        yield Buffer.alloc(1000, 1);
        throw boom;
      })());
      await assert.rejects(uploader.upload({ ...request(length), body: failing }), (e) => e === boom);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(recorded.filter((x) => x.body.length >= 1000 && x.headers['content-range'] === undefined).length, 0, 'no single upload completed');
      assert.ok(recorded.every((x) => !String(x.headers['content-range'] ?? '').endsWith(`/${length}`)), 'no last chunk completed');
    }
  });
});
