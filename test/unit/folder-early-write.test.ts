/**
 * A backup copy's write now starts while its download opens (lambda/transfer/retrying.ts).
 * The folder destination waits for the body's input (PutRequest.ready) before it touches the
 * disk: a download that fails to open leaves no folder and no temporary file behind, as when the
 * write began only after the download had answered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { LocalDestination } from '../../lambda/adapters/local/folder.ts';
import { ExactLengthStream } from '../../lambda/transfer/exact-length.ts';

test('a body whose input never opens: nothing is created; one that opens is written', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'cb-early-'));
  try {
    const dest = new LocalDestination(root);
    await dest.check();
    const before = await readdir(root, { recursive: true });
    const failed = new ExactLengthStream(10, 5_000, undefined, undefined, { inputPending: true });
    const failing = dest.put({ key: 'image/upload/deep/never.jpg', body: failed, length: 10, ready: failed.opened });
    await new Promise((r) => setTimeout(r, 50));
    failed.destroy(new Error('download failed: HTTP 404'));
    await assert.rejects(failing, /HTTP 404/);
    await assert.rejects(stat(path.join(root, 'image')), { code: 'ENOENT' });
    assert.deepEqual(await readdir(root, { recursive: true }), before, 'the failed write left something behind');

    const later = new ExactLengthStream(10, 5_000, undefined, undefined, { inputPending: true });
    const writing = dest.put({ key: 'image/upload/deep/later.jpg', body: later, length: 10, ready: later.opened });
    Readable.from([Buffer.from('0123456789')]).pipe(later);
    later.inputOpened();
    await writing;
    assert.equal((await stat(path.join(root, 'image/upload/deep/later.jpg'))).size, 10);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
