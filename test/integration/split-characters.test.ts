/**
 * Answers that arrive in pieces, a multi-byte character split between two of them (the fake
 * writes every JSON answer so, test/fakes/cloudinary/pieces.ts). The `cloudinary` SDK decodes
 * each piece on its own (`buffer += d`, lib/api_client/execute_request.js and lib/uploader.js),
 * which turns the split character into U+FFFD; the project's own client
 * (lambda/adapters/cloudinary/api-client.ts, upload-client.ts) reads every answer whole. Here,
 * in-process and through the production classes: a listing of an account whose names are in
 * several scripts, and uploads whose answers name the asset.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { listAll } from '../../lambda/adapters/cloudinary/list-all.ts';
import { parseCloudinaryUrl } from '../../lambda/adapters/cloudinary/config.ts';
import { CloudinaryUploader, MIN_CHUNK_SIZE } from '../../lambda/adapters/cloudinary/uploader.ts';
import { RESOURCE_TYPES, isBackedUpType, listingsFor } from '../../lambda/core/asset.ts';
import type { Asset } from '../../lambda/core/asset.ts';
import { openCloudinary } from '../../lambda/entry/compose.ts';
import type { CloudinarySide } from '../../lambda/entry/compose.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import { populate } from '../fixtures.ts';

const REPLACEMENT = '\uFFFD';

describe('answers in pieces: names in every script arrive byte for byte', () => {
  let fake: CloudinaryFake;
  let cloud: CloudinarySide;

  before(async () => {
    fake = new CloudinaryFake({ cloudName: 'scripts', apiKey: '314159265358979', apiSecret: 'split-secret-1' });
    await fake.start();
    populate(fake, { images: 1200, videos: 40, raw: 40 });
    cloud = await openCloudinary(fake.cloudinaryUrl);
  });

  after(async () => {
    await fake.stop();
  });

  test('a full listing (several 500-asset pages) gives every public_id, tag and context exactly', async () => {
    const listed: Asset[] = [];
    for (const l of listingsFor(RESOURCE_TYPES)) for await (const a of listAll(cloud.source, l.resourceType, l.type)) listed.push(a);
    const expected = fake.listAssets().filter(isBackedUpType);
    assert.equal(listed.length, expected.length);
    const byId = new Map(listed.map((a) => [`${a.resourceType}/${a.type}/${a.assetId}`, a]));
    const wrong: string[] = [];
    for (const e of expected) {
      const got = byId.get(`${e.resourceType}/${e.type}/${e.assetId}`);
      const same =
        got !== undefined &&
        got.publicId === e.publicId &&
        JSON.stringify(got.tags) === JSON.stringify(e.tags) &&
        JSON.stringify(got.context) === JSON.stringify(e.context);
      if (!same) wrong.push(`${e.publicId} -> ${got?.publicId} ${JSON.stringify(got?.tags)} ${JSON.stringify(got?.context)}`);
    }
    assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} assets listed with other names, tags or context`);
    assert.ok(!listed.some((a) => JSON.stringify(a).includes(REPLACEMENT)));
  });

  test('an upload, single and chunked, is answered with its exact public_id', async () => {
    const uploader = new CloudinaryUploader(cloud.sdk, parseCloudinaryUrl(fake.cloudinaryUrl), { chunkSize: MIN_CHUNK_SIZE });
    for (const [publicId, length] of [
      ['相册/写真 アルバム 😀', 3000],
      ['папка/صورة é', MIN_CHUNK_SIZE + 1234],
    ] as const) {
      const body = Readable.from([Buffer.alloc(length, 7)]);
      const result = await uploader.upload({
        publicId, resourceType: 'image', type: 'upload', format: 'jpg', tags: [], context: {}, metadata: {}, body, length, overwrite: true,
      });
      assert.equal(result.publicId, publicId);
      assert.equal(result.bytes, length);
      assert.ok(fake.listAssets().some((a) => a.publicId === publicId), 'stored under its exact name');
    }
  });
});
