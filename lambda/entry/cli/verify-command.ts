import type { Command } from 'commander';
import { concurrency, sseOf, sseOptions } from './args.ts';
import type { SseFlags } from './args.ts';
import { EXIT } from './exit.ts';
import { formatBytes } from '../../core/sizes.ts';
import type { Problem } from '../../core/verify-check.ts';
import { openCloudinary, parseTarget } from '../compose.ts';
import { verifyBackup } from '../../verify/verify.ts';
import type { VerifyReport } from '../../verify/verify.ts';
import { failWith } from './fail.ts';
import { createUi } from './ui.ts';

interface VerifyFlags extends SseFlags {
  against: string;
  source?: boolean;
  deep?: boolean;
  concurrency: number;
  verbose?: boolean;
  json?: boolean;
}

const LABEL: Readonly<Record<Problem['kind'], string>> = {
  missing: 'MISSING',
  corrupt: 'CORRUPT',
  extra: 'EXTRA',
  notBackedUp: 'NOT BACKED UP',
  outdated: 'OUTDATED',
};

/** One problem as a line for people. */
export const problemLine = (p: Problem): string =>
  `${LABEL[p.kind]} ${p.key ?? `${p.resourceType}/${p.type}/${p.publicId}`}${p.key && p.publicId !== undefined ? ` (${p.publicId})` : ''}: ${p.detail}`;

/** The human summary printed at the end of a verification. */
export const verifySummary = (r: VerifyReport, all = false): string => {
  const lines = [
    `Verify ${r.against}${r.prefix ? ` (prefix ${r.prefix})` : ''} against the catalog of run ${r.catalogRunId} (${r.catalogCompletedAt})`,
    `  catalog entries ${r.entries} (${r.checked} checked${r.stale ? `, ${r.stale} stale: never copied` : ''}), objects ${r.objects}`,
  ];
  if (r.deep) lines.push(`  sha256 re-read  ${r.hashed} objects (${formatBytes(r.bytesRead)})${r.unhashed ? `, ${r.unhashed} without a recorded checksum` : ''}`);
  lines.push(`  missing ${r.missing}, corrupt ${r.corrupt}, extra ${r.extra}`);
  if (r.source) lines.push(`  against Cloudinary: not backed up ${r.notBackedUp}, outdated ${r.outdated} (Admin API calls ${r.cloudinaryApiCalls})`);
  const shown = all ? r.problems.length : 50;
  for (const p of r.problems.slice(0, shown)) lines.push(`  ${problemLine(p)}`);
  const total = r.missing + r.corrupt + r.extra + r.notBackedUp + r.outdated;
  if (total > shown) lines.push(`  ... and ${total - shown} more (see --json${all ? '' : ' or -v'})`);
  if (r.damageRecorded && r.corrupt > 0) lines.push(`  the ${r.corrupt} damaged objects are recorded in ${r.damageRecorded}: the next backup copies them again`);
  if (r.remedy) lines.push(`  ${r.remedy}`);
  if (r.damageRecordError) lines.push(`  the damaged objects could not be recorded (${r.damageRecordError}); the next backup will not know of them`);
  lines.push(`  restore points ${r.restorePoints} checked${r.restorePointProblems.length ? `, ${r.restorePointProblems.length} problems:` : ', every one whole'}`);
  for (const p of r.restorePointProblems) lines.push(`  ${p}`);
  lines.push(r.ok ? 'OK' : 'PROBLEMS FOUND');
  return lines.join('\n');
};

const verify = async (flags: VerifyFlags): Promise<number> => {
  const verbose = Boolean(flags.verbose);
  const ui = createUi({ verbose, quiet: Boolean(flags.json), isTTY: Boolean(process.stderr.isTTY), label: 'verify', verb: 'read' });
  try {
    const sse = sseOf(flags);
    const target = parseTarget(flags.against, '--against', undefined, sse ? { sse } : {});
    const cloud = flags.source ? await openCloudinary(process.env.CLOUDINARY_URL, { wait: (until, why) => ui.countdown(until, why) }) : undefined;
    const report = await verifyBackup(
      target.destination,
      { prefix: target.prefix, deep: Boolean(flags.deep), concurrency: flags.concurrency },
      cloud?.source,
      { progress: (done, total, bytes) => ui.progress(done, total, bytes) },
    );
    ui.stop();
    process.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : `${verifySummary(report, verbose)}\n`);
    return report.ok ? EXIT.ok : EXIT.failed;
  } catch (err) {
    ui.stop();
    return failWith(err, verbose);
  }
};

/** Adds `verify` to the program; `setCode` receives its exit code. */
export const registerVerifyCommand = (program: Command, setCode: (code: number) => void): Command => {
  const [sse, sseKey] = sseOptions();
  return program
    .command('verify')
    .description('check a backup against its catalog: every object present with its size; --deep re-reads checksums')
    .requiredOption('--against <backup>', 'the backup: s3://BUCKET[/PREFIX] or a folder path')
    .option('--deep', 're-read every object and compare its sha256 with the one recorded at backup time')
    .option('--source', 'also compare with the live Cloudinary listing in CLOUDINARY_URL (one Admin API call per 500 assets)')
    .option('--concurrency <n>', 'objects read at once by --deep (1-64)', concurrency, 8)
    .addOption(sse)
    .addOption(sseKey)
    .option('-v, --verbose', 'list every problem (not only the first 50), and the stack of a fatal error')
    .option('--json', 'print exactly one JSON report on stdout (no progress output)')
    .addHelpText(
      'after',
      '\nReports objects missing from the backup, extra objects no catalog entry names, and corrupt ones (size or sha256).\n' +
        'Exit codes: 0 the backup is complete and intact, 1 problems found, 2 usage or configuration error.',
    )
    .action(async (flags: VerifyFlags) => setCode(await verify(flags)));
};
