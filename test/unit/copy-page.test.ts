/**
 * Time-bounded copies (lambda/backup/copy-page.ts), with a clock that runs down with the bytes
 * moved (1 ms a byte) and copies that move their bytes in 10 KB chunks: a copy starts only when
 * it fits before the stop margin at the measured rate; nothing in flight and a fresh invocation
 * start the next copy whatever its size; copies still running at the stop margin are cut off.
 */
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { test } from 'node:test';
import { copyWithin } from '../../lambda/backup/copy-page.ts';
import type { PlannedAsset } from '../../lambda/core/plan.ts';

const item = (id: string, bytes: number): PlannedAsset => ({
  asset: { assetId: id, publicId: id, resourceType: 'video', type: 'upload', format: 'mp4', version: 1, bytes, createdAt: '', secureUrl: '', tags: [], context: {}, metadata: {} },
  key: `video/upload/${id}.mp4`,
  decision: { action: 'copy', reason: 'missing' },
});

const run = async (sizes: number[], opts: { concurrency: number; invocationMs?: number; spentBefore?: number; bytesPerMs?: number; fresh?: boolean }) => {
  let moved = 0;
  const invocation = opts.invocationMs ?? 900_000;
  const timeLeft = (): number => invocation - (opts.spentBefore ?? 0) - moved;
  const started: string[] = [];
  const result = await copyWithin(
    sizes.map((b, i) => item(`a${i}`, b)),
    {
      concurrency: opts.concurrency,
      bound: { timeLeft, startMarginMs: 120_000, stopMarginMs: 45_000, fresh: opts.fresh ?? false, ...(opts.bytesPerMs ? { bytesPerMs: opts.bytesPerMs } : {}) },
      stopped: () => false,
      copy: async (it, signal, onBytes) => {
        started.push(it.asset.publicId);
        for (let sent = 0; sent < it.asset.bytes; sent += 10_000) {
          if (signal.aborted) throw new Error('aborted');
          moved += Math.min(10_000, it.asset.bytes - sent);
          onBytes(Math.min(10_000, it.asset.bytes - sent));
          await tick();
        }
        if (signal.aborted) throw new Error('aborted');
        return 'sha';
      },
    },
  );
  return { kinds: result.outcomes.map((o) => o.kind), started };
};

test('only the copies that fit start; the rest wait for the next invocation, none is cut off', async () => {
  // 735 s usable (900 - 120 start margin - 45 stop margin) at 1 ms a byte: two of 300 KB fit, a third does not.
  const r = await run([300_000, 300_000, 300_000, 300_000], { concurrency: 1 });
  assert.deepEqual(r.kinds, ['copied', 'copied', 'not-started', 'not-started']);
});

test('concurrent copies are planned together: in-flight bytes count against the time left', async () => {
  const r = await run([200_000, 200_000, 200_000, 200_000, 200_000], { concurrency: 4 });
  // 4 x 200 KB end at 800 s, before the stop margin (855 s); the fifth would start after the start margin.
  assert.deepEqual(r.kinds, ['copied', 'copied', 'copied', 'copied', 'not-started']);
});

test('the first step of an invocation starts a copy that cannot fit, and the stop margin cuts it off', async () => {
  const r = await run([1_000_000], { concurrency: 2, fresh: true, bytesPerMs: 1 });
  assert.deepEqual(r.kinds, ['interrupted']);
});

test('a later step of an invocation (rate known) does not start a copy that cannot fit: it waits for the next invocation', async () => {
  const r = await run([20_000, 1_000_000], { concurrency: 1, spentBefore: 300_000, bytesPerMs: 1 });
  assert.deepEqual(r.kinds, ['copied', 'not-started']);
});

test('the first step of an invocation starts it even when loading took long (no later invocation would do better)', async () => {
  const r = await run([1_000_000], { concurrency: 1, spentBefore: 200_000, bytesPerMs: 1, fresh: true });
  assert.deepEqual(r.kinds, ['interrupted']);
});

test('in the first step, a copy that cannot fit and comes after others waits: only the first copy gets the exception', async () => {
  const r = await run([300_000, 300_000, 1_000_000], { concurrency: 1, fresh: true, bytesPerMs: 1 });
  assert.deepEqual(r.kinds, ['copied', 'copied', 'not-started']);
});
