import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { RESOURCE_TYPES } from '../../core/asset.ts';
import { ConfigError, messageOf } from '../../core/errors.ts';
import { localPathFor } from '../../core/local-name.ts';
import { formatBytes } from '../../core/sizes.ts';
import { matches, nameSuggests } from '../../store/catalog-query.ts';
import type { EntryFilter, FolderedEntry } from '../../store/catalog-query.ts';
import { copyOut } from './copy-out.ts';
import { EXIT } from './exit.ts';
import { failWith } from './fail.ts';
import { AS_OF_HELP, FROM_HELP, openBackup } from './from-target.ts';
import { storedKeyOf } from '../../store/history.ts';

interface GetFlags {
  from: string;
  to: string;
  prefix?: string;
  folder?: string;
  tag?: string;
  resourceType?: string;
  type?: string;
  verbose?: boolean;
  asOf?: string;
}

const isDir = async (p: string): Promise<boolean> => {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
};

/**
 * Where each selected entry goes. One asset and a --to that is not a folder: that file.
 * Otherwise a folder, one readable path per public_id; two assets with the same public_id
 * (an image and a raw file, say) get their kind added so neither is skipped silently.
 */
const destinations = async (picked: FolderedEntry[], to: string, single: boolean): Promise<Array<[FolderedEntry, string]>> => {
  if (single && picked.length === 1 && !to.endsWith('/') && !to.endsWith(path.sep) && !(await isDir(to))) {
    return [[picked[0] as FolderedEntry, path.resolve(to)]];
  }
  const seen = new Map<string, number>();
  for (const e of picked) seen.set(e.publicId, (seen.get(e.publicId) ?? 0) + 1);
  return picked.map((e) => {
    const parts = localPathFor(e.publicId, e.format);
    if ((seen.get(e.publicId) ?? 0) > 1) {
      const last = parts.pop() ?? '_';
      const dot = e.format && last.endsWith(`.${e.format}`) ? last.length - e.format.length - 1 : last.length;
      parts.push(`${last.slice(0, dot)} (${e.resourceType} ${e.type})${last.slice(dot)}`);
    }
    return [e, path.resolve(to, ...parts)];
  });
};

const get = async (publicId: string | undefined, flags: GetFlags): Promise<number> => {
  try {
    if (publicId === undefined && flags.prefix === undefined && flags.folder === undefined && flags.tag === undefined) {
      throw new ConfigError('get needs a PUBLIC_ID, or --prefix, --folder or --tag to copy several; run "cloudinary-backup ls --from ..." to find them.');
    }
    const { target, catalog, pointer } = await openBackup(flags.from, flags.asOf);
    const filter: EntryFilter = {
      ...(publicId === undefined ? {} : { publicId }),
      ...(flags.prefix === undefined ? {} : { prefix: flags.prefix }),
      ...(flags.folder === undefined ? {} : { folder: flags.folder }),
      ...(flags.tag === undefined ? {} : { tag: flags.tag }),
      ...(flags.resourceType === undefined ? {} : { resourceType: flags.resourceType }),
      ...(flags.type === undefined ? {} : { type: flags.type }),
    };
    const picked: FolderedEntry[] = [];
    // A file name given for a public_id ("Dog photo 1.png"): the entries it may mean, for the message.
    const likely: string[] = [];
    for await (const e of catalog.entriesOf(pointer)) {
      if (matches(e, filter)) picked.push(e);
      else if (publicId !== undefined && likely.length < 5 && !likely.includes(e.publicId) && nameSuggests(publicId, e)) likely.push(e.publicId);
    }
    if (picked.length === 0) {
      const hint = likely.length === 0 ? '' : `; PUBLIC_ID is the public_id, not a file name: did you mean ${likely.map((id) => `"${id}"`).join(' or ')}?`;
      throw new ConfigError(`nothing in ${target.label} matches${publicId === undefined ? '' : ` public_id "${publicId}"`}${hint || `; run "cloudinary-backup ls --from ${target.label}" to see what it holds.`}`);
    }
    const single = publicId !== undefined;
    if (single && picked.length > 1 && !(await isDir(flags.to))) {
      const kinds = picked.map((e) => `${e.resourceType}/${e.type}`).join(', ');
      throw new ConfigError(`"${publicId}" is in the backup ${picked.length} times (${kinds}): add --resource-type and --type, or give a folder as --to.`);
    }
    let failed = 0;
    let bytes = 0;
    for (const [entry, file] of await destinations(picked, flags.to, single)) {
      try {
        // Under --as-of, a version replaced or pruned since is read from history (docs/history.md).
        const key = flags.asOf === undefined ? entry.key : await storedKeyOf(target.destination, target.prefix, entry.key, entry.version);
        const r = await copyOut(target.destination, key === entry.key ? entry : { ...entry, key }, file);
        bytes += r.bytes;
        // A current entry without a sha256 is not an older version: the next backup hashes it (docs/checksums.md).
        const note = r.checked ? 'sha256 checked' : entry.state === 'stale' ? 'older version, no checksum recorded' : 'no checksum recorded yet: the next backup records it';
        process.stdout.write(`${file} (${formatBytes(r.bytes)}, ${note})\n`);
      } catch (err) {
        failed += 1;
        process.stderr.write(`cloudinary-backup: ${entry.publicId}: ${messageOf(err)}\n`);
      }
    }
    if (picked.length > 1) process.stderr.write(`${picked.length - failed} of ${picked.length} copied (${formatBytes(bytes)})\n`);
    return failed > 0 ? EXIT.failed : EXIT.ok;
  } catch (err) {
    return failWith(err, Boolean(flags.verbose));
  }
};

/** Adds `get` to the program; `setCode` receives its exit code. */
export const registerGetCommand = (program: Command, setCode: (code: number) => void): Command =>
  program
    .command('get')
    .description('copy one asset (or all under a prefix, folder or tag) out of a backup into local files, checked against the catalog')
    .argument('[PUBLIC_ID]', 'the asset, e.g. products/shoe-42')
    .requiredOption('--from <backup>', FROM_HELP)
    .requiredOption('--to <file-or-folder>', 'a file name for one asset, or a folder (created if needed)')
    .option('--prefix <path>', 'every asset whose public_id starts with this')
    .option('--folder <folder>', 'every asset in this Media Library folder (or below it)')
    .option('--tag <tag>', 'every asset with this tag')
    .option('--resource-type <type>', `only ${RESOURCE_TYPES.join(', ')}`)
    .option('--type <type>', 'only upload, private or authenticated')
    .option('--as-of <when>', AS_OF_HELP)
    .option('-v, --verbose', 'the stack of a fatal error')
    .addHelpText(
      'after',
      '\nExamples:\n  cloudinary-backup get --from s3://my-backups/cloudinary products/shoe-42 --to ./shoe.jpg\n' +
        '  cloudinary-backup get --from ./cloudinary-backup --folder summer --to ./restored/\n' +
        'Files are named after the public_id; each is checked against the sha256 recorded at backup time.\n' +
        'An existing file, or one differing only in case, is never overwritten: that asset fails, the rest go on.\n' +
        'Exit codes: 0 all copied, 1 some could not be copied, 2 usage or configuration error.',
    )
    .action(async (publicId: string | undefined, flags: GetFlags) => setCode(await get(publicId, flags)));
