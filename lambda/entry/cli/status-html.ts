import type { BackupStatus } from '../../store/status.ts';

/** Placeholder until the page is written; replaced below. */
export const statusHtml = (s: BackupStatus): string => `<!doctype html><pre>${JSON.stringify(s)}</pre>`;
