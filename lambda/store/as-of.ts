import { parseAsOf, pickPoint } from '../core/as-of.ts';
import type { PointRef } from '../core/as-of.ts';
import type { Catalog, CatalogPointer } from './catalog.ts';

/** A restore point chosen by `--as-of`: which one, and its manifest (a pointer to read it by). */
export interface ChosenPoint {
  readonly point: PointRef;
  readonly pointer: CatalogPointer;
}

/**
 * The restore point `when` names (see parseAsOf, pickPoint), from the restore points the
 * current pointer lists: only those are complete (docs/history.md, "What a crash leaves").
 * Throws a ConfigError for an unreadable WHEN, one before the oldest restore point, or a backup
 * without restore points.
 */
export const restorePointAsOf = async (catalog: Catalog, when: string, where: string): Promise<ChosenPoint> => {
  const asOf = parseAsOf(when);
  const current = await catalog.pointer();
  const point = pickPoint(current?.points ?? [], asOf, where);
  const pointer = point.runId === current?.runId ? current : await catalog.manifest(point.runId);
  return { point, pointer };
};
