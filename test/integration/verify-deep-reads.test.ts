/**
 * `verify --deep` when re-reading an object goes wrong (mutation audit of
 * lambda/verify/verify.ts): a read that fails part-way must never count as a good copy, an object
 * deleted between the listing and its read is named missing, and an entry with no recorded sha256
 * (backed up before checksums) is counted unhashed, not called corrupt. Run against a real folder
 * destination (LocalDestination); the catalog is the one a backup wrote, or one written here.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { LocalDestination } from '../../lambda/adapters/local/folder.ts';
import type { Destination } from '../../lambda/ports/storage.ts';
import { Catalog } from '../../lambda/store/catalog.ts';
import type { CatalogEntry } from '../../lambda/store/catalog.ts';
import { damageKey } from '../../lambda/store/damage.ts';
import type { DamageRecord } from '../../lambda/store/damage.ts';
import { verifyBackup } from '../../lambda/verify/verify.ts';
import { StubSource, backup, sha } from '../support/stub-world.ts';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');
const deep = (dest: Destination) => verifyBackup(dest, { prefix: '', deep: true, concurrency: 2 });

/**
 * The folder destination, except that `get` of one key behaves as `onGet` says. Everything else
 * (listing, catalog, the other reads) is the real adapter.
 */
const withGet = (real: LocalDestination, key: string, onGet: () => Promise<Readable>): Destination =>
  new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'get') return (k: string) => (k === key ? onGet() : target.get(k));
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });

describe('verify --deep: reads that go wrong', () => {
  let folder: string;
  before(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'cb-verify-reads-'));
  });
  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  /** A clean backup of three assets in a folder of its own. */
  const backedUp = async (): Promise<{ real: LocalDestination; dir: string }> => {
    const dir = await mkdtemp(path.join(folder, 'b-'));
    const dest = new LocalDestination(dir);
    const src = new StubSource();
    for (const id of ['a', 'b', 'c']) src.add(id, b(`original bytes of ${id}`));
    const r = await backup(src, dest);
    assert.equal(r.copied, 3);
    assert.equal((await deep(dest)).ok, true, 'the backup is clean before anything goes wrong');
    return { real: dest, dir };
  };

  test('an object whose read fails part-way is corrupt (never OK), and is recorded for the next backup', async () => {
    const { real, dir } = await backedUp();
    const key = 'image/upload/b.jpg';
    // A GetObject body can fail after some bytes: the SDK's stream errors with "aborted" /
    // ECONNRESET when the connection resets mid-body (openzim/mwoffliner#2873, aws-sdk-js-v3#8098).
    const broken = async (): Promise<Readable> => {
      const first = b('original');
      return Readable.from(
        (async function* () {
          yield first;
          throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
        })(),
      );
    };
    const report = await deep(withGet(real, key, broken));
    assert.equal(report.ok, false);
    assert.equal(report.corrupt, 1);
    assert.deepEqual(
      report.problems.map((p) => [p.kind, p.key]),
      [['corrupt', key]],
    );
    assert.match(report.problems[0]?.detail ?? '', /could not be read: .*aborted/);
    const rec = JSON.parse(await readFile(path.join(dir, damageKey('')), 'utf8')) as DamageRecord;
    assert.deepEqual(rec.objects.map((o) => o.key), [key], 'the next backup copies it again');
  });

  test('an object deleted after the listing, before its deep read, is named missing', async () => {
    const { real, dir } = await backedUp();
    const key = 'image/upload/c.jpg';
    // The file goes between the listing and the read (another tool, a prune): the real adapter's
    // read then fails with ENOENT, which it marks notFound.
    const vanish = async (): Promise<Readable> => {
      await unlink(path.join(dir, key));
      return real.get(key);
    };
    const report = await deep(withGet(real, key, vanish));
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.problems.map((p) => [p.kind, p.key]),
      [['missing', key]],
    );
    assert.match(report.problems[0]?.detail ?? '', /disappeared during the check/);
  });

  test('an entry with no recorded sha256 is counted unhashed, not called corrupt, and the check is not OK', async () => {
    const dest = new LocalDestination(await mkdtemp(path.join(folder, 'old-')));
    const withSum = b('bytes whose sha256 was recorded');
    const without = b('bytes backed up before checksums');
    const entry = (id: string, body: Buffer, sha256?: string): CatalogEntry => ({
      key: `image/upload/${id}.jpg`,
      publicId: id,
      assetId: id,
      resourceType: 'image',
      type: 'upload',
      format: 'jpg',
      version: 1,
      bytes: body.length,
      createdAt: '2024-01-01T00:00:00Z',
      tags: [],
      context: {},
      metadata: {},
      state: 'current',
      ...(sha256 === undefined ? {} : { sha256 }),
    });
    const entries = [entry('summed', withSum, sha(withSum)), entry('old', without)];
    await dest.put({ key: 'image/upload/summed.jpg', body: withSum, length: withSum.length });
    await dest.put({ key: 'image/upload/old.jpg', body: without, length: without.length });
    const catalog = new Catalog(dest, '');
    await catalog.writePage('a', 0, entries);
    await catalog.commit({ format: 1, slot: 'a', runId: 'r', completedAt: new Date().toISOString(), pages: 1, entries: 2 });

    const report = await deep(dest);
    assert.deepEqual(report.problems, []);
    // Not corrupt, but not verified either: not OK until a backup hashes it (the remedy says so).
    assert.equal(report.ok, false);
    assert.match(report.remedy ?? '', /^1 object\(s\) have no recorded checksum, so --deep could not compare them: run a backup/);
    assert.deepEqual({ hashed: report.hashed, unhashed: report.unhashed, bytesRead: report.bytesRead }, { hashed: 1, unhashed: 1, bytesRead: withSum.length });
  });
});
