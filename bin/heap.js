// How much garbage V8 may let the command line's heap gather (docs/performance.md, sections 5
// and 6). Plain JavaScript with only Node.js's own modules, like bundle-state.js: the bin
// applies it at every start.
import v8 from 'node:v8';
import { PerformanceObserver, constants } from 'node:perf_hooks';

/**
 * V8's old-generation growing factor for the command line, as a percentage over the live heap.
 * After each full GC, V8 lets the old generation grow to the live size times a factor before the
 * next one; on a machine whose memory gives a default heap limit over ~1 GiB (8 GiB of RAM and up)
 * that factor is up to 4 (`MaxGrowingFactor`, kHighFactor, V8 src/heap/heap-controller.cc). A
 * 1,000,000-asset no-change night holds ~100 MiB after each full GC and peaked at 634-668 MiB of
 * RSS, mostly garbage. Factor 2 bounds the garbage to what is live instead: 413-423 MiB at no
 * CPU cost measured there; 1.5 gave 359-376 MiB for ~9% more CPU, 1.2 333 MiB for ~25%
 * (test/bench/results/no-change-gc-1m.json). It applies once the live heap is large
 * (LARGE_HEAP_MIB, watchHeap). No limit is put on the heap itself, so a larger account still
 * grows it as far as its live data needs.
 */
export const HEAP_GROWING_PERCENT = 100;

/**
 * The most a semi-space of V8's new space (the young generation: two semi-spaces) may grow to
 * under the command line, in MiB: 16, V8 11's (Node.js 20's) default on 64-bit and what the
 * Lambda sets (infra/node-options.ts SEMI_SPACE_MIB). Node.js 24's V8 lets it grow to 64 MiB on
 * this machine (a new space of 128); the 1,000,000-asset verify, restore and night then peaked at
 * 543-636 MiB of RSS (test/bench/results/verify-restore-1m-heap-node24.json).
 */
export const SEMI_SPACE_MIB = 16;

const YOUNG_FLAGS = /^--(max[-_]semi[-_]space[-_]size|min[-_]semi[-_]space[-_]size|semi[-_]space[-_]growth[-_]factor|max[-_]heap[-_]size)(=|$)/;
const given = (execArgv, nodeOptions) => [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];

/**
 * Whether the bin sets the growing factor: not when the user chose one (`--heap-growing-percent`
 * on the node command line; Node.js refuses it in NODE_OPTIONS, read here all the same): theirs
 * wins.
 * @param {readonly string[]} execArgv
 * @param {string | undefined} nodeOptions
 * @returns {boolean}
 */
export const setsGrowingFactor = (execArgv, nodeOptions) => !given(execArgv, nodeOptions).some((a) => /^--heap[-_]growing[-_]percent(=|$)/.test(a));

/**
 * Whether the bin caps the new space: not when the user sized the young generation or the whole
 * heap themselves (`--max-semi-space-size`, `--min-semi-space-size`, `--semi-space-growth-factor`,
 * `--max-heap-size`, on the node command line or in NODE_OPTIONS, which takes the first and, from
 * Node.js 24, the last of them): theirs wins. (V8 raises a growth factor below 2 to 2 at start.)
 * @param {readonly string[]} execArgv
 * @param {string | undefined} nodeOptions
 * @returns {boolean}
 */
export const capsNewSpace = (execArgv, nodeOptions) => !given(execArgv, nodeOptions).some((a) => YOUNG_FLAGS.test(a));

const YOUNG_SPACES = new Set(['new_space', 'new_large_object_space']);

/**
 * A semi-space's capacity (the new space's used plus available bytes: its space_size is what is
 * committed, which halves when V8 releases the idle semi-space, so it cannot tell a shrink from a
 * release) and the bytes used in the other spaces (the old generation).
 */
const spaces = () => {
  let semiSpace = 0;
  let oldUsed = 0;
  for (const s of v8.getHeapSpaceStatistics()) {
    if (s.space_name === 'new_space') semiSpace = s.space_used_size + s.space_available_size;
    if (!YOUNG_SPACES.has(s.space_name)) oldUsed += s.space_used_size;
  }
  return { semiSpace, oldUsed };
};

/**
 * The live heap (MiB: the old generation's used bytes when a full collection is reported, which
 * is its live data plus what was promoted since) from which the growing factor applies; below it
 * V8's own factor stays. Set from the start, factor 2 cost a full backup of
 * benchmark 1's account ~0.4 CPU s of ~1.15 (~40%, most of it in V8's collector threads:
 * test/bench/results/throughput-heap-factor-ab.json); that backup holds 12 MiB after each of its
 * 22-25 full collections. From 64 MiB, a 1,000,000-asset night (~100 MiB live at the end) peaked
 * at 520-549 MiB, against 422-425 with the factor from the start: V8's factor of 4 below 64 MiB
 * let the heap reach ~4 x 64 first (no-change-1m-large-heap-factor-node20.json). 32 stays well
 * above the copy's 12 and keeps that first reach to ~4 x 32.
 */
export const LARGE_HEAP_MIB = 32;

/**
 * Watches V8's collections from inside the process (a `gc` performance entry after each,
 * https://nodejs.org/api/perf_hooks.html#performancegcentry) and adjusts two flags V8 reads at
 * run time. Node.js reports the entries a turn or two of the event loop after the collection
 * (src/node_perf.cc SetImmediate, lib/internal/perf/observe.js setImmediate), so both act late:
 * a burst of young collections with no turn between them can still grow the new space one step
 * past the cap (to 32 MiB) before the observer sees it. A backup's network reads give it turns.
 * The observer holds no handle: it does not keep the process alive.
 *
 * - `factor`: after each full collection, `--heap-growing-percent` is HEAP_GROWING_PERCENT while
 *   the live heap is LARGE_HEAP_MIB or more, 0 (V8's own factor) below. V8 reads it each time it
 *   sets the next old-generation limit (MemoryController::GrowingFactor, V8
 *   src/heap/heap-controller.cc: a positive value replaces the factor it computed).
 * - `cap`: a semi-space is capped at SEMI_SPACE_MIB. V8 reads its semi-space limit
 *   (`--max-semi-space-size`) only when the heap is set up (Heap::ConfigureHeap), so setting it
 *   now changes nothing; but it reads `--semi-space-growth-factor` each time it grows the new
 *   space (SemiSpaceNewSpace::Grow, V8 src/heap/new-spaces.cc: the next capacity is the factor
 *   times the current one). After each collection the factor is set to 1 (no growth) once a
 *   semi-space has reached the cap, and back to V8's 2 below it, as after V8 shrank it. V8 raises
 *   a factor below 2 to 2 only at start, not when it is set later: the Node.js 24 case of
 *   test/integration/cli-new-space.test.ts fails if that changes.
 *
 * @param {{ readonly factor: boolean, readonly cap: boolean }} what
 * @returns {PerformanceObserver}
 */
export const watchHeap = ({ factor, cap }) => {
  const capBytes = SEMI_SPACE_MIB * 1024 * 1024;
  const largeBytes = LARGE_HEAP_MIB * 1024 * 1024;
  let growth = 2;
  let percent = 0;
  const set = (flag) => v8.setFlagsFromString(flag);
  const observer = new PerformanceObserver((list) => {
    const { semiSpace, oldUsed } = spaces();
    if (cap) {
      // Used plus available falls a little short of the capacity (15.7 MiB for 16 on Node.js 20);
      // the next capacity down is half, so three quarters tells them apart.
      const want = semiSpace >= capBytes * 0.75 ? 1 : 2;
      if (want !== growth) set(`--semi-space-growth-factor=${(growth = want)}`);
    }
    if (factor && list.getEntries().some((e) => e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) {
      const want = oldUsed >= largeBytes ? HEAP_GROWING_PERCENT : 0;
      if (want !== percent) set(`--heap-growing-percent=${(percent = want)}`);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return observer;
};

/**
 * Starts watchHeap in this process, leaving out what the user set on the command line (or, for
 * the semi-space limit, in NODE_OPTIONS): theirs wins. Node.js leaves V8's flags writable after
 * start (`--no-freeze-flags-after-init`, its default), so no second process is needed.
 * @returns {PerformanceObserver | undefined}
 */
export const tuneHeap = () => {
  const factor = setsGrowingFactor(process.execArgv, process.env.NODE_OPTIONS);
  const cap = capsNewSpace(process.execArgv, process.env.NODE_OPTIONS);
  return factor || cap ? watchHeap({ factor, cap }) : undefined;
};
