/**
 * The record of finished copies (lambda/store/copy-record.ts, copy-records.ts) and how a run plans
 * with it (lambda/backup/adopt.ts): written within seconds or every N copies, read back newest
 * version first, adopted only where the stored object still has the recorded size.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StoredObject } from '../../lambda/core/asset.ts';
import { recordLookups } from '../../lambda/backup/adopt.ts';
import { KeyIndex } from '../../lambda/backup/key-index.ts';
import { CopyRecord } from '../../lambda/store/copy-record.ts';
import { readCopyRecords } from '../../lambda/store/copy-records.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';
import { HoldingSource } from '../fakes/holding-source.ts';
import { BackupEngine } from '../../lambda/backup/engine.ts';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);
const SHA_C = 'c'.repeat(64);
const files = (d: MemoryDestination): string[] => d.keys().filter((k) => k.startsWith('p/_catalog/copies/'));

describe('CopyRecord', () => {
  test('a batch is written once it holds maxEntries, the rest within flushMs, without a flush call', async () => {
    const d = new MemoryDestination();
    const rec = new CopyRecord(d, 'p', 'run-1', { flushMs: 50, maxEntries: 3 });
    const add = (i: number): void => rec.add({ key: `image/upload/${i}.jpg`, version: 10, bytes: 100 + i, sha256: SHA_A });
    for (let i = 0; i < 3; i += 1) add(i);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(files(d).length, 1, 'the first three at once');
    add(3);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(files(d).length, 1, 'the fourth waits for its batch');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(files(d).length, 2, 'the fourth within flushMs');
    const read = await readCopyRecords(d, 'p');
    assert.equal(read.size, 4);
    assert.deepEqual(read.get('image/upload/3.jpg'), { version: 10, bytes: 103, sha256: SHA_A });
    assert.deepEqual([...rec.files()].sort(), files(d).sort());
  });

  test('a failed write keeps its entries for the next flush, which reports the failure', async () => {
    const d = new MemoryDestination();
    const put = d.put.bind(d);
    let refuse = true;
    d.put = async (r) => (refuse ? Promise.reject(new Error('S3 down')) : put(r));
    const rec = new CopyRecord(d, 'p', 'run-1', { flushMs: 10_000 });
    rec.add({ key: 'k', version: 1, bytes: 1, sha256: SHA_A });
    await assert.rejects(rec.flush(), /S3 down/);
    refuse = false;
    await rec.flush();
    assert.equal((await readCopyRecords(d, 'p')).get('k')?.sha256, SHA_A);
  });

  test('the newest version of a key wins; a torn line is passed over', async () => {
    const d = new MemoryDestination();
    const one = new CopyRecord(d, 'p', 'run-1');
    one.add({ key: 'k', version: 20, bytes: 5, sha256: SHA_B });
    await one.flush();
    const two = new CopyRecord(d, 'p', 'run-2');
    two.add({ key: 'k', version: 10, bytes: 4, sha256: SHA_A });
    await two.flush();
    const torn = Buffer.from('["x",1,2,"' + SHA_C + '"]\n["y",1,2,');
    await d.put({ key: 'p/_catalog/copies/run-3/zz-000000.jsonl', body: torn, length: torn.length });
    const read = await readCopyRecords(d, 'p');
    assert.deepEqual(read.get('k'), { version: 20, bytes: 5, sha256: SHA_B });
    assert.equal(read.get('x')?.sha256, SHA_C);
    assert.equal(read.get('y'), undefined);
    // A run does not read its own records back (its checkpoints have them).
    assert.deepEqual((await readCopyRecords(d, 'p', 'run-1')).get('k'), { version: 10, bytes: 4, sha256: SHA_A });
  });
});

describe('recordLookups: what a run plans with', () => {
  const index = new KeyIndex();
  index.setPrevious('cat', { version: 10, current: true, resourceType: 'image', sha256: SHA_A });
  index.setPrevious('nosum', { version: 10, current: true, resourceType: 'image' });
  index.setPrevious('newer', { version: 30, current: true, resourceType: 'image', sha256: SHA_A });
  const records = new Map([
    ['cat', { version: 20, bytes: 7, sha256: SHA_B }],
    ['nosum', { version: 10, bytes: 7, sha256: SHA_C }],
    ['newer', { version: 20, bytes: 7, sha256: SHA_B }],
    ['resized', { version: 20, bytes: 7, sha256: SHA_B }],
    ['fresh', { version: 20, bytes: 7, sha256: SHA_B }],
  ]);
  const copies = { get: (k: string) => records.get(k), files: [], size: records.size };
  const stored = (k: string): StoredObject | undefined => ({ key: k, size: k === 'resized' ? 8 : 7, lastModified: new Date(0) });
  const look = recordLookups(index.previous, copies, stored);

  test('a record adopts the stored object when it is not older than the catalog and the size matches', () => {
    const cases: Array<[key: string, expected: unknown]> = [
      ['cat', { version: 20, current: true, sha256: SHA_B }],
      ['nosum', { version: 10, current: true, sha256: SHA_C }],
      ['newer', { version: 30, current: true, resourceType: 'image', sha256: SHA_A }],
      ['resized', undefined],
      ['fresh', { version: 20, current: true, sha256: SHA_B }],
      ['unknown', undefined],
    ];
    for (const [key, expected] of cases) assert.deepEqual(look.previous(key), expected, key);
    assert.deepEqual(look.recorded('fresh'), { version: 20, current: true });
    assert.deepEqual(look.recorded('newer'), { version: 30, current: true });
  });
});

describe('a copy record that cannot be written', () => {
  test('fails no run: the copies and the catalog are written, the report is whole', async () => {
    const d = new MemoryDestination();
    const put = d.put.bind(d);
    d.put = async (r) => (r.key.includes('_catalog/copies/') ? Promise.reject(new Error('AccessDenied')) : put(r));
    const options = { prefix: '', resourceTypes: ['image'], concurrency: 2, diff: 'list' as const, dryRun: false, prune: false, retryDelayMs: 0 };
    const report = await new BackupEngine(new HoldingSource([['a', 'b']], new Set()), d, options).run();
    assert.deepEqual([report.copied, report.failed, report.listingComplete], [2, 0, true]);
    assert.ok(d.bytes('_catalog/current.json'), 'the catalog is committed');
    assert.deepEqual(files(d), []);
  });
});
