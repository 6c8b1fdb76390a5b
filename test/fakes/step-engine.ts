/**
 * What the in-memory durable-step tests share: the scope NightlyRun.page asks of a step, engine
 * options without waits, and a Lambda clock the test moves.
 */
import type { EngineOptions, StepScope } from '../../lambda/backup/engine.ts';
import assert from 'node:assert/strict';
import type { TimeBound } from '../../lambda/backup/copy-page.ts';
import type { MemoryDestination } from './memory-destination.ts';

/** What NightlyRun.page asks of a step. */
export const STEP: StepScope = { pages: Infinity, untilCatalogPage: true };

/** Engine options for an in-memory image account: 4 in flight, no retry delay, 10,000-entry catalog pages. */
export const stepOptions = (extra: Partial<EngineOptions> = {}): EngineOptions => ({
  prefix: '',
  resourceTypes: ['image'],
  concurrency: 4,
  diff: 'list',
  dryRun: false,
  prune: false,
  retryDelayMs: 0,
  catalogPageEntries: 10_000,
  ...extra,
});

/**
 * A Lambda clock the test moves (`left` ms remain), with the default margins (2 min to start a
 * copy, 45 s to cut one off) and a known rate: 1 byte per ms, so every test file fits at once.
 */
export const lambdaClock = (fresh = true): { left: number; bound: TimeBound } => {
  const c = { left: 900_000, bound: undefined as unknown as TimeBound };
  c.bound = { timeLeft: () => c.left, bytesPerMs: 1, fresh };
  return c;
};

/** Waits until every id is in the destination; fails after 5 s (the verdict that it never would be). */
export const copiedIn = async (dest: MemoryDestination, ids: readonly string[]): Promise<void> => {
  const deadline = Date.now() + 5000;
  while (!ids.every((id) => dest.bytes(`image/upload/${id}.jpg`) !== undefined)) {
    if (Date.now() > deadline) assert.fail(`${ids.join(', ')} not all copied within 5000 ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
};
