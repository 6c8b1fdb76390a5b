import { setTimeout as sleep } from 'node:timers/promises';
import { formatBytes } from '../../core/sizes.ts';
import type { Destination } from '../../ports/storage.ts';
import { readProgress } from '../../store/progress.ts';
import type { RunProgress } from '../../store/progress.ts';
import { reportOf } from '../../store/reports.ts';
import { EXIT } from './exit.ts';
import { summary } from './ui.ts';

/** Progress reads in a row that may fail before `run --follow` gives up. */
const MAX_FAILED_READS = 5;

/** One line of `run --follow` for a progress object. */
export const progressLine = (p: RunProgress, now = new Date()): string => {
  const parts = [
    `${p.updatedAt.slice(11, 19)}`,
    `pages ${p.pagesDone}`,
    `listed ${p.listed}`,
    `copied ${p.copied} (${formatBytes(p.bytesCopied)})`,
    `failed ${p.failed}`,
    `pending ${p.pending}`,
  ];
  if (p.deferred > 0) parts.push(`deferred by the budget ${p.deferred}`);
  if (p.waitingUntil && Date.parse(p.waitingUntil) > now.getTime()) {
    parts.push(`waiting for the Admin API rate-limit reset until ${p.waitingUntil.slice(11, 19)} UTC`);
  }
  return parts.join('  ');
};

/**
 * Polls an execution's progress object every `intervalMs` and prints a line whenever it
 * changes; when the run has finished, prints its report and returns the backup's exit code.
 * A run that fails before its first step writes nothing: after `firstWithinMs` without any
 * progress it gives up with a pointer to the alarms. Ctrl-C stops following (the run goes on).
 */
export const follow = async (destination: Destination, prefix: string, name: string, intervalMs: number, firstWithinMs: number): Promise<number> => {
  const startedAt = Date.now();
  const stopped = new AbortController();
  const onSigint = (): void => stopped.abort();
  process.on('SIGINT', onSigint);
  try {
    let last = '';
    let failedReads = 0;
    process.stderr.write(`Following ${name} (Ctrl-C stops following; the run goes on)...\n`);
    for (;;) {
      let p: RunProgress | undefined;
      try {
        p = await readProgress(destination, prefix, name);
        failedReads = 0;
      } catch (err) {
        // A read that fails (a dropped connection, a read racing the run's own rewrite of the
        // object) is tried again at the next poll; only a run of failures ends the following.
        if ((failedReads += 1) >= MAX_FAILED_READS) throw err;
      }
      if (p && p.updatedAt !== last) {
        last = p.updatedAt;
        process.stderr.write(`${progressLine(p)}\n`);
      }
      // Only a read that succeeded and found nothing says the run wrote no progress.
      if (!p && failedReads === 0 && Date.now() - startedAt > firstWithinMs) {
        process.stderr.write(
          `cloudinary-backup: ${name} wrote no progress in ${Math.round(firstWithinMs / 1000)} s: it may have failed before its first step (a missing secret?); see the stack's alarm e-mail or the function's logs, then run setup.\n`,
        );
        return EXIT.failed;
      }
      if (p?.finished) {
        if (p.error) {
          process.stderr.write(`cloudinary-backup: the run ${name} failed: ${p.error}\n`);
          return EXIT.failed;
        }
        const report = p.runId ? await reportOf(destination, prefix, p.runId) : undefined;
        if (report) process.stdout.write(`${summary(report)}\n`);
        return (report?.failed ?? p.failed) > 0 ? EXIT.failed : EXIT.ok;
      }
      await sleep(intervalMs, undefined, { signal: stopped.signal }).catch(() => undefined);
      if (stopped.signal.aborted) {
        process.stderr.write(`Stopped following; ${name} goes on. See it later with: cloudinary-backup status --from ...\n`);
        return EXIT.interrupted;
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
};
