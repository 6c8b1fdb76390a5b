import { ConfigError } from '../../core/errors.ts';
import { Catalog } from '../../store/catalog.ts';
import type { CatalogPointer } from '../../store/catalog.ts';
import { parseTarget } from '../compose.ts';
import type { Target } from '../compose.ts';

/** The `--from` option's help text, shared by ls, get and status. */
export const FROM_HELP = 'the backup: s3://BUCKET[/PREFIX] or a folder path (as given to backup --to)';

/** A backup opened for reading, with its current catalog. */
export interface OpenedBackup {
  readonly target: Target;
  readonly catalog: Catalog;
  readonly pointer: CatalogPointer;
}

/**
 * Opens `--from` and its catalog. Throws a ConfigError when no completed run has written a
 * catalog there (a wrong prefix is the usual cause, so the message names the place looked at).
 */
export const openBackup = async (from: string): Promise<OpenedBackup> => {
  const target = parseTarget(from, '--from');
  await target.destination.checkReadable?.();
  const catalog = new Catalog(target.destination, target.prefix);
  const pointer = await catalog.pointer();
  if (!pointer) {
    throw new ConfigError(
      `no backup catalog at ${target.label} (looked for ${catalog.pointerKey}): check the bucket and prefix, or run "cloudinary-backup backup --to ${target.label}" first.`,
    );
  }
  return { target, catalog, pointer };
};
