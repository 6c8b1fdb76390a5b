/**
 * verify checks every restore point the pointer lists (lambda/verify/restore-points.ts): its
 * manifest, and each page it names there with the bytes its name is the hash of. In memory.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Catalog } from '../../lambda/store/catalog.ts';
import { verifyBackup } from '../../lambda/verify/verify.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';
import { StubSource, backup } from '../support/stub-world.ts';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');
const OPTS = { prefix: '', deep: false, concurrency: 2 };

test('every listed restore point is checked; a changed page or a missing manifest is a problem', async () => {
  const src = new StubSource();
  for (let i = 0; i < 20; i += 1) src.add(`a${i}`, b(`body ${i}`));
  const dest = new MemoryDestination();
  const catalog = new Catalog(dest, '');
  await backup(src, dest, { catalogPageEntries: 4 });
  const first = await catalog.pointer();
  const a5 = src.assets().find((a) => a.publicId === 'a5');
  (a5?.tags as string[]).push('edited'); // night 2 changes the page that holds a5
  await backup(src, dest, { catalogPageEntries: 4 });
  const clean = await verifyBackup(dest, OPTS);
  assert.equal(clean.restorePoints, 2);
  assert.deepEqual(clean.restorePointProblems, []);
  assert.equal(clean.ok, true);

  // A page only night 1 names, changed in place: its bytes no longer hash to its name.
  const now = new Set((await catalog.pointer())?.hashes);
  const only = first?.hashes?.find((h) => !now.has(h));
  assert.ok(only, 'night 1 has a page night 2 does not');
  dest.set(catalog.namedPageKey(only), b('{"key":"x"}\n'));
  const changed = await verifyBackup(dest, OPTS);
  assert.equal(changed.ok, false);
  assert.match(changed.restorePointProblems.join('\n'), new RegExp(`${only}\\.jsonl does not hold the bytes its name is the hash of`));

  await dest.delete(catalog.pointKey(first!.runId));
  const missing = await verifyBackup(dest, OPTS);
  assert.match(missing.restorePointProblems.join('\n'), new RegExp(`restore point ${first!.runId}: .*manifest .* is missing`));
});
