/**
 * Destination.copy, which history's retire uses (docs/history.md): on S3 a server-side
 * CopyObject (s3rver, made strict) that keeps the bytes and the user metadata, for keys with the
 * characters a public_id may hold; on a folder a copy renamed into place. A missing source
 * rejects with notFound.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { S3Destination } from '../../lambda/adapters/s3/destination.ts';
import { LocalDestination } from '../../lambda/adapters/local/folder.ts';
import type { Destination } from '../../lambda/ports/storage.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { s3For } from '../helpers.ts';

const KEYS = ['p/image/upload/plain.jpg', 'p/image/upload/a&b=c,d;e:f@g$h.jpg', 'p/image/upload/sp ace/ünï 日本.jpg', "p/raw/upload/it's (1)!*~"];

const read = async (d: Destination, key: string): Promise<Buffer> => {
  const parts: Buffer[] = [];
  for await (const c of await d.get(key)) parts.push(c as Buffer);
  return Buffer.concat(parts);
};

describe('Destination.copy', () => {
  let s3rver: S3rverHandle;
  let folder: string;
  before(async () => {
    s3rver = await startS3rver(['copies']);
    folder = await mkdtemp(path.join(tmpdir(), 'cb-copy-'));
  });
  after(async () => {
    await s3rver.stop();
    await rm(folder, { recursive: true, force: true });
  });

  for (const kind of ['s3', 'folder'] as const) {
    test(`${kind}: bytes copied for every kind of key; a missing source is notFound`, async () => {
      const d: Destination = kind === 's3' ? new S3Destination(s3For(s3rver.endpoint), 'copies', { probeKey: 'p/_catalog/write-check' }) : new LocalDestination(folder);
      assert.ok(d.copy);
      for (const [i, key] of KEYS.entries()) {
        const body = Buffer.from(`original ${i}`);
        await d.put({ key, body, length: body.length, metadata: { 'cld-public-id': `id-${i}` } });
        await d.copy(key, `p/_history/${i}/1`);
        assert.deepEqual(await read(d, `p/_history/${i}/1`), body, key);
      }
      await assert.rejects(d.copy('p/image/upload/none.jpg', 'p/_history/x/1'), (e: Error & { notFound?: boolean }) => e.notFound === true);
    });
  }

  test('s3: the copy keeps the user metadata (MetadataDirective COPY)', async () => {
    const s3 = s3For(s3rver.endpoint);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'copies', Key: 'p/_history/0/1' }));
    assert.equal(head.Metadata?.['cld-public-id'], 'id-0');
  });
});
