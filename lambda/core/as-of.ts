import { ConfigError } from './errors.ts';

/** What `--as-of WHEN` names: a moment (ms since the epoch, UTC) or one run exactly. */
export type AsOf = { readonly at: number } | { readonly runId: string };

/** A restore point as the catalog's pointer lists it. */
export interface PointRef {
  readonly runId: string;
  readonly completedAt: string;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;
/** A run id (backup/run-state.ts newRunId): the start time with `:` and `.` as `-`, then 6 hex digits. */
const RUN_ID = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z-[0-9a-f]{6}$/;

const EXAMPLE = 'e.g. --as-of 2026-11-30 (the end of that day, UTC), --as-of 2026-11-30T18:00 (UTC), --as-of 2026-11-30T18:00+01:00, or a run id from "status"';

/**
 * Reads WHEN (ISO 8601, https://www.iso.org/iso-8601-date-and-time-format.html, in the forms
 * JavaScript's Date parses, https://tc39.es/ecma262/#sec-date-time-string-format): a date is the
 * end of that day in UTC; a date-time without an offset is UTC (where Date.parse would take the
 * machine's zone); a run id matches one run exactly. Throws a ConfigError with an example.
 */
export const parseAsOf = (when: string): AsOf => {
  const w = when.trim();
  if (RUN_ID.test(w)) return { runId: w };
  const d = DATE.exec(w);
  if (d) {
    const at = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]), 23, 59, 59, 999);
    const back = new Date(at);
    // Date.UTC rolls 2026-02-30 over into March: a day that does not exist is refused instead.
    if (back.getUTCFullYear() === Number(d[1]) && back.getUTCMonth() === Number(d[2]) - 1 && back.getUTCDate() === Number(d[3])) return { at };
  } else if (DATE_TIME.test(w)) {
    const iso = w.replace(' ', 'T');
    const at = Date.parse(/(Z|[+-]\d{2}:?\d{2})$/i.test(iso) ? iso : `${iso}Z`);
    if (!Number.isNaN(at)) return { at };
  }
  throw new ConfigError(`--as-of "${when}" is not a date, a date-time or a run id: ${EXAMPLE}`);
};

/**
 * The restore point WHEN names among `points` (newest first): the run itself, or the last one
 * completed at or before the moment. Throws a ConfigError naming the oldest restore point when
 * WHEN is before it, and one saying how to list them when the run id is not among them.
 */
export const pickPoint = (points: readonly PointRef[], asOf: AsOf, where: string): PointRef => {
  const oldest = points[points.length - 1];
  if (!oldest) throw new ConfigError(`${where} has no restore point yet (its catalog was written by an older version, or no backup completed): run a backup, then use --as-of`);
  if ('runId' in asOf) {
    const p = points.find((x) => x.runId === asOf.runId);
    if (!p) throw new ConfigError(`${where} has no restore point of run ${asOf.runId}: "cloudinary-backup status --from ..." lists them (the oldest is ${oldest.runId}, completed ${oldest.completedAt})`);
    return p;
  }
  const p = points.find((x) => Date.parse(x.completedAt) <= asOf.at);
  if (!p) {
    throw new ConfigError(`${where} holds nothing as early as ${new Date(asOf.at).toISOString()}: its oldest restore point is run ${oldest.runId}, completed ${oldest.completedAt}`);
  }
  return p;
};
