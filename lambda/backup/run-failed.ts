import { messageOf } from '../core/errors.ts';
import { MAX_LISTED_FAILURES } from '../core/report.ts';
import type { Failure } from '../core/report.ts';
import { reportOf } from './finish-run.ts';
import type { ReportBase } from './finish-run.ts';
import type { RunReport, RunState } from './run-state.ts';

/** A run that ended early: the cause, and the report of what it did. */
export class RunFailedError extends Error {
  override readonly name = 'RunFailedError';
  constructor(
    cause: unknown,
    readonly report: RunReport,
  ) {
    super(messageOf(cause), { cause });
  }
}

/**
 * The report of a run whose finish could not write it (S3 still down): built from the state and
 * the failures this process saw, since the failure log may be unreadable too. Nothing is written.
 */
export const unwrittenReport = (base: ReportBase, state: RunState, processFailures: readonly Failure[]): RunReport =>
  reportOf(base, state, { counters: state.counters, failures: processFailures.slice(0, MAX_LISTED_FAILURES), failureLogs: [], pruneRefused: null }, new Date());
