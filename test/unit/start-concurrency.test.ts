/**
 * The fixed cost of a run: the destination's check and the lease are taken at once, then
 * the stale-upload listing, the catalog pointer read and the metadata-field save run at once
 * (lambda/backup/start-run.ts), and a page's catalog/inventory read overlaps its Cloudinary listing
 * (page-runner.ts). What must not change: no copy before the lease is held and the check passed, the
 * check's error first, and no lease left held by a start that failed.
 *
 * The case forced here is a check that fails after the lease was written: on S3, HeadBucket needs
 * s3:ListBucket while the lease's PutObject needs s3:PutObject (AWS API reference, HeadBucket,
 * "Permissions": "you must have permissions to perform the s3:ListBucket action"; a 403 without
 * it), so a policy granting only writes lets the lease through and fails the check.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { RunFailedError } from '../../lambda/backup/engine.ts';
import type { StoredObject } from '../../lambda/core/asset.ts';
import { ConfigError, LeaseHeldError } from '../../lambda/core/errors.ts';
import type { ListPage, WriteCondition } from '../../lambda/ports/storage.ts';
import { damageKey } from '../../lambda/store/damage.ts';
import { Lease, leaseKey } from '../../lambda/store/lease.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';
import { StubSource, backup } from '../support/stub-world.ts';

const LEASE = leaseKey('');

/** A destination whose check fails once the lease has been written (the two overlap). */
class CheckFailsAfterLease extends MemoryDestination {
  private leaseWritten!: () => void;
  private readonly leaseWrite = new Promise<void>((resolve) => {
    this.leaseWritten = resolve;
  });
  checkSawLease = false;
  readonly error = new ConfigError('Access to bucket "b" is denied. Check the AWS credentials and that they allow s3:ListBucket and s3:PutObject.');

  override async writeConditional(key: string, body: Buffer, condition: WriteCondition): Promise<string> {
    const etag = await super.writeConditional(key, body, condition);
    if (key === LEASE) this.leaseWritten();
    return etag;
  }

  override async check(): Promise<void> {
    // A start that ran the check first would wait here for a lease never written: 2 s ends it
    // (the check then fails without the overlap, and checkSawLease says so).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.leaseWrite.then(() => (this.checkSawLease = true)), new Promise((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
    throw this.error;
  }

  /** The lease record as stored (undefined: never written). */
  leaseRecord(): { released?: boolean; expiresAt: string } | undefined {
    const b = this.bytes(LEASE);
    return b && (JSON.parse(b.toString('utf8')) as { released?: boolean; expiresAt: string });
  }
}

const world = (): StubSource => {
  const src = new StubSource();
  src.add('a', Buffer.from('body a'));
  src.add('b', Buffer.from('body b'));
  return src;
};

describe('the start of a run: check and lease at once', () => {
  test('a check that fails after the lease was taken: its own error, no copy, the lease released', async () => {
    const src = world();
    const dest = new CheckFailsAfterLease();
    await assert.rejects(backup(src, dest), (err: unknown) => err === dest.error);
    assert.ok(dest.checkSawLease, 'the check and the lease overlapped');
    assert.deepEqual(src.opened, [], 'no download started');
    assert.deepEqual(dest.puts, [], 'no asset written');
    const rec = dest.leaseRecord();
    assert.ok(rec, 'the lease was written (the overlap this test forces)');
    assert.equal(rec.released, true, 'the lease taken meanwhile is released');
    assert.ok(Date.parse(rec.expiresAt) <= Date.now());
    // The next run (with a check that passes) takes the lease at once.
    const next = new Lease(dest, '', 'memory');
    await next.acquire('next run', 'run-2');
  });

  test('a failing check comes before a lease another run holds (exit 2, not 75); that lease is untouched', async () => {
    const src = world();
    const dest = new CheckFailsAfterLease();
    const other = await new Lease(dest, '', 'memory').acquire('other run', 'run-0');
    const before = dest.bytes(LEASE);
    await assert.rejects(backup(src, dest), (err: unknown) => err === dest.error && !(err instanceof LeaseHeldError));
    assert.deepEqual(dest.bytes(LEASE), before, `the lease of ${other.runId} is as it was`);
    assert.deepEqual(src.opened, []);
  });

  test('a lease held by another run with a check that passes: LeaseHeldError, nothing copied', async () => {
    const src = world();
    const dest = new MemoryDestination();
    await new Lease(dest, '', 'memory').acquire('other run', 'run-0');
    await assert.rejects(backup(src, dest), LeaseHeldError);
    assert.deepEqual(src.opened, []);
    assert.deepEqual(dest.puts, []);
  });
});

/** A destination whose damage-record read fails late (after the reads beside it began). */
class SlowFailingDamageRead extends MemoryDestination {
  readonly error = new Error('reading the damage record failed');
  /** A type folder whose listing fails at once (undefined: none). */
  failFolder: string | undefined;
  readonly folderError = new Error('listing the type folder failed');

  override async get(key: string): Promise<Readable> {
    if (key !== damageKey('')) return super.get(key);
    await sleep(50);
    throw this.error;
  }

  override async *list(prefix: string): AsyncIterable<StoredObject> {
    if (prefix === this.failFolder) throw this.folderError;
    yield* super.list(prefix);
  }
}

/** The cause a run failed with. */
const causeOf = async (p: Promise<unknown>): Promise<unknown> => {
  try {
    await p;
  } catch (err) {
    return err instanceof RunFailedError ? err.cause : err;
  }
  assert.fail('the run did not fail');
};

describe('the first page: catalog, inventory and listing at once', () => {
  test('a type folder listing that fails first: the catalog read still ends, and its error comes first; no copy', async () => {
    const src = world();
    const dest = new SlowFailingDamageRead();
    dest.failFolder = 'image/';
    assert.equal(await causeOf(backup(src, dest)), dest.error);
    assert.deepEqual(src.opened, []);
    assert.deepEqual(dest.puts.filter((k) => k.startsWith('image/')), []);
  });

  test("a Cloudinary listing that fails first: the catalog read's error comes first, as when it ran first; no copy", async () => {
    const src = new (class extends StubSource {
      readonly error = new Error('listing failed');
      override async listPage(): Promise<ListPage> {
        throw this.error;
      }
    })();
    src.add('a', Buffer.from('body a'));
    const dest = new SlowFailingDamageRead();
    assert.equal(await causeOf(backup(src, dest)), dest.error);
    assert.deepEqual(src.opened, []);
  });
});
