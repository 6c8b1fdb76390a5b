// How much garbage V8 may let the command line's heap gather (issue 14). Plain JavaScript with
// only Node.js's own modules, like bundle-state.js: the bin applies it at every start.
import v8 from 'node:v8';
import { PerformanceObserver } from 'node:perf_hooks';

/**
 * V8's old-generation growing factor for the command line, as a percentage over the live heap.
 * After each full GC, V8 lets the old generation grow to the live size times a factor before the
 * next one; on a machine whose memory gives a default heap limit over ~1 GiB (8 GiB of RAM and up)
 * that factor is up to 4 (`MaxGrowingFactor`, kHighFactor, V8 src/heap/heap-controller.cc). A
 * 1,000,000-asset no-change night holds ~100 MiB after each full GC and peaked at 634-668 MiB of
 * RSS, mostly garbage. Factor 2 bounds the garbage to what is live instead: 413-423 MiB at no
 * CPU cost measured; 1.5 gave 359-376 MiB for ~9% more CPU, 1.2 333 MiB for ~25%
 * (test/bench/results/no-change-gc-1m.json). No limit is put on the heap itself, so a larger
 * account still grows it as far as its live data needs.
 */
export const HEAP_GROWING_PERCENT = 100;

/**
 * The most V8's new space (the young generation: two semi-spaces) may grow to under the command
 * line, in MiB: 32, two semi-spaces of 16 MiB, V8 11's (Node.js 20's) default on 64-bit and what
 * the Lambda sets (infra/node-options.ts SEMI_SPACE_MIB). Node.js 24's V8 lets it grow to 128 MiB
 * on this machine (two of 64); the 1,000,000-asset verify, restore and night then peaked at
 * 543-636 MiB of RSS (test/bench/results/verify-restore-1m-heap-node24.json).
 */
export const NEW_SPACE_CAP_MIB = 32;

const YOUNG_FLAGS = /^--(max[-_]semi[-_]space[-_]size|min[-_]semi[-_]space[-_]size|semi[-_]space[-_]growth[-_]factor|max[-_]heap[-_]size)(=|$)/;
const given = (execArgv, nodeOptions) => [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];

/**
 * The V8 flag the bin sets at start, or undefined when the user chose the growing factor
 * (`--heap-growing-percent` on the command line or in NODE_OPTIONS): theirs wins.
 * @param {readonly string[]} execArgv
 * @param {string | undefined} nodeOptions
 * @returns {string | undefined}
 */
export const heapFlag = (execArgv, nodeOptions) => {
  if (given(execArgv, nodeOptions).some((a) => /^--heap[-_]growing[-_]percent(=|$)/.test(a))) return undefined;
  return `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
};

/**
 * Whether the bin caps the new space: not when the user sized the young generation or the whole
 * heap themselves (`--max-semi-space-size`, `--min-semi-space-size`, `--semi-space-growth-factor`,
 * `--max-heap-size`, on the command line or in NODE_OPTIONS): theirs wins.
 * @param {readonly string[]} execArgv
 * @param {string | undefined} nodeOptions
 * @returns {boolean}
 */
export const capsNewSpace = (execArgv, nodeOptions) => !given(execArgv, nodeOptions).some((a) => YOUNG_FLAGS.test(a));

const newSpaceBytes = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;

/**
 * Caps the new space at NEW_SPACE_CAP_MIB from inside the process. V8 reads its semi-space limit
 * (`--max-semi-space-size`) only when the heap is set up (Heap::ConfigureHeap), so setting it now
 * changes nothing; but it reads `--semi-space-growth-factor` each time it grows the new space
 * (Heap::ExpandNewSpaceSize: the next capacity is the factor times the current one, V8
 * src/heap/heap.cc). After each garbage collection (a `gc` performance entry,
 * https://nodejs.org/api/perf_hooks.html#performancegcentry), the factor is set to 1 (no growth)
 * once the new space has reached the cap and back to V8's 2 while it is below, as after V8 shrank
 * it. The observer holds no handle: it does not keep the process alive.
 * @returns {PerformanceObserver}
 */
export const capNewSpace = () => {
  const cap = NEW_SPACE_CAP_MIB * 1024 * 1024;
  let factor = 2;
  const observer = new PerformanceObserver(() => {
    const want = newSpaceBytes() >= cap ? 1 : 2;
    if (want === factor) return;
    factor = want;
    v8.setFlagsFromString(`--semi-space-growth-factor=${want}`);
  });
  observer.observe({ entryTypes: ['gc'] });
  return observer;
};

/**
 * Sets the flags at run time. V8 reads `heap_growing_percent` each time it computes the next
 * limit (MemoryController::GrowingFactor in heap-controller.cc), not only at start-up, and Node.js
 * leaves V8's flags writable after start (`--no-freeze-flags-after-init`, its default), so no
 * second process is needed. Nothing else changes: an unknown flag would print a warning, not fail.
 * Then the new space is capped (capNewSpace), unless the user sized it.
 */
export const tuneHeap = () => {
  const flag = heapFlag(process.execArgv, process.env.NODE_OPTIONS);
  if (flag !== undefined) v8.setFlagsFromString(flag);
  if (capsNewSpace(process.execArgv, process.env.NODE_OPTIONS)) capNewSpace();
};
