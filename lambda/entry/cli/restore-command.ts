import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { concurrency } from './args.ts';
import { EXIT } from './exit.ts';
import { parseCloudinaryUrl } from '../../adapters/cloudinary/config.ts';
import { CloudinaryUploader, DEFAULT_CHUNK_SIZE, MIN_CHUNK_SIZE } from '../../adapters/cloudinary/uploader.ts';
import { formatBytes, parseSize } from '../../core/sizes.ts';
import { S3MetadataReader, bucketOf } from '../../adapters/s3/metadata.ts';
import { createS3Client } from '../../adapters/s3/client.ts';
import { restoredModeration } from '../../restore/moderation.ts';
import { RestoreEngine } from '../../restore/restore.ts';
import type { RestoreObserver, RestoreReport } from '../../restore/restore.ts';
import { openCloudinary, parseTarget } from '../compose.ts';
import { failWith } from './fail.ts';
import { AS_OF_HELP, asOfLine } from './from-target.ts';
import { restorePointAsOf } from '../../store/as-of.ts';
import { Catalog } from '../../store/catalog.ts';
import { createUi } from './ui.ts';
import type { Ui } from './ui.ts';

interface RestoreFlags {
  from: string;
  only?: string;
  overwrite?: boolean;
  includeUncatalogued?: boolean;
  dryRun?: boolean;
  concurrency: number;
  chunkSize: number;
  verbose?: boolean;
  json?: boolean;
  asOf?: string;
}

const chunkSize = (value: string): number => {
  const n = parseSize(value);
  if (n === undefined || n < MIN_CHUNK_SIZE) throw new InvalidArgumentError('expected a size of at least 5MiB, such as 20MB or 100MB.');
  return n;
};

const id = (f: { resourceType: string; type: string; publicId: string }): string => `${f.resourceType}/${f.type}/${f.publicId}`;

/** The human summary printed at the end of a restore. */
export const restoreSummary = (r: RestoreReport): string => {
  const lines = [
    `${r.dryRun ? 'Dry run (nothing uploaded): restore' : 'Restore'} from ${r.from}${r.prefix ? ` (prefix ${r.prefix})` : ''} into ${r.to}${r.only ? `, public_ids starting with "${r.only}"` : ''}`,
    `  in the backup  ${r.listed}`,
    r.dryRun ? `  would upload   ${r.plannedUploads} (${formatBytes(r.plannedBytes)})` : `  restored       ${r.restored} (${formatBytes(r.bytesRestored)})`,
    `  skipped        ${r.skipped} (already in the account${r.overwrite ? '' : '; --overwrite replaces them'})`,
    `  failed         ${r.failed}`,
    `  Admin API calls ${r.cloudinaryApiCalls}`,
  ];
  if (r.notInCatalog > 0) lines.push(`  ${r.notInCatalog} not in the catalog: restored from object metadata, without tags, context or structured metadata`);
  if (r.uncataloguedLeftOut > 0) lines.push(`  ${r.uncataloguedLeftOut} object(s) not in the catalog left out (--include-uncatalogued uploads those cloudinary-backup wrote)`);
  if (r.systemFilesIgnored > 0) lines.push(`  ${r.systemFilesIgnored} dot-file(s) or system file(s) (.DS_Store, Thumbs.db, ...) ignored`);
  const m = r.moderation;
  if (m.pending + m.approved + m.rejected > 0) {
    lines.push(`  moderation     ${m.pending} pending, ${m.approved} approved, ${m.rejected} rejected (approved and rejected: one Admin API call each)`);
  }
  if (r.olderVersions > 0) lines.push(`  ${r.olderVersions} restored in an older version (the newest was never backed up)`);
  for (const f of r.failures.slice(0, 20)) lines.push(`  FAILED ${id(f)}: ${f.error}`);
  if (r.failures.length > 20) lines.push(`  ... and ${r.failed - 20} more failures (see --json)`);
  return lines.join('\n');
};

/** The restore observer of the command line: the progress bar, -v lines and the dry-run plan (one line per upload, as the plan is made). */
const observerFor = (flags: RestoreFlags, ui: Ui): RestoreObserver => {
  let total = 0;
  let done = 0;
  let bytes = 0;
  const tick = (): void => ui.progress(done, total, bytes);
  return {
    wouldUpload: (i) => {
      if (!flags.dryRun || flags.json) return;
      const folder = i.placement?.assetFolder ? `, into folder ${i.placement.assetFolder}` : '';
      const moderation = restoredModeration(i) ? `, moderation ${restoredModeration(i)}` : '';
      process.stdout.write(`upload ${id(i)} (${formatBytes(i.length)}${folder}${moderation}${i.source === 'object' ? ', not in the catalog' : ''})\n`);
    },
    planned: (uploads) => {
      total = uploads;
      tick();
    },
    restored: (i) => {
      done += 1;
      ui.verbose(`restored ${id(i)}`);
      tick();
    },
    failed: (i, error) => {
      done += 1;
      ui.verbose(`FAILED ${id(i)}: ${error}`);
      tick();
    },
    bytes: (n) => {
      bytes += n;
    },
  };
};

/** Builds the engine: the backup to read, the Cloudinary account to upload into, the S3 metadata reader. */
const buildEngine = async (flags: RestoreFlags, ui: Ui): Promise<RestoreEngine> => {
  const target = parseTarget(flags.from, '--from');
  if (flags.asOf !== undefined) {
    // Chosen (and a wrong WHEN refused) before Cloudinary is called; the engine reads it as a run id.
    const chosen = await restorePointAsOf(new Catalog(target.destination, target.prefix), flags.asOf, target.label);
    ui.note(asOfLine(chosen.point));
    flags = { ...flags, asOf: chosen.point.runId };
  }
  const cloud = await openCloudinary(process.env.CLOUDINARY_URL, { wait: (until, why) => ui.countdown(until, why) });
  const config = parseCloudinaryUrl(process.env.CLOUDINARY_URL);
  const uploader = new CloudinaryUploader(cloud.sdk, config, { chunkSize: flags.chunkSize });
  const bucket = bucketOf(flags.from);
  return new RestoreEngine(
    cloud.source,
    uploader,
    target.destination,
    {
      prefix: target.prefix,
      ...(flags.only !== undefined ? { only: flags.only } : {}),
      overwrite: Boolean(flags.overwrite),
      includeUncatalogued: Boolean(flags.includeUncatalogued),
      dryRun: Boolean(flags.dryRun),
      concurrency: flags.concurrency,
      ...(flags.asOf === undefined ? {} : { asOf: flags.asOf }),
    },
    observerFor(flags, ui),
    bucket === undefined ? undefined : new S3MetadataReader(createS3Client(process.env, bucket), bucket),
  );
};

/** Runs one restore for the command line; resolves with the exit code. */
const restore = async (flags: RestoreFlags): Promise<number> => {
  const verbose = Boolean(flags.verbose);
  const ui = createUi({ verbose, quiet: Boolean(flags.json), isTTY: Boolean(process.stderr.isTTY), label: 'restore', verb: 'uploaded' });
  try {
    const engine = await buildEngine(flags, ui);
    let report: RestoreReport;
    try {
      report = await engine.run();
    } catch (err) {
      ui.stop();
      const partial = (err as { report?: RestoreReport }).report;
      if (partial && flags.json) process.stdout.write(`${JSON.stringify(partial)}\n`);
      return failWith(err, verbose);
    }
    ui.stop();
    process.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : `${restoreSummary(report)}\n`);
    return report.failed > 0 ? EXIT.failed : EXIT.ok;
  } catch (err) {
    ui.stop();
    return failWith(err, verbose);
  }
};

/** Adds `restore` to the program; `setCode` receives its exit code. */
export const registerRestoreCommand = (program: Command, setCode: (code: number) => void): Command =>
  program
    .command('restore')
    .description('upload a backup into the Cloudinary account in CLOUDINARY_URL, keeping public_ids, types, tags, context and structured metadata')
    .requiredOption('--from <backup>', 'the backup: s3://BUCKET[/PREFIX] or a folder path (what backup --to was given)')
    .option('--only <prefix>', 'restore only public_ids that start with this (e.g. products/)')
    .option('--overwrite', 'replace assets that already exist in the account (default: skip them)')
    .option('--include-uncatalogued', 'also upload objects the catalog does not name, when cloudinary-backup wrote them (its cld-* metadata on S3, its key rule in a folder); without tags, context or structured metadata')
    .option('--dry-run', 'print what would be uploaded and upload nothing')
    .option('--as-of <when>', AS_OF_HELP)
    .option('--concurrency <n>', 'uploads in flight at once (1-64)', concurrency, 4)
    .addOption(
      new Option('--chunk-size <size>', 'files above this size are uploaded in chunks of this size (at least 5MiB)')
        .argParser(chunkSize)
        .default(DEFAULT_CHUNK_SIZE, '20MB'),
    )
    .option('-v, --verbose', 'one line per asset restored or failed')
    .option('--json', 'print exactly one JSON report on stdout (no progress output)')
    .addHelpText(
      'after',
      '\nAssets already in the account are found with Admin API listings (one call per 500 assets) and skipped, so a rerun\n' +
        'continues where the last one stopped. Exit codes: 0 success, 1 some assets failed, 2 usage or configuration error\n' +
        '(including credentials Cloudinary refused).',
    )
    .action(async (flags: RestoreFlags) => setCode(await restore(flags)));
