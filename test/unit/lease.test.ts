/**
 * The run lease (lambda/store/lease.ts) on the in-memory destination, whose conditional writes
 * refuse as S3 does (412): one holder at a time, the loser told who holds it, takeover after the
 * expiry or at once when the holder was a process on this machine that no longer runs, renewal
 * from a checkpoint's older tag when the lease still names the same run, release as an expired
 * record.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { LeaseLostError } from '../../lambda/core/errors.ts';
import { Lease, isOrphaned, thisProcess } from '../../lambda/store/lease.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';

const T0 = new Date('2026-11-29T03:00:00Z');
const later = (ms: number): Date => new Date(T0.getTime() + ms);

test('one holder at a time; the loser learns who holds it and since when', async () => {
  const d = new MemoryDestination();
  const a = new Lease(d, 'p', 'memory', 60_000);
  const b = new Lease(d, 'p', 'memory', 60_000);
  const r1 = await a.take('nightly backup', 'run-1', T0);
  assert.ok('held' in r1);
  const r2 = await b.take('laptop', 'run-2', later(1000));
  assert.ok('heldBy' in r2 && r2.heldBy.runId === 'run-1' && r2.heldBy.holder === 'nightly backup' && r2.heldBy.takenAt === T0.toISOString());
});

test('two takes racing on one store: exactly one wins', async () => {
  const d = new MemoryDestination();
  const results = await Promise.all([1, 2, 3, 4].map((i) => new Lease(d, '', 'memory').take(`h${i}`, `run-${i}`, T0)));
  assert.equal(results.filter((r) => 'held' in r).length, 1);
});

test('an expired lease is taken over; the old holder then finds it lost', async () => {
  const d = new MemoryDestination();
  const old = new Lease(d, '', 'memory', 60_000);
  const r = await old.take('killed run', 'run-1', T0);
  assert.ok('held' in r);
  const next = await new Lease(d, '', 'memory', 60_000).take('new run', 'run-2', later(60_001));
  assert.ok('held' in next, 'taken over after the expiry');
  await assert.rejects(old.renew(r.held, later(60_002)), LeaseLostError);
  await assert.rejects(old.release(r.held, later(60_002)), LeaseLostError);
});

test('a renewal from an older tag of the same run goes on (a step run again from its checkpoint)', async () => {
  const d = new MemoryDestination();
  const lease = new Lease(d, '', 'memory', 60_000);
  const r = await lease.take('nightly', 'run-1', T0);
  assert.ok('held' in r);
  await lease.renew(r.held, later(1000)); // the step renewed, then failed; its checkpoint keeps the old tag
  const again = await lease.renew(r.held, later(2000));
  assert.notEqual(again.etag, r.held.etag);
});

test('release writes an expired record: the next run takes it at once, and no delete is needed', async () => {
  const d = new MemoryDestination();
  const lease = new Lease(d, '', 'memory', 60_000);
  const r = await lease.take('cli', 'run-1', T0);
  assert.ok('held' in r);
  await lease.release(r.held, later(10));
  assert.deepEqual(d.deleted, []);
  assert.equal(await lease.holder(later(11)), undefined);
  assert.ok('held' in (await new Lease(d, '', 'memory').take('cli', 'run-2', later(12))));
});

test('a lease of a process on this machine that no longer runs is taken over at once', async () => {
  const dead = spawnSync(process.execPath, ['-e', '0']).pid ?? 0;
  const me = thisProcess();
  assert.equal(isOrphaned({ holder: 'x', runId: 'r', takenAt: '', expiresAt: '', host: me.host, pid: dead }), true);
  assert.equal(isOrphaned({ holder: 'x', runId: 'r', takenAt: '', expiresAt: '', host: me.host, pid: process.ppid }), false, 'a live process');
  assert.equal(isOrphaned({ holder: 'x', runId: 'r', takenAt: '', expiresAt: '', host: 'another-machine', pid: dead }), false, 'another machine: only the expiry tells');
  assert.equal(isOrphaned({ holder: 'x', runId: 'r', takenAt: '', expiresAt: '' }), false, 'the Lambda records no process');

  const d = new MemoryDestination();
  const killed = new Lease(d, '', 'memory', 600_000, { host: me.host, pid: dead });
  assert.ok('held' in (await killed.take('cli', 'run-1', T0)));
  assert.ok('held' in (await new Lease(d, '', 'memory', 600_000, me).take('cli', 'run-2', later(1000))), 'taken over before its expiry');
});

test('a renewal is due after an eighth of the lifetime, not on every step', async () => {
  const d = new MemoryDestination();
  const lease = new Lease(d, '', 'memory', 2 * 3600_000);
  const r = await lease.take('nightly', 'run-1', T0);
  assert.ok('held' in r);
  assert.equal(lease.due(r.held, later(15 * 60_000 - 1)), false);
  assert.equal(lease.due(r.held, later(15 * 60_000)), true);
  const renewed = await lease.renew(r.held, later(15 * 60_000));
  assert.equal(lease.due(renewed, later(20 * 60_000)), false, 'counted from the renewal');
});

test('a release from an older tag of the same run still releases (a checkpoint older than the last renewal)', async () => {
  const d = new MemoryDestination();
  const lease = new Lease(d, '', 'memory', 60_000);
  const r = await lease.take('nightly', 'run-1', T0);
  assert.ok('held' in r);
  await lease.renew(r.held, later(1000));
  await lease.release(r.held, later(2000));
  assert.equal(await lease.holder(later(2001)), undefined);
});

test('a released lease is free to a reader whose clock is behind the releaser\'s', async () => {
  const d = new MemoryDestination();
  const lambda = new Lease(d, '', 'memory', 60_000);
  const r = await lambda.take('nightly', 'run-1', later(30_000));
  assert.ok('held' in r);
  await lambda.release(r.held, later(40_000)); // the releaser's clock: 40 s ahead of the reader's
  assert.equal(await lambda.holder(T0), undefined);
  assert.ok('held' in (await new Lease(d, '', 'memory').take('laptop', 'run-2', T0)));
});
