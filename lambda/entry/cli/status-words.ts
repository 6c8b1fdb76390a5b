import { formatBytes } from '../../core/sizes.ts';
import type { BackupStatus } from '../../store/status.ts';

// How `status` words its figures, shared by the text and the HTML page.

/** A run's duration for people: seconds under two minutes ("27 s"), then minutes ("14 min"). */
export const durationText = (seconds: number): string => (seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`);

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/**
 * One sentence on what waits for a later night. An asset over the byte budget that changed in
 * Cloudinary is also a catalog entry not yet at its newest version: when there are no more such
 * entries than deferred assets, they are said to be among them, not listed as a second problem.
 */
export const waitingText = (w: BackupStatus['waiting']): string => {
  if (w.assets === 0 && w.staleEntries === 0) return 'Nothing is waiting for a later night';
  const stale = (n: number): string => `${plural(n, 'asset', 'assets')} backed up at an older version until the newest is copied`;
  if (w.assets === 0) return `Waiting for a later night: ${stale(w.staleEntries)}`;
  const deferred = `${plural(w.assets, 'asset', 'assets')} (${formatBytes(w.bytes)}) over the byte budget`;
  if (w.staleEntries === 0) return `Waiting for a later night: ${deferred}`;
  if (w.staleEntries <= w.assets) {
    const which = w.assets === 1 ? 'it is' : `${w.staleEntries} of them ${w.staleEntries === 1 ? 'is' : 'are'}`;
    return `Waiting for a later night: ${deferred}; ${which} backed up at an older version until then`;
  }
  return `Waiting for a later night: ${deferred}, and ${stale(w.staleEntries)}`;
};
