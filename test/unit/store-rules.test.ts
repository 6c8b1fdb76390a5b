/**
 * The run lease and the catalog's files (lambda/store/lease.ts, lambda/store/catalog.ts), as the
 * first mutation run found them under-tested. Rules:
 * - A renewal extends the lease from the renewal's time and keeps the process it names (so a CLI
 *   run killed after renewing is still taken over at once on its machine).
 * - A lease is live strictly before its expiry; `holder()` names a live holder (for `status`).
 * - A failure of the store while taking or renewing the lease is that failure, never "the lease is
 *   held" or "the lease was lost"; a lease that keeps changing under a take is tried 3 times.
 * - A lease record without a holder or an expiry is not a lease: the next run takes it over.
 * - The lease lives at `<prefix>/_catalog/lease.json`; a CLI run's lease lasts 10 minutes and is
 *   renewed several times within it.
 * - Catalog files keep their names and bytes across versions: page n of slot s is
 *   `_catalog/<s>/<n, 6 digits>.jsonl`, one JSON line per entry each ending in a newline, and a
 *   page's hash is 16 characters of its sha256 (a change would rewrite every page once, or leave
 *   a catalog unreadable). A blank line in a page is skipped.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { DestinationError, LeaseHeldError, PreconditionFailedError } from '../../lambda/core/errors.ts';
import type { WriteCondition } from '../../lambda/ports/storage.ts';
import { Catalog, checkPointer, entryFor, pageBody, pageHash } from '../../lambda/store/catalog.ts';
import type { CatalogPointer } from '../../lambda/store/catalog.ts';
import { CLI_LEASE_LIFETIME_MS, CLI_LEASE_RENEW_MS, Lease, describeHolder, isLive, leaseKey } from '../../lambda/store/lease.ts';
import { listedAsset } from '../fakes/listed-asset.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';

const T0 = new Date('2026-11-29T03:00:00Z');
const later = (ms: number): Date => new Date(T0.getTime() + ms);
const recordOf = (d: MemoryDestination, key: string): Record<string, unknown> => JSON.parse((d.bytes(key) ?? Buffer.from('{}')).toString('utf8'));

/** A store whose conditional writes fail as told. */
class FlakyStore extends MemoryDestination {
  writes = 0;
  constructor(private readonly fail: (n: number) => Error | undefined) {
    super();
  }
  override async writeConditional(key: string, body: Buffer, condition: WriteCondition): Promise<string> {
    this.writes += 1;
    const err = this.fail(this.writes);
    if (err) throw err;
    return super.writeConditional(key, body, condition);
  }
}

describe('the lease', () => {
  test('a renewal extends it from the renewal\'s time: another run cannot take it before', async () => {
    const d = new MemoryDestination();
    const lease = new Lease(d, '', 'memory', 60_000);
    const r = await lease.take('nightly', 'run-1', T0);
    assert.ok('held' in r);
    await lease.renew(r.held, later(50_000));
    assert.equal(recordOf(d, lease.key).expiresAt, later(110_000).toISOString());
    assert.ok('heldBy' in (await new Lease(d, '', 'memory', 60_000).take('other', 'run-2', later(70_000))));
  });

  test('a renewal keeps the process the lease names', async () => {
    const d = new MemoryDestination();
    const lease = new Lease(d, '', 'memory', 60_000, { host: 'laptop', pid: 4242 });
    const r = await lease.take('cli', 'run-1', T0);
    assert.ok('held' in r);
    await lease.renew(r.held, later(1000));
    assert.deepEqual([recordOf(d, lease.key).host, recordOf(d, lease.key).pid], ['laptop', 4242]);
  });

  test('live strictly before its expiry; holder() names a live holder only', async () => {
    const held = { holder: 'h', runId: 'r', takenAt: T0.toISOString(), expiresAt: later(1000).toISOString() };
    assert.equal(isLive(held, later(999)), true);
    assert.equal(isLive(held, later(1000)), false);
    assert.equal(isLive({ ...held, released: true }, later(0)), false);
    const d = new MemoryDestination();
    const lease = new Lease(d, '', 'memory', 1000);
    assert.ok('held' in (await lease.take('nightly', 'run-1', T0)));
    assert.equal((await lease.holder(later(500)))?.runId, 'run-1');
    assert.equal(await lease.holder(later(1000)), undefined);
  });

  test('a store failure while taking or renewing is reported as that failure', async () => {
    const down = new DestinationError('writing _catalog/lease.json failed: 503 SlowDown');
    await assert.rejects(new Lease(new FlakyStore(() => down), '', 'memory').take('nightly', 'run-1', T0), (e: unknown) => e === down);
    const d = new FlakyStore((n) => (n === 2 ? down : undefined));
    const lease = new Lease(d, '', 'memory', 60_000);
    const r = await lease.take('nightly', 'run-1', T0);
    assert.ok('held' in r);
    await assert.rejects(lease.renew(r.held, later(1000)), (e: unknown) => e === down);
  });

  test('a lease that keeps changing under a take is tried 3 times, then reported held', async () => {
    const d = new FlakyStore(() => new PreconditionFailedError('_catalog/lease.json'));
    d.set('_catalog/lease.json', Buffer.from(JSON.stringify({ holder: 'old', runId: 'run-0', takenAt: '', expiresAt: T0.toISOString() })));
    await assert.rejects(new Lease(d, '', 'memory').acquire('nightly', 'run-1', later(1000)), LeaseHeldError);
    assert.equal(d.writes, 3);
  });

  test('a record without a holder is not a lease: it is taken over', async () => {
    const d = new MemoryDestination();
    d.set('_catalog/lease.json', Buffer.from(JSON.stringify({ expiresAt: later(3600_000).toISOString() })));
    assert.ok('held' in (await new Lease(d, '', 'memory').take('nightly', 'run-1', T0)));
    const e = new MemoryDestination();
    e.set('_catalog/lease.json', Buffer.from(JSON.stringify({ holder: 'x' })));
    assert.ok('held' in (await new Lease(e, '', 'memory').take('nightly', 'run-1', T0)));
  });

  test('where it lives, how it names its holder, and how long a CLI run holds it', () => {
    assert.equal(leaseKey('cld/nightly'), 'cld/nightly/_catalog/lease.json');
    assert.equal(leaseKey(''), '_catalog/lease.json');
    assert.equal(describeHolder('backup', { AWS_LAMBDA_FUNCTION_NAME: 'fn' }), 'backup (Lambda fn)');
    assert.match(describeHolder('backup', {}), new RegExp(`^backup \\(pid ${process.pid} on .+\\)$`));
    assert.equal(CLI_LEASE_LIFETIME_MS, 10 * 60_000, 'a killed run on another machine blocks the backup 10 minutes at most');
    assert.ok(CLI_LEASE_RENEW_MS * 3 <= CLI_LEASE_LIFETIME_MS && CLI_LEASE_RENEW_MS >= 60_000);
  });
});

describe('the catalog\'s files', () => {
  const entries = ['a', 'b'].map((id) => entryFor(listedAsset(id), `image/upload/${id}.jpg`, 'current', undefined));

  test('page names: slot, then the page number in 6 digits', () => {
    const c = new Catalog(new MemoryDestination(), 'cld');
    assert.equal(c.pageKey('a', 7), 'cld/_catalog/a/000007.jsonl');
    assert.equal(c.pageKey('b', 123456), 'cld/_catalog/b/123456.jsonl');
  });

  test('a page is one JSON line per entry, each ending in a newline; its hash is 16 characters of its sha256', () => {
    const body = pageBody(entries);
    assert.equal(body.toString('utf8'), `${JSON.stringify(entries[0])}\n${JSON.stringify(entries[1])}\n`);
    assert.equal(pageBody([]).length, 0);
    assert.equal(pageHash(body), createHash('sha256').update(body).digest('base64url').slice(0, 16));
    assert.equal(pageHash(body).length, 16);
  });

  test('a blank line in a page is skipped', async () => {
    const d = new MemoryDestination();
    const c = new Catalog(d, '');
    d.set(c.pageKey('a', 0), Buffer.from(`${JSON.stringify(entries[0])}\n\n  \n${JSON.stringify(entries[1])}\n\n`));
    const got: string[] = [];
    for await (const e of c.readPage('a', 0)) got.push(e.publicId);
    assert.deepEqual(got, ['a', 'b']);
  });

  test('a refused pointer names where it was read', async () => {
    const d = new MemoryDestination();
    const c = new Catalog(d, 'cld');
    const ptr: CatalogPointer = { format: 2, slot: 'a', runId: 'r', completedAt: '', pages: 2, entries: 3, layout: 'a' };
    d.set(c.pointerKey, Buffer.from(JSON.stringify(ptr)));
    await assert.rejects(c.pointer(), /^DestinationError: memory: cld\/_catalog\/current\.json is damaged|memory: cld\/_catalog\/current\.json is damaged/);
    assert.throws(() => checkPointer(ptr, 'here'), /^.*here is damaged/);
  });
});
