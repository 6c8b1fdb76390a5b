/**
 * The folder destination never follows a symbolic link out of its folder
 * (lambda/adapters/local/folder.ts): not to write, read, list, delete or keep temporary files.
 * Real files in a temporary directory; one link `image -> ../outside`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalDestination, TMP_DIR } from '../../lambda/adapters/local/folder.ts';

let base: string;
let root: string;
let outside: string;
let dest: LocalDestination;
const victim = 'image/upload/victim.jpg';

before(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'cb-link-'));
  root = path.join(base, 'backup');
  outside = path.join(base, 'outside');
  await mkdir(path.join(outside, 'upload'), { recursive: true });
  await writeFile(path.join(outside, 'upload', 'victim.jpg'), 'precious');
  await mkdir(root);
  await symlink(outside, path.join(root, 'image'));
  dest = new LocalDestination(root);
});

after(() => rm(base, { recursive: true, force: true }));

describe('a key under a symlinked folder', () => {
  test('list does not walk into it', async () => {
    const keys: string[] = [];
    for await (const o of dest.list('image/')) keys.push(o.key);
    assert.deepEqual(keys, []);
  });

  test('head reports it missing', async () => {
    assert.equal(await dest.head(victim), undefined);
  });

  test('get refuses it', async () => {
    await assert.rejects(dest.get(victim), /symbolic link/);
  });

  test('delete refuses it and the file outside stays', async () => {
    await assert.rejects(dest.delete(victim), /symbolic link/);
    assert.equal(await readFile(path.join(outside, 'upload', 'victim.jpg'), 'utf8'), 'precious');
  });

  test('put refuses it and writes nothing outside', async () => {
    await assert.rejects(dest.put({ key: 'image/upload/new.jpg', body: Buffer.from('x'), length: 1 }), /symbolic link/);
    assert.deepEqual(await readdir(path.join(outside, 'upload')), ['victim.jpg']);
  });
});

describe('a symlinked temporary folder', () => {
  test('check and put refuse it; nothing lands outside', async () => {
    const other = await mkdtemp(path.join(tmpdir(), 'cb-link-root-'));
    try {
      const tmpTarget = path.join(base, 'tmp-target');
      await mkdir(tmpTarget);
      await symlink(tmpTarget, path.join(other, TMP_DIR));
      const d = new LocalDestination(other);
      await assert.rejects(d.check(), /symbolic link/);
      await assert.rejects(d.put({ key: 'raw/upload/a', body: Buffer.from('x'), length: 1 }), /symbolic link/);
      assert.deepEqual(await readdir(tmpTarget), []);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
