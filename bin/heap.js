// How much garbage V8 may let the command line's heap gather (issue 14). Plain JavaScript with
// only node:v8, like bundle-state.js: the bin applies it at every start, before the bundle loads.
import v8 from 'node:v8';

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
 * The V8 flag the bin sets at start, or undefined when the user chose the growing factor
 * (`--heap-growing-percent` on the command line or in NODE_OPTIONS): theirs wins.
 * @param {readonly string[]} execArgv
 * @param {string | undefined} nodeOptions
 * @returns {string | undefined}
 */
export const heapFlag = (execArgv, nodeOptions) => {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  if (given.some((a) => /^--heap[-_]growing[-_]percent(=|$)/.test(a))) return undefined;
  return `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
};

/**
 * Sets the flag at run time. V8 reads `heap_growing_percent` each time it computes the next
 * limit (MemoryController::GrowingFactor in heap-controller.cc), not only at start-up, and Node.js
 * leaves V8's flags writable after start (`--no-freeze-flags-after-init`, its default), so no
 * second process is needed. Nothing else changes: an unknown flag would print a warning, not fail.
 */
export const tuneHeap = () => {
  const flag = heapFlag(process.execArgv, process.env.NODE_OPTIONS);
  if (flag !== undefined) v8.setFlagsFromString(flag);
};
