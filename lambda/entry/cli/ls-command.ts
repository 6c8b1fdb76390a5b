import type { Command } from 'commander';
import { RESOURCE_TYPES } from '../../core/asset.ts';
import { typeRoot } from '../../core/keys.ts';
import { formatBytes } from '../../core/sizes.ts';
import { displayNameOf, folderOf, matches } from '../../store/catalog-query.ts';
import type { EntryFilter, FolderedEntry } from '../../store/catalog-query.ts';
import { EXIT } from './exit.ts';
import { failWith } from './fail.ts';
import { AS_OF_HELP, FROM_HELP, openBackup } from './from-target.ts';

interface LsFlags {
  from: string;
  tag?: string;
  folder?: string;
  resourceType?: string;
  json?: boolean;
  verbose?: boolean;
  asOf?: string;
}

/** One line of `ls` (and one element of its `--json` array). */
export interface LsRow {
  readonly publicId: string;
  readonly resourceType: string;
  readonly type: string;
  readonly folder: string;
  readonly displayName: string;
  readonly format: string;
  readonly bytes: number;
  readonly version: number;
  readonly tags: readonly string[];
  /** When the stored object was written (the destination's time), or null when it is missing. */
  readonly backedUpAt: string | null;
  readonly state: string;
  readonly key: string;
}

const pad = (rows: string[][]): string => {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
};

/** The table `ls` prints for people. */
export const lsTable = (rows: readonly LsRow[]): string =>
  pad([
    ['PUBLIC_ID', 'KIND', 'FOLDER', 'DISPLAY NAME', 'SIZE', 'VERSION', 'BACKED UP', 'TAGS'],
    ...rows.map((r) => [
      r.publicId,
      `${r.resourceType}/${r.type}${r.state === 'current' ? '' : ` (${r.state})`}`,
      r.folder || '-',
      r.displayName,
      formatBytes(r.bytes),
      String(r.version),
      r.backedUpAt ? r.backedUpAt.slice(0, 16).replace('T', ' ') : 'not stored',
      r.tags.join(',') || '-',
    ]),
  ]);

const ls = async (prefixArg: string | undefined, flags: LsFlags): Promise<number> => {
  try {
    const { target, catalog, pointer } = await openBackup(flags.from, flags.asOf);
    const filter: EntryFilter = {
      ...(prefixArg === undefined ? {} : { prefix: prefixArg }),
      ...(flags.tag === undefined ? {} : { tag: flags.tag }),
      ...(flags.folder === undefined ? {} : { folder: flags.folder }),
      ...(flags.resourceType === undefined ? {} : { resourceType: flags.resourceType }),
    };
    const picked: FolderedEntry[] = [];
    for await (const e of catalog.entriesOf(pointer)) if (matches(e, filter)) picked.push(e);
    // One listing per resource type (1 request per 1,000 keys) gives every object's time.
    const written = new Map<string, Date>();
    for (const rt of new Set(picked.map((e) => e.resourceType))) {
      for await (const o of target.destination.list(`${typeRoot(target.prefix, rt, '')}`)) written.set(o.key, o.lastModified);
    }
    const rows: LsRow[] = picked
      .map((e) => ({
        publicId: e.publicId,
        resourceType: e.resourceType,
        type: e.type,
        folder: folderOf(e),
        displayName: displayNameOf(e),
        format: e.format,
        bytes: e.bytes,
        version: e.version,
        tags: e.tags,
        backedUpAt: written.get(e.key)?.toISOString() ?? null,
        state: e.state,
        key: e.key,
      }))
      .sort((a, b) => a.publicId.localeCompare(b.publicId) || a.resourceType.localeCompare(b.resourceType) || a.type.localeCompare(b.type));
    if (flags.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
    else if (rows.length === 0) process.stderr.write(`cloudinary-backup: nothing in ${target.label} matches; run without filters to see everything.\n`);
    else process.stdout.write(`${lsTable(rows)}\n${rows.length} assets, ${formatBytes(rows.reduce((s, r) => s + r.bytes, 0))}\n`);
    return EXIT.ok;
  } catch (err) {
    return failWith(err, Boolean(flags.verbose));
  }
};

/** Adds `ls` to the program; `setCode` receives its exit code. */
export const registerLsCommand = (program: Command, setCode: (code: number) => void): Command =>
  program
    .command('ls')
    .description('list what a backup holds, from its catalog: public_id, folder, display name, size, version, when it was backed up, tags')
    .argument('[PATH-PREFIX]', 'only public_ids starting with this, e.g. products/2024/')
    .requiredOption('--from <backup>', FROM_HELP)
    .option('--tag <tag>', 'only assets with this tag')
    .option('--folder <folder>', 'only assets in this Media Library folder (or below it)')
    .option('--resource-type <type>', `only ${RESOURCE_TYPES.join(', ')}`)
    .option('--as-of <when>', AS_OF_HELP)
    .option('--json', 'print one JSON array on stdout')
    .option('-v, --verbose', 'the stack of a fatal error')
    .addHelpText(
      'after',
      '\nExample:\n  cloudinary-backup ls --from s3://my-backups/cloudinary products/ --tag summer\n' +
        'Reads the catalog and lists the objects (1 request per 1,000 keys); Cloudinary is not called.\n' +
        'Exit codes: 0 listed (also when nothing matched), 1 the backup could not be read, 2 usage or configuration error.',
    )
    .action(async (prefix: string | undefined, flags: LsFlags) => setCode(await ls(prefix, flags)));
