// Types of heap.js (plain JavaScript, run by the bin without a compiler) for the tests.
/** V8's old-generation growing factor for the command line, in percent over the live heap. */
export declare const HEAP_GROWING_PERCENT: number;
/** The V8 flag the bin sets at start, or undefined when the user chose the factor. */
export declare const heapFlag: (execArgv: readonly string[], nodeOptions: string | undefined) => string | undefined;
/** Sets that flag and caps the new space in this process (no second process, no heap limit). */
export declare const tuneHeap: () => void;
/** The most the command line lets V8's new space grow to, in MiB. */
export declare const NEW_SPACE_CAP_MIB: number;
/** Whether the bin caps the new space: false when the user sized the young generation or the heap. */
export declare const capsNewSpace: (execArgv: readonly string[], nodeOptions: string | undefined) => boolean;
/** Caps the new space at NEW_SPACE_CAP_MIB in this process, after each garbage collection. */
export declare const capNewSpace: () => import('node:perf_hooks').PerformanceObserver;
