import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { copyOut } from '../../lambda/entry/cli/copy-out.ts';
import type { Destination } from '../../lambda/ports/storage.ts';
import type { CatalogEntry } from '../../lambda/store/catalog.ts';

const body = Buffer.from('original bytes of the asset');
const entry: CatalogEntry = {
  assetId: 'a1', publicId: 'p', resourceType: 'image', type: 'upload', format: 'jpg', version: 1, bytes: body.length,
  createdAt: '', tags: [], context: {}, metadata: {}, key: 'image/upload/p.jpg', state: 'current',
  sha256: createHash('sha256').update(body).digest('hex'),
};

/** A destination whose read lets `during` run while the copy is under way. */
const destination = (during: () => Promise<void>): Destination =>
  ({
    description: 'test',
    get: async () => {
      await during();
      return Readable.from([body]);
    },
  }) as unknown as Destination;

test('a file that appears while the copy streams is not overwritten', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cb-copyout-'));
  try {
    const file = path.join(dir, 'p.jpg');
    // Another program creates the name after the up-front check: only link() can refuse then.
    await assert.rejects(copyOut(destination(() => writeFile(file, 'theirs')), entry, file), /exists; nothing is overwritten/);
    assert.equal((await readFile(file)).toString(), 'theirs');
    assert.deepEqual(await readdir(dir), ['p.jpg'], 'a temporary file was left behind');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a copy whose length differs from the catalog leaves nothing', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cb-copyout-'));
  try {
    const file = path.join(dir, 'p.jpg');
    await assert.rejects(copyOut(destination(async () => undefined), { ...entry, bytes: body.length + 1 }, file), /read \d+ bytes, the catalog says/);
    assert.deepEqual(await readdir(dir), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
