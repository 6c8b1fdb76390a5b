/** Exit codes: 0 all good, 1 some assets (or the run) failed, 2 usage or configuration error, 130 stopped by Ctrl-C. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;
