/**
 * Case-insensitive or normalising folders (APFS, HFS+, exFAT, NTFS). No such
 * file system exists here, so the in-memory destination models one (`fold`: two names that fold
 * alike are one object) and
 * FoldSafeDestination (what a folder backup uses, lambda/entry/compose.ts) probes it like a disk.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FoldSafeDestination, NAMING_KEY, probeFolding } from '../../lambda/adapters/local/fold-safe-destination.ts';
import { decodeName, encodeName } from '../../lambda/adapters/local/fold-safe.ts';
import { verifyBackup } from '../../lambda/verify/verify.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';
import { StubSource, backup, catalogOf, sha } from '../support/stub-world.ts';

/** APFS (case-insensitive, normalisation-insensitive) and HFS+ (stores NFD) both compare names this way. */
const apfs = (key: string): string => key.normalize('NFD').toLowerCase();
const caseOnly = (key: string): string => key.toLowerCase();

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('the probe', () => {
  const cases: ReadonlyArray<readonly [string, ((k: string) => string) | undefined, { case: boolean; unicode: boolean }]> = [
    ['a case-sensitive, non-normalising store (ext4, S3)', undefined, { case: false, unicode: false }],
    ['case-insensitive (NTFS, exFAT)', caseOnly, { case: true, unicode: false }],
    ['case-insensitive and normalising (APFS, HFS+)', apfs, { case: true, unicode: true }],
  ];
  for (const [name, fold, want] of cases) {
    test(`${name}: detected, and the probe leaves nothing behind`, async () => {
      const disk = new MemoryDestination(fold ? { fold } : {});
      assert.deepEqual(await probeFolding(disk), want);
      assert.deepEqual(disk.keys(), []);
    });
  }

  test('the naming is recorded at the first check and wins over a later probe', async () => {
    const disk = new MemoryDestination({ fold: apfs });
    let probes = 0;
    const d1 = new FoldSafeDestination(disk, async () => {
      probes += 1;
      return { case: true, unicode: true };
    });
    await d1.check();
    assert.ok(disk.bytes(NAMING_KEY));
    const d2 = new FoldSafeDestination(disk, async () => {
      probes += 1;
      return { case: false, unicode: false };
    });
    await d2.check();
    assert.deepEqual(await d2.naming(), { case: true, unicode: true });
    assert.equal(probes, 1);
  });
});

describe('a damaged naming record', () => {
  test('is a one-line error naming the file, never a silent change of every name', async () => {
    const disk = new MemoryDestination();
    disk.set(NAMING_KEY, b('{"format":1,"fold'));
    const dest = new FoldSafeDestination(disk, async () => assert.fail('no probe: a record exists'));
    await assert.rejects(dest.head('image/upload/a.jpg'), (e: Error) => e.name === 'DestinationError' && /_catalog\/naming\.json is damaged/.test(e.message) && !e.message.includes('\n'));
  });
});

describe('names are encoded reversibly and never merge', () => {
  const twins = ['Photo', 'photo', 'PHOTO', 'caf\u00e9', 'cafe\u0301', 'CAF\u00c9', '~x', '~~x', '\u017f', 's', '\u212b', '\u00c5', 'a~{41}', 'A'];
  test('every name round-trips, and no two encoded names fold alike', () => {
    const f = { case: true, unicode: true };
    const seen = new Map<string, string>();
    for (const n of twins) {
      const e = encodeName(`image/upload/${n}.jpg`, f);
      assert.equal(decodeName(e, f), `image/upload/${n}.jpg`);
      const folded = apfs(e);
      assert.equal(seen.get(folded), undefined, `${n} and ${seen.get(folded)} would be one file`);
      seen.set(folded, n);
    }
  });
  test('a name the encoding does not write is not decoded (a foreign or older file)', () => {
    assert.equal(decodeName('image/upload/Photo.jpg', { case: true, unicode: false }), undefined);
    assert.equal(decodeName('image/upload/x~', { case: true, unicode: false }), undefined);
  });
});

describe('backups on a folding folder', () => {
  for (const [name, fold] of [['APFS-like (case + NFD)', apfs], ['NTFS-like (case)', caseOnly]] as const) {
    test(`${name}: case twins A/a and NFC/NFD twins are kept as distinct files, restorable and verifiable`, async () => {
      const src = new StubSource();
      src.add('A', b('capital a'));
      src.add('a', b('small a!!'));
      src.add('caf\u00e9', b('nfc cafe'));
      src.add('cafe\u0301', b('nfd cafe!'));
      const disk = new MemoryDestination({ fold });
      const dest = new FoldSafeDestination(disk);
      const report = await backup(src, dest);
      assert.equal(report.copied, 4);
      const cat = await catalogOf(dest);
      assert.equal(cat.size, 4);
      for (const a of src.assets()) {
        const e = [...cat.values()].find((x) => x.publicId === a.publicId);
        assert.equal(e?.sha256, sha(src.bodyOf(a.publicId)), a.publicId);
        const chunks: Buffer[] = [];
        for await (const c of await dest.get(e?.key as string)) chunks.push(c as Buffer);
        assert.equal(Buffer.concat(chunks).toString(), src.bodyOf(a.publicId).toString(), `${a.publicId} reads back its own bytes`);
      }
      const v = await verifyBackup(dest, { prefix: '', deep: true, concurrency: 2 }, src);
      assert.equal(v.ok, true, JSON.stringify(v.problems));
      assert.equal((await backup(src, dest)).copied, 0, 'the next night copies nothing');
    });

    test(`${name}: a rename Photo -> photo under --prune keeps the backup`, async () => {
      const src = new StubSource();
      for (let i = 0; i < 30; i += 1) src.add(`p${i}`, b(`photo ${i}`));
      src.add('Photo', b('the photo'));
      const dest = new FoldSafeDestination(new MemoryDestination({ fold }));
      await backup(src, dest);
      src.remove('Photo');
      src.add('photo', b('the photo'));
      const report = await backup(src, dest, { prune: true });
      assert.equal(report.pruned, 1);
      const cat = await catalogOf(dest);
      assert.equal(cat.get('image/upload/photo.jpg')?.state, 'current');
      const chunks: Buffer[] = [];
      for await (const c of await dest.get('image/upload/photo.jpg')) chunks.push(c as Buffer);
      assert.equal(Buffer.concat(chunks).toString(), 'the photo', 'photo.jpg is still backed up');
    });
  }

  test('without the encoding (a backup written before it): prune never deletes the file a current asset maps to', async () => {
    const src = new StubSource();
    for (let i = 0; i < 30; i += 1) src.add(`p${i}`, b(`photo ${i}`));
    src.add('Photo', b('the photo'));
    const disk = new MemoryDestination({ fold: apfs });
    await backup(src, disk);
    src.remove('Photo');
    src.add('photo', b('the photo'));
    await backup(src, disk, { prune: true });
    assert.equal(disk.bytes('image/upload/photo.jpg')?.toString(), 'the photo');
    // Copy records (lambda/store/copy-record.ts) are dropped once a catalog is committed; no backup is deleted.
    assert.deepEqual(disk.deleted.filter((k) => !k.includes('_catalog/copies/')), []);
  });
});

/**
 * A store whose reads of the naming record made before the check's own (the lease's, taken at
 * the same time as the check since a53869c: lambda/backup/start-run.ts) answer late, as a network
 * folder may: with the state from before the record was written, after the check recorded it.
 */
class SlowEarlyNamingRead extends MemoryDestination {
  private checked = false;
  private recorded!: () => void;
  private readonly whenRecorded = new Promise<void>((r) => (this.recorded = r));

  override async check(): Promise<void> {
    await super.check();
    this.checked = true;
  }

  override async readTagged(key: string): Promise<Awaited<ReturnType<MemoryDestination['readTagged']>>> {
    const early = key === NAMING_KEY && !this.checked;
    const r = await super.readTagged(key);
    if (early) {
      await this.whenRecorded;
      await new Promise((done) => setImmediate(done));
    }
    return r;
  }

  override async writeConditional(...args: Parameters<MemoryDestination['writeConditional']>): Promise<string> {
    const tag = await super.writeConditional(...args);
    if (args[0] === NAMING_KEY) this.recorded();
    return tag;
  }
}

describe('the start of a run on a folding folder (check and lease at once)', () => {
  test('a late read of the naming record by the lease does not undo the naming the check recorded: case twins stay two files', async () => {
    const src = new StubSource();
    src.add('A', b('capital a'));
    src.add('a', b('small a!!'));
    const disk = new SlowEarlyNamingRead({ fold: caseOnly });
    const dest = new FoldSafeDestination(disk, async () => ({ case: true, unicode: false }));
    const report = await backup(src, dest);
    assert.equal(report.copied, 2);
    assert.deepEqual(await dest.naming(), { case: true, unicode: false }, 'the run keeps the recorded naming');
    const cat = await catalogOf(dest);
    for (const a of src.assets()) {
      const e = [...cat.values()].find((x) => x.publicId === a.publicId);
      const chunks: Buffer[] = [];
      for await (const c of await dest.get(e?.key as string)) chunks.push(c as Buffer);
      assert.equal(Buffer.concat(chunks).toString(), src.bodyOf(a.publicId).toString(), `${a.publicId} reads back its own bytes`);
    }
  });
});
