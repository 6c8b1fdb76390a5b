import type { Command } from 'commander';
import { Option } from 'commander';
import { RESOURCE_TYPES } from '../../core/asset.ts';
import { DEFAULT_MAX_PRUNE } from '../../core/prune-limit.ts';
import type { PruneLimit } from '../../core/prune-limit.ts';
import { formatBytes } from '../../core/sizes.ts';
import { SINGLE_PUT_MAX } from '../../core/part-size.ts';
import { CancelledError } from '../../core/errors.ts';
import { BackupEngine, RunFailedError } from '../../backup/engine.ts';
import type { DiffMode, EngineObserver, EngineOptions, RunReport } from '../../backup/engine.ts';
import { openCloudinary, parseTarget, resolveBudget } from '../compose.ts';
import { concurrency, days, hashMax, maxBytes, maxPrune, multipartThreshold, percent, reserve, resourceTypes, seconds, sseOf, sseOptions } from './args.ts';
import type { SseFlags } from './args.ts';
import { EXIT } from './exit.ts';
import { failWith } from './fail.ts';
import { CLI_LEASE_LIFETIME_MS, CLI_LEASE_RENEW_MS, thisProcess } from '../../store/lease.ts';
import { createUi, summary } from './ui.ts';
import type { Ui } from './ui.ts';

interface BackupFlags extends SseFlags {
  to: string;
  dryRun?: boolean;
  prune?: boolean;
  maxPrune: PruneLimit;
  keepHistory?: number;
  resourceTypes: string[];
  concurrency: number;
  diff: DiffMode;
  verbose?: boolean;
  json?: boolean;
  maxBytes?: number | 'auto';
  hashMax?: number;
  apiReserve: number | { fraction: number };
  idleTimeout: number;
  creditCeiling: number;
  multipartThreshold: number;
}

/** The engine observer of the command line: the progress bar, -v lines and the dry-run plan. */
const observerFor = (flags: BackupFlags, ui: Ui): EngineObserver => {
  let total = 0;
  let done = 0;
  let bytes = 0;
  const tick = (): void => ui.progress(done, total, bytes);
  const settled = (line: string): void => {
    done += 1;
    ui.verbose(line);
    tick();
  };
  return {
    planned: (items) => {
      total += items.length;
      for (const i of items) if (i.decision.action !== 'copy') done += 1;
      tick();
    },
    admitted: (i) => {
      if (flags.dryRun && !flags.json && i.decision.action === 'copy') {
        process.stdout.write(`copy ${i.key} (${formatBytes(i.asset.bytes)}, ${i.decision.reason})\n`);
      }
    },
    copied: (i) => settled(`copied ${i.key}`),
    failed: (i, error) => settled(`FAILED ${i.key}: ${error}`),
    hashed: (i) => ui.verbose(`hashed ${i.key} from the backup (no checksum was recorded)`),
    deferred: (i) => {
      done += 1;
      ui.verbose(`deferred (budget) ${i.key}`);
    },
    bytes: (n) => {
      bytes += n;
    },
    missing: (key) => ui.verbose(`not in Cloudinary any more: ${key}`),
    pruned: (key) => ui.verbose(`pruned ${key}`),
  };
};

/** Builds the engine: the target, Cloudinary, the byte budget (said on stderr when it came from usage). */
const buildEngine = async (flags: BackupFlags, ui: Ui): Promise<BackupEngine> => {
  const sse = sseOf(flags);
  const target = parseTarget(flags.to, '--to', undefined, { singlePutMax: flags.multipartThreshold, ...(sse ? { sse } : {}) });
  // --idle-timeout also bounds the wait for the response headers: a server that never
  // answers sends no byte either.
  const cloud = await openCloudinary(process.env.CLOUDINARY_URL, { reserve: flags.apiReserve, wait: (until, why) => ui.countdown(until, why) }, flags.idleTimeout);
  const budget = await resolveBudget(cloud.source, flags.maxBytes, flags.creditCeiling, { destination: target.destination, prefix: target.prefix });
  if (budget.quota && !flags.json) {
    const q = budget.quota;
    ui.note(
      q.creditLimit === undefined
        ? `Plan reports no credit limit (${q.creditsBefore.toFixed(2)} credits used): no byte budget.`
        : `Credits used ${q.creditsBefore.toFixed(2)} of ${q.creditLimit}; ceiling ${q.creditCeiling?.toFixed(2)}: this run may download ${formatBytes(budget.maxBytes ?? 0)}.`,
    );
  }
  const options: EngineOptions = {
    prefix: target.prefix,
    resourceTypes: flags.resourceTypes,
    concurrency: flags.concurrency,
    diff: flags.diff,
    dryRun: Boolean(flags.dryRun),
    prune: Boolean(flags.prune),
    maxPrune: flags.maxPrune,
    ...(flags.keepHistory === undefined ? {} : { historyDays: flags.keepHistory, historyDaysExplicit: true }),
    idleTimeoutMs: flags.idleTimeout,
    catalogPageEntries: 10_000,
    singlePutMax: flags.multipartThreshold,
    leaseLifetimeMs: CLI_LEASE_LIFETIME_MS,
    leaseRenewMs: CLI_LEASE_RENEW_MS,
    leaseOwner: thisProcess(),
    ...(budget.maxBytes === undefined ? {} : { maxBytes: budget.maxBytes }),
    ...(flags.hashMax === undefined ? {} : { hashMaxBytes: flags.hashMax }),
    ...(budget.quota ? { quota: budget.quota } : {}),
  };
  return new BackupEngine(cloud.source, target.destination, options, observerFor(flags, ui));
};

const print = (report: RunReport, json: boolean): void => {
  process.stdout.write(json ? `${JSON.stringify(report)}\n` : `${summary(report)}\n`);
};

/** Runs one backup for the command line; resolves with the exit code. */
const backup = async (flags: BackupFlags): Promise<number> => {
  const ui = createUi({ verbose: Boolean(flags.verbose), quiet: Boolean(flags.json), isTTY: Boolean(process.stderr.isTTY) });
  try {
    const engine = await buildEngine(flags, ui);
    // Ctrl-C (or SIGTERM) stops cleanly: copies in flight are aborted, nothing half-written
    // stays, the report is printed. A second Ctrl-C quits at once.
    let stopping = false;
    const stop = (): void => {
      if (stopping) process.exit(EXIT.interrupted);
      stopping = true;
      ui.note('Stopping: aborting the copies in flight (press Ctrl-C again to quit at once)');
      engine.cancel();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    let report: RunReport;
    try {
      report = await engine.run();
    } catch (err) {
      ui.stop();
      const partial = err instanceof RunFailedError ? err.report : undefined;
      const cause = err instanceof RunFailedError ? err.cause : err;
      if (cause instanceof CancelledError && partial) {
        print(partial, Boolean(flags.json));
        return EXIT.interrupted;
      }
      if (partial && flags.json) print(partial, true);
      return failWith(cause, Boolean(flags.verbose));
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    ui.stop();
    print(report, Boolean(flags.json));
    if (report.pruneRefused) process.stderr.write(`cloudinary-backup: --prune: ${report.pruneRefused}\n`);
    return report.failed > 0 || report.pruneRefused ? EXIT.failed : EXIT.ok;
  } catch (err) {
    ui.stop();
    return failWith(err, Boolean(flags.verbose));
  }
};

/** Registers `backup`. */
export const registerBackupCommand = (program: Command, setCode: (code: number) => void): void => {
  const [sse, sseKey] = sseOptions();
  program
    .command('backup')
    .description('copy every new or changed original into the destination; a second run copies only what changed')
    .requiredOption('--to <target>', 'destination: s3://BUCKET[/PREFIX] or a folder path')
    .option('--dry-run', 'print the plan (what would be copied) and write nothing')
    .option('--prune', 'delete backups of assets no longer in Cloudinary (only after a complete listing); each is kept in _history/ first')
    .option('--keep-history <days>', 'keep replaced and pruned originals (in _history/) and restore points this many days (default: 90, or the longer retention the backup records)', days)
    .addOption(
      new Option('--max-prune <limit>', 'most backups one --prune run deletes: a count (500) or a percentage of the backed-up assets (10%); above it nothing is pruned and the run exits 1')
        .argParser(maxPrune)
        .default(DEFAULT_MAX_PRUNE, '10%'),
    )
    .addOption(
      new Option('--resource-types <list>', `comma list of ${RESOURCE_TYPES.join(', ')}`).argParser(resourceTypes).default([...RESOURCE_TYPES], RESOURCE_TYPES.join(',')),
    )
    .option('--concurrency <n>', 'copies in flight at once (1-64)', concurrency, 8)
    .addOption(new Option('--diff <mode>', 'how to compare: list (one ListObjectsV2 per 1,000 keys) or head (one HeadObject per asset)').choices(['list', 'head']).default('list'))
    .option(
      '--max-bytes <size|auto>',
      'most bytes to download this run (500MB = 500x10^6, 2GiB = 2x2^30); "auto" keeps credits under --credit-ceiling (one GET /usage call); the rest waits for the next run',
      maxBytes,
    )
    .option(
      '--hash-max <size>',
      'most bytes to read back from the backup to hash objects stored without a recorded checksum (default: the --max-bytes budget, at least 5GiB; no limit without a budget)',
      hashMax,
    )
    .addOption(
      new Option('--credit-ceiling <pct>', 'with --max-bytes auto: the share of the plan\'s monthly credits a backup may take the account to')
        .argParser(percent)
        .default(0.9, '90%'),
    )
    .addOption(
      new Option('--api-reserve <n|pct>', 'Admin API calls per hour left for your own app: a count or a percentage of the limit')
        .argParser(reserve)
        .default({ fraction: 0.1 }, '10%'),
    )
    .addOption(
      new Option('--multipart-threshold <size>', 'S3: objects above this size go up in 5 MiB+ parts (multipart); smaller ones as one streamed PUT')
        .argParser(multipartThreshold)
        .env('CLOUDINARY_BACKUP_MULTIPART_THRESHOLD')
        .default(SINGLE_PUT_MAX, '64MiB'),
    )
    .addOption(sse)
    .addOption(sseKey)
    .addOption(new Option('--idle-timeout <seconds>', 'abandon a download that sends no byte for this long').argParser(seconds).default(60_000, '60'))
    .option('-v, --verbose', 'one line per asset copied or failed')
    .option('--json', 'print exactly one JSON report on stdout (no progress output)')
    .addHelpText(
      'after',
      '\nExample:\n  CLOUDINARY_URL=cloudinary://KEY:SECRET@CLOUD npx cloudinary-backup backup --to s3://my-bucket/cloudinary\n' +
        '\nKeys: <prefix>/<resource_type>/<type>/<public_id>.<format>\n' +
        'Exit codes: 0 success, 1 some assets failed (or --prune refused by a safety rule), 2 usage or configuration error,\n' +
        '75 another run holds the backup (nothing touched; try later), 130 stopped by Ctrl-C.',
    )
    .action(async (flags: BackupFlags) => setCode(await backup(flags)));
};
