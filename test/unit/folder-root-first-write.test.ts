/**
 * A folder backup whose root does not exist yet: the run's start takes the lease while the write
 * check runs (lambda/backup/start-run.ts), so the lease's conditional write can come before
 * check() created the root. Seen in CI as "mkdir .../backup/_catalog: ENOENT".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalDestination } from '../../lambda/adapters/local/folder.ts';

test('a conditional write into a folder whose root does not exist yet creates the root', async () => {
  const parent = await mkdtemp(path.join(tmpdir(), 'cb-root-'));
  try {
    const root = path.join(parent, 'backup');
    const dest = new LocalDestination(root);
    await dest.writeConditional('_catalog/lease.json', Buffer.from('{}'), { ifNoneMatch: '*' });
    assert.equal(await readFile(path.join(root, '_catalog', 'lease.json'), 'utf8'), '{}');
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
});
