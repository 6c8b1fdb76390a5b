import cliProgress from 'cli-progress';
import { formatBytes } from '../../core/sizes.ts';
import type { RunReport } from '../../backup/engine.ts';

/** Where the command line writes what people read. Progress goes to stderr, results to stdout. */
export interface Ui {
  /** A line for people on stderr (suppressed by nothing: errors and waits). */
  note(line: string): void;
  /** A line only with --verbose. */
  verbose(line: string): void;
  /** Progress over `total` units; total may grow as pages arrive. */
  progress(done: number, total: number, bytes: number): void;
  /** Shows a countdown until `until`, resolving when it is reached. */
  countdown(until: Date, reason: string): Promise<void>;
  stop(): void;
}

/**
 * Builds the UI: a progress bar on a terminal, plain lines elsewhere. `label` names the
 * command on the bar and `verb` what happens to the bytes (default: backup, copied).
 */
export const createUi = (opts: { verbose: boolean; quiet: boolean; isTTY: boolean; label?: string; verb?: string }): Ui => {
  let bar: cliProgress.SingleBar | undefined;
  let barTotal = 0;
  const write = (line: string): void => {
    if (bar) bar.stop();
    process.stderr.write(`${line}\n`);
    if (bar) {
      bar = undefined;
    }
  };
  return {
    note: write,
    verbose: (line) => {
      if (opts.verbose) write(line);
    },
    progress: (done, total, bytes) => {
      if (opts.quiet || !opts.isTTY) return;
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            format: `${opts.label ?? 'backup'} [{bar}] {value}/{total} assets | {size} ${opts.verb ?? 'copied'} | {eta_formatted} left`,
            stream: process.stderr,
            hideCursor: true,
            etaBuffer: 50,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, done, { size: formatBytes(bytes) });
        barTotal = total;
      }
      if (total !== barTotal) {
        bar.setTotal(total);
        barTotal = total;
      }
      bar.update(done, { size: formatBytes(bytes) });
    },
    countdown: async (until, reason) => {
      const left = (): number => Math.max(0, until.getTime() - Date.now());
      const fmt = (ms: number): string => {
        const s = Math.ceil(ms / 1000);
        return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
      };
      write(`${reason}: waiting until ${until.toISOString()} (${fmt(left())}) before the next Admin API call`);
      while (left() > 0) {
        if (opts.isTTY && !opts.quiet) process.stderr.write(`\r  resuming in ${fmt(left())}   `);
        await new Promise((r) => setTimeout(r, Math.min(1000, left())));
      }
      if (opts.isTTY && !opts.quiet) process.stderr.write('\n');
    },
    stop: () => {
      bar?.stop();
      bar = undefined;
    },
  };
};

/** What the unchanged count holds of objects read back for their checksum (see docs/checksums.md). */
const unchangedNote = (r: RunReport): string => {
  const parts = [
    ...(r.hashed ? [`${r.hashed} without a recorded checksum hashed from the backup (${formatBytes(r.hashedBytes)})`] : []),
    ...(r.unhashed ? [`${r.unhashed} still without a checksum: the next run hashes them`] : []),
  ];
  return parts.length > 0 ? ` (${parts.join('; ')})` : '';
};

/** The human summary printed at the end of a backup. */
export const summary = (r: RunReport): string => {
  const lines = [
    `${r.dryRun ? 'Dry run (nothing written)' : 'Backup'} to ${r.destination}${r.prefix ? ` (prefix ${r.prefix})` : ''}`,
    `  listed      ${r.listed}`,
    r.dryRun
      ? `  would copy  ${r.plannedCopies} (${formatBytes(r.plannedBytes)} = ${(r.plannedBytes / 1e9).toFixed(3)} credits of bandwidth${
          // A folder takes no S3 request; the report's plannedS3Requests is what S3 would take.
          r.destination.startsWith('s3://') ? `, ${r.plannedS3Requests} S3 write requests` : ''
        })`
      : `  copied      ${r.copied} (${formatBytes(r.bytesCopied)})`,
    `  unchanged   ${r.unchanged}${unchangedNote(r)}`,
    `  skipped     ${r.skipped} (remote delivery types)`,
    `  failed      ${r.failed}`,
    `  missing from Cloudinary (kept) ${r.missingFromSource - r.pruned}${r.pruned ? `, pruned ${r.pruned}` : ''}`,
    `  Admin API calls ${r.cloudinaryApiCalls}${r.cloudinaryApiRemaining === null ? '' : ` (${r.cloudinaryApiRemaining} left this hour)`}`,
  ];
  if (r.creditsBefore !== null) {
    lines.push(
      `  credits     ${r.creditsBefore.toFixed(3)} before, ~${(r.creditsAfterEstimate ?? 0).toFixed(3)} after${r.creditLimit === null ? ' (no plan limit)' : ` (limit ${r.creditLimit}, ceiling ${(r.creditCeiling ?? 0).toFixed(2)})`}`,
    );
  }
  if (r.budgetExhausted) {
    lines.push(`  budget of ${formatBytes(r.budgetBytes ?? 0)} reached: ${r.remainingToCopy} assets (${formatBytes(r.remainingBytes)}) left for the next run`);
  }
  if (r.downloadApiTotal > 0) {
    // Reports written before the download-API list existed have no `downloadApi`.
    const byReason = new Map<string, number>();
    for (const d of r.downloadApi ?? []) byReason.set(d.reason, (byReason.get(d.reason) ?? 0) + 1);
    const reasons = [...byReason].map(([reason, n]) => `${n} ${reason}`).join(', ');
    lines.push(`  download API ${r.downloadApiTotal} original(s), one Admin API call each (${reasons}; each asset and reason in --json)`);
  }
  if (r.cancelled) lines.push('  stopped on request (Ctrl-C): copies in flight were aborted; run again to finish');
  if (r.stoppedAtDeadline) lines.push('  stopped ahead of its execution deadline (maxRunHours): what was copied is kept, the next run copies the rest');
  if (r.staleUploadsAborted > 0) lines.push(`  aborted ${r.staleUploadsAborted} multipart upload(s) left open by an earlier, killed run`);
  if (!r.listingComplete) lines.push('  the listing did not finish: nothing was pruned and the catalog was not updated');
  for (const f of r.failures.slice(0, 20)) lines.push(`  FAILED ${f.resourceType}/${f.type}/${f.publicId}: ${f.error}`);
  if (r.failures.length > 20) lines.push(`  ... and ${r.failed - 20} more failures (see --json or the report under _reports/)`);
  return lines.join('\n');
};
