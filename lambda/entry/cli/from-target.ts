import { ConfigError } from '../../core/errors.ts';
import { restorePointAsOf } from '../../store/as-of.ts';
import { Catalog } from '../../store/catalog.ts';
import type { CatalogPointer } from '../../store/catalog.ts';
import { parseTarget } from '../compose.ts';
import type { Target } from '../compose.ts';

/** The `--from` option's help text, shared by ls, get and status. */
export const FROM_HELP = 'the backup: s3://BUCKET[/PREFIX] or a folder path (as given to backup --to)';

/** The `--as-of` option's help text, shared by ls, get and restore. */
export const AS_OF_HELP = 'read the backup as it was then: a date (the end of that day, UTC), a date-time (UTC unless an offset is given) or a run id; the last restore point at or before it is used';

/** A backup opened for reading, with its current catalog (or the restore point `--as-of` chose). */
export interface OpenedBackup {
  readonly target: Target;
  readonly catalog: Catalog;
  readonly pointer: CatalogPointer;
}

/** The line that says which restore point `--as-of` chose (on stderr: stdout stays the command's output). */
export const asOfLine = (p: { runId: string; completedAt: string }): string => `as of restore point ${p.runId} (completed ${p.completedAt})`;

/**
 * Opens `--from` and its catalog. Throws a ConfigError when no completed run has written a
 * catalog there (a wrong prefix is the usual cause, so the message names the place looked at).
 */
export const openBackup = async (from: string, asOf?: string): Promise<OpenedBackup> => {
  const target = parseTarget(from, '--from');
  await target.destination.checkReadable?.();
  const catalog = new Catalog(target.destination, target.prefix);
  if (asOf !== undefined) {
    const chosen = await restorePointAsOf(catalog, asOf, target.label);
    process.stderr.write(`cloudinary-backup: ${asOfLine(chosen.point)}\n`);
    return { target, catalog, pointer: chosen.pointer };
  }
  const pointer = await catalog.pointer();
  if (!pointer) {
    throw new ConfigError(
      `no backup catalog at ${target.label} (looked for ${catalog.pointerKey}): check the bucket and prefix, or run "cloudinary-backup backup --to ${target.label}" first.`,
    );
  }
  return { target, catalog, pointer };
};
