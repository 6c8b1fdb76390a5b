import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.ts';
import { formatBytes } from '../../core/sizes.ts';
import { collectStatus } from '../../store/status.ts';
import type { BackupStatus } from '../../store/status.ts';
import { intIn } from './args.ts';
import { EXIT } from './exit.ts';
import { failWith } from './fail.ts';
import { FROM_HELP } from './from-target.ts';
import { parseTarget } from '../compose.ts';
import { statusHtml } from './status-html.ts';
import { durationText, waitingText } from './status-words.ts';

interface StatusFlags {
  from: string;
  runs: number;
  json?: boolean;
  html?: string;
  verbose?: boolean;
}

const credits = (n: number | null): string => (n === null ? '-' : n.toFixed(2));

/** The text `status` prints for people. */
export const statusText = (s: BackupStatus): string => {
  const lines = [`Backup ${s.target}`];
  lines.push(s.catalog ? `  catalog of run ${s.catalog.runId} (${s.catalog.completedAt}): ${s.catalog.entries} entries` : '  no completed run yet (no catalog)');
  const [newest, oldest] = [s.restorePoints[0], s.restorePoints[s.restorePoints.length - 1]];
  if (newest && oldest) lines.push(`  ${s.restorePoints.length} restore point${s.restorePoints.length === 1 ? '' : 's'}: the newest ${newest.completedAt}, the oldest ${oldest.completedAt} (${oldest.runId})`);
  lines.push(
    s.lease.held
      ? `  a run holds the lease now: ${s.lease.runId ?? '?'} by ${s.lease.holder ?? '?'} since ${s.lease.takenAt ?? '?'} (until ${s.lease.expiresAt ?? '?'})`
      : '  no run holds the lease now',
  );
  lines.push('', 'Last runs (UTC)', '  started           duration  listed  copied  bytes       failed  deferred  credits before/after');
  for (const r of s.runs) {
    lines.push(
      `  ${r.startedAt.slice(0, 16).replace('T', ' ')}  ${durationText(r.durationSeconds).padStart(8)}  ${String(r.listed).padStart(6)}  ${String(r.copied).padStart(6)}  ${formatBytes(r.bytesCopied).padEnd(10)}  ${String(r.failed).padStart(6)}  ${String(r.deferred).padStart(8)}  ${credits(r.creditsBefore)}/${credits(r.creditsAfter)}${r.listingComplete ? '' : r.stoppedAtDeadline ? ' (incomplete: deadline)' : ' (incomplete)'}`,
    );
  }
  if (s.runs.length === 0) lines.push('  (no reports yet)');
  lines.push('', 'Backed up, by resource type');
  for (const t of s.totals) {
    lines.push(`  ${t.resourceType.padEnd(6)} ${String(t.assets).padStart(8)} assets  ${formatBytes(t.bytes).padEnd(10)}${t.deleted ? `  ${t.deleted} deleted from Cloudinary (kept)` : ''}`);
  }
  lines.push(`  total  ${String(s.totalAssets).padStart(8)} assets  ${formatBytes(s.totalBytes)}`);
  lines.push(
    '',
    waitingText(s.waiting),
  );
  if (s.lastRun && s.lastRun.failed > 0) {
    lines.push('', `Failures of the last run (${s.lastRun.failed})`);
    for (const f of s.lastRun.failures.slice(0, 20)) lines.push(`  ${f.resourceType}/${f.type}/${f.publicId}: ${f.error}`);
    if (s.lastRun.failed > 20) lines.push(`  ... and ${s.lastRun.failed - 20} more (see --json)`);
  }
  return lines.join('\n');
};

const status = async (flags: StatusFlags): Promise<number> => {
  try {
    const target = parseTarget(flags.from, '--from');
    await target.destination.checkReadable?.();
    const s = await collectStatus(target.destination, target.prefix, target.label, flags.runs);
    if (!s.catalog && s.runs.length === 0 && !s.lease.held) {
      throw new ConfigError(`no backup at ${target.label} (no catalog, no run report): check the bucket and prefix, or run "cloudinary-backup backup --to ${target.label}" first.`);
    }
    if (flags.html) {
      await writeFile(flags.html, statusHtml(s), 'utf8');
      if (!flags.json) process.stderr.write(`wrote ${flags.html}\n`);
    }
    if (flags.json) process.stdout.write(`${JSON.stringify(s)}\n`);
    else if (!flags.html) process.stdout.write(`${statusText(s)}\n`);
    return EXIT.ok;
  } catch (err) {
    return failWith(err, Boolean(flags.verbose));
  }
};

/** Adds `status` to the program; `setCode` receives its exit code. */
export const registerStatusCommand = (program: Command, setCode: (code: number) => void): Command =>
  program
    .command('status')
    .description('how a backup is doing: the last runs, totals by resource type, what waits for a later night, the lease, the last failures')
    .requiredOption('--from <backup>', FROM_HELP)
    .option('--runs <n>', 'how many of the newest run reports to show (1-365)', intIn('--runs', 1, 365), 14)
    .option('--json', 'print exactly one JSON object on stdout')
    .option('--html <file>', 'write one self-contained HTML page (chart of bytes and assets per night, the tables); opens offline')
    .option('-v, --verbose', 'the stack of a fatal error')
    .addHelpText(
      'after',
      '\nExample:\n  cloudinary-backup status --from s3://my-backups/cloudinary --html status.html\n' +
        'Reads the run reports (_reports/), the catalog (_catalog/) and the lease; Cloudinary is not called.\n' +
        'Exit codes: 0 shown, 1 the backup could not be read, 2 usage or configuration error.',
    )
    .action(async (flags: StatusFlags) => setCode(await status(flags)));
