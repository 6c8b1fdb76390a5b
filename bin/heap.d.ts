// Types of heap.js (plain JavaScript, run by the bin without a compiler) for the tests.
/** V8's old-generation growing factor for the command line, in percent over the live heap. */
export declare const HEAP_GROWING_PERCENT: number;
/** The V8 flag the bin sets at start, or undefined when the user chose the factor. */
export declare const heapFlag: (execArgv: readonly string[], nodeOptions: string | undefined) => string | undefined;
/** Sets that flag in this process (no second process, no heap limit). */
export declare const tuneHeap: () => void;
