/**
 * The run lease (lambda/store/lease.ts) is held by one run at a time. Rule: a live lease is never
 * taken by another take() because the holder string matches — two CLI runs from one machine, or
 * two durable executions of one function, describe themselves alike. Only `reclaim` (a durable
 * execution's start step run again: its holder names that execution) takes over a live lease,
 * and only one whose holder is exactly the one given.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LeaseHeldError } from '../../lambda/core/errors.ts';
import { Lease } from '../../lambda/store/lease.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';

const T0 = new Date('2026-11-29T03:00:00Z');
const later = (ms: number): Date => new Date(T0.getTime() + ms);

test('a second take with the same holder string, without reclaim, finds the live lease held', async () => {
  const d = new MemoryDestination();
  const first = await new Lease(d, '', 'memory', 60_000).take('backup (pid 7 on laptop)', 'run-1', T0);
  assert.ok('held' in first);
  const second = await new Lease(d, '', 'memory', 60_000).take('backup (pid 7 on laptop)', 'run-2', later(1000));
  assert.ok('heldBy' in second, 'the live lease was taken by a second run');
  assert.equal(second.heldBy.runId, 'run-1');
  await assert.rejects(new Lease(d, '', 'memory', 60_000).acquire('backup (pid 7 on laptop)', 'run-3', later(2000)), LeaseHeldError);
});

test('with reclaim, the same holder takes its own live lease over, and the old token is then lost', async () => {
  const d = new MemoryDestination();
  const lease = new Lease(d, '', 'memory', 60_000);
  const first = await lease.take('nightly (execution e-1)', 'run-1', T0);
  assert.ok('held' in first);
  const again = await lease.take('nightly (execution e-1)', 'run-2', later(1000), true);
  assert.ok('held' in again, 'a start step run again reclaims its execution\'s lease');
  assert.equal(JSON.parse((d.bytes(lease.key) ?? Buffer.alloc(0)).toString('utf8')).runId, 'run-2');
  await assert.rejects(lease.renew(first.held, later(2000)), /lease/i);
});

test('reclaim never takes a live lease of another holder', async () => {
  const d = new MemoryDestination();
  assert.ok('held' in (await new Lease(d, '', 'memory', 60_000).take('nightly (execution e-1)', 'run-1', T0)));
  const other = await new Lease(d, '', 'memory', 60_000).take('nightly (execution e-2)', 'run-2', later(1000), true);
  assert.ok('heldBy' in other && other.heldBy.runId === 'run-1');
  await assert.rejects(new Lease(d, '', 'memory', 60_000).acquire('nightly (execution e-2)', 'run-2', later(1000), true), LeaseHeldError);
});
