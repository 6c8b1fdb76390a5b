/**
 * Exit codes: 0 all good; 1 some assets (or the run) failed, or prune was refused by a safety
 * rule; 2 usage or configuration error; 75 another run holds the backup's lease (nothing was
 * touched; try again later — EX_TEMPFAIL of sysexits.h); 130 stopped by Ctrl-C.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, busy: 75, interrupted: 130 } as const;
