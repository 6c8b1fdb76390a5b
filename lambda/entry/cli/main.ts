import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { RESOURCE_TYPES } from '../../core/asset.ts';
import { formatBytes, parseSize } from '../../core/sizes.ts';
import { MIN_PART_SIZE, SINGLE_PUT_MAX } from '../../adapters/s3/part-size.ts';
import { BackupEngine } from '../../backup/engine.ts';
import type { DiffMode, RunReport } from '../../backup/engine.ts';
import { createUi, summary } from './ui.ts';
import { concurrency } from './args.ts';
import { EXIT } from './exit.ts';
import { failWith } from './fail.ts';
import { CancelledError } from '../../core/errors.ts';
import { registerRestoreCommand } from './restore-command.ts';
import { registerVerifyCommand } from './verify-command.ts';
import { openCloudinary, parseTarget, resolveBudget } from '../compose.ts';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

export { EXIT };

const resourceTypes = (value: string): string[] => {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.filter((t) => !(RESOURCE_TYPES as readonly string[]).includes(t));
  if (list.length === 0 || bad.length > 0) {
    throw new InvalidArgumentError(`unknown resource type ${bad.join(', ') || '(none)'}; use a comma list of ${RESOURCE_TYPES.join(', ')}.`);
  }
  return [...new Set(list)];
};

const maxBytes = (value: string): number | 'auto' => {
  if (value === 'auto') return 'auto';
  const n = parseSize(value);
  if (n === undefined || n <= 0) throw new InvalidArgumentError('expected a size such as 500MB, 2GiB or 1000000, or "auto".');
  return n;
};

const reserve = (value: string): number | { fraction: number } => {
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(value.trim());
  if (pct) {
    const f = Number(pct[1]) / 100;
    if (f < 0 || f >= 1) throw new InvalidArgumentError('a percentage from 0% to 99%.');
    return { fraction: f };
  }
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a number of calls (e.g. 50) or a percentage of the hourly limit (e.g. 10%).');
  return n;
};

const multipartThreshold = (value: string): number => {
  const n = parseSize(value);
  if (n === undefined || n < MIN_PART_SIZE) throw new InvalidArgumentError('a size of at least 5MiB, e.g. 64MiB.');
  return n;
};

const percent = (value: string): number => {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(value.trim());
  const f = m ? Number(m[1]) / 100 : NaN;
  if (!(f > 0 && f <= 1)) throw new InvalidArgumentError('a percentage from 1% to 100%, e.g. 90%.');
  return f;
};

const seconds = (value: string): number => {
  const n = Number(value.replace(/s$/, ''));
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a number of seconds greater than 0.');
  return n * 1000;
};

interface BackupFlags {
  to: string;
  dryRun?: boolean;
  prune?: boolean;
  resourceTypes: string[];
  concurrency: number;
  diff: DiffMode;
  verbose?: boolean;
  json?: boolean;
  maxBytes?: number | 'auto';
  apiReserve: number | { fraction: number };
  idleTimeout: number;
  creditCeiling: number;
  multipartThreshold: number;
}

const backup = async (flags: BackupFlags): Promise<number> => {
  const quiet = Boolean(flags.json);
  const ui = createUi({ verbose: Boolean(flags.verbose), quiet, isTTY: Boolean(process.stderr.isTTY) });
  let total = 0;
  let done = 0;
  let bytes = 0;
  const tick = (): void => ui.progress(done, total, bytes);
  try {
    const target = parseTarget(flags.to, '--to', undefined, { singlePutMax: flags.multipartThreshold });
    const cloud = await openCloudinary(process.env.CLOUDINARY_URL, { reserve: flags.apiReserve, wait: (until, why) => ui.countdown(until, why) });
    const budget = await resolveBudget(cloud.source, flags.maxBytes, flags.creditCeiling, { destination: target.destination, prefix: target.prefix });
    if (budget.quota && !flags.json) {
      const q = budget.quota;
      ui.note(
        q.creditLimit === undefined
          ? `Plan reports no credit limit (${q.creditsBefore.toFixed(2)} credits used): no byte budget.`
          : `Credits used ${q.creditsBefore.toFixed(2)} of ${q.creditLimit}; ceiling ${q.creditCeiling?.toFixed(2)}: this run may download ${formatBytes(budget.maxBytes ?? 0)}.`,
      );
    }
    const engine = new BackupEngine(
      cloud.source,
      target.destination,
      {
        prefix: target.prefix,
        resourceTypes: flags.resourceTypes,
        concurrency: flags.concurrency,
        diff: flags.diff,
        dryRun: Boolean(flags.dryRun),
        prune: Boolean(flags.prune),
        idleTimeoutMs: flags.idleTimeout,
        catalogPageEntries: 10_000,
        singlePutMax: flags.multipartThreshold,
        ...(budget.maxBytes === undefined ? {} : { maxBytes: budget.maxBytes }),
        ...(budget.quota ? { quota: budget.quota } : {}),
      },
      {
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
        copied: (i) => {
          done += 1;
          ui.verbose(`copied ${i.key}`);
          tick();
        },
        failed: (i, error) => {
          done += 1;
          ui.verbose(`FAILED ${i.key}: ${error}`);
          tick();
        },
        deferred: (i) => {
          done += 1;
          ui.verbose(`deferred (budget) ${i.key}`);
        },
        bytes: (n) => {
          bytes += n;
        },
        missing: (key) => ui.verbose(`not in Cloudinary any more: ${key}`),
        pruned: (key) => ui.verbose(`pruned ${key}`),
      },
    );
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
      const partial = (err as { report?: RunReport }).report;
      if (err instanceof CancelledError && partial) {
        process.stdout.write(flags.json ? `${JSON.stringify(partial)}\n` : `${summary(partial)}\n`);
        return EXIT.interrupted;
      }
      if (partial && flags.json) process.stdout.write(`${JSON.stringify(partial)}\n`);
      return failWith(err, Boolean(flags.verbose));
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    ui.stop();
    process.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : `${summary(report)}\n`);
    return report.failed > 0 ? EXIT.failed : EXIT.ok;
  } catch (err) {
    ui.stop();
    return failWith(err, Boolean(flags.verbose));
  }
};

const buildProgram = (setCode: (code: number) => void): Command => {
  const program = new Command('cloudinary-backup')
    .description(
      'Back up a Cloudinary account (images, videos, raw files; upload, private and authenticated) to S3 or a local folder.\n' +
        'Credentials come from CLOUDINARY_URL=cloudinary://API_KEY:API_SECRET@CLOUD_NAME; S3 uses the standard AWS environment.',
    )
    .version(pkg.version)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('backup')
    .description('copy every new or changed original into the destination; a second run copies only what changed')
    .requiredOption('--to <target>', 'destination: s3://BUCKET[/PREFIX] or a folder path')
    .option('--dry-run', 'print the plan (what would be copied) and write nothing')
    .option('--prune', 'delete backups of assets no longer in Cloudinary (only after a complete listing)')
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
    .addOption(new Option('--idle-timeout <seconds>', 'abandon a download that sends no byte for this long').argParser(seconds).default(60_000, '60'))
    .option('-v, --verbose', 'one line per asset copied or failed')
    .option('--json', 'print exactly one JSON report on stdout (no progress output)')
    .addHelpText(
      'after',
      '\nKeys: <prefix>/<resource_type>/<type>/<public_id>.<format>\nExit codes: 0 success, 1 some assets failed, 2 usage or configuration error.',
    )
    .action(async (flags: BackupFlags) => setCode(await backup(flags)));
  registerRestoreCommand(program, setCode);
  registerVerifyCommand(program, setCode);
  return program;
};

/** Runs the command line; resolves with the exit code. */
export const main = async (argv: string[]): Promise<number> => {
  let code: number = EXIT.ok;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT.usage;
    }
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    }
    return failWith(err, argv.includes('-v') || argv.includes('--verbose'));
  }
  return code;
};
