/**
 * The V8 old-space limit for the function: half its memory.
 *
 * Why set one. V8 sizes its heap from the memory it sees, and grows the old space between full
 * collections by a factor that is largest (4x) once that limit is 1 GiB or more per pointer
 * multiplier, smaller (1.3x-2x) under it (V8 src/heap/heap-controller.{h,cc},
 * MemoryController::MaxGrowingFactor, kMinSize 128 MB / kMaxSize 1024 MB times
 * Heap::kHeapLimitMultiplier). The Lambda Node.js runtime's bootstrap sets --max-old-space-size
 * (and --max-semi-space-size) from AWS_LAMBDA_FUNCTION_MEMORY_SIZE only when NODE_OPTIONS names
 * neither (the runtime's bootstrap script, as published for nodejs20.x and nodejs24.x: "Do not
 * override customers' semi and old space size options"), at most of the function's memory. On a
 * 1M-asset no-change night only ~100 MiB is live after each full GC, but with a large limit the
 * old space grew to 410-450 MiB between collections (test/bench/results/heap-probe-1m.json,
 * v8-flags-1m.json). Half the memory leaves the other half for what V8 does not count there:
 * the young generation, code, Buffers of HTTP bodies, the runtime itself.
 */
export const oldSpaceMiB = (memorySizeMb: number): number => Math.floor(memorySizeMb / 2);

/**
 * The young generation's semi-space limit, in MiB: 16, V8 11's (Node.js 20's) default on 64-bit.
 *
 * Why set one. Once NODE_OPTIONS names a heap size, the runtime's bootstrap sets no semi-space
 * size either, and Node.js 24's V8 lets the young generation grow larger than Node.js 20's: on a
 * 1M-asset no-change night the durable handler with only the old-space limit peaked at 598 MiB on
 * Node.js 24 (test/bench/results/no-change-1m-heap-node24.json) against 414 MiB on Node.js 20
 * (no-change-durable-heap-1m.json). (The bootstrap's own value, when it sets one, is a twentieth of
 * the function's memory: 51 MiB at 1024 MB.)
 */
export const SEMI_SPACE_MIB = 16;

/**
 * The function's NODE_OPTIONS: source maps for readable stack traces, the old-space limit for its
 * memory (oldSpaceMiB) and the semi-space limit (SEMI_SPACE_MIB). The benchmark's durable child
 * runs with the same string.
 */
export const functionNodeOptions = (memorySizeMb: number): string =>
  `--enable-source-maps --max-old-space-size=${oldSpaceMiB(memorySizeMb)} --max-semi-space-size=${SEMI_SPACE_MIB}`;
