// Types of heap.js (plain JavaScript, run by the bin without a compiler) for the tests.
import type { PerformanceObserver } from 'node:perf_hooks';
/** V8's old-generation growing factor for a large heap, in percent over the live heap. */
export declare const HEAP_GROWING_PERCENT: number;
/** The live heap (MiB) from which the growing factor applies; below it V8's own. */
export declare const LARGE_HEAP_MIB: number;
/** The most the command line lets a semi-space of V8's new space grow to, in MiB. */
export declare const SEMI_SPACE_MIB: number;
/** Whether the bin sets the growing factor: false when the user chose one. */
export declare const setsGrowingFactor: (execArgv: readonly string[], nodeOptions: string | undefined) => boolean;
/** Whether the bin caps the new space: false when the user sized the young generation or the heap. */
export declare const capsNewSpace: (execArgv: readonly string[], nodeOptions: string | undefined) => boolean;
/** Adjusts the growing factor and the new space's growth after each garbage collection. */
export declare const watchHeap: (what: { readonly factor: boolean; readonly cap: boolean }) => PerformanceObserver;
/** Starts watchHeap for what the user did not set themselves (no second process, no heap limit). */
export declare const tuneHeap: () => PerformanceObserver | undefined;
