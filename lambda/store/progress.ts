import type { RunState } from '../backup/engine.ts';
import { reportsRoot } from '../core/keys.ts';
import type { Destination } from '../ports/storage.ts';
import { readJson, writeJson } from './read-json.ts';

/**
 * How far a durable run has got, written by the handler after each step beside the reports
 * (`<prefix>/_reports/progress/<executionName>.json`) and polled by `run --follow`. A small
 * object in the bucket, rather than the durable execution's history, because the history
 * API needs extra IAM permissions and says nothing about copies; the bucket is already
 * readable by whoever reads the reports.
 */
export interface RunProgress {
  readonly format: 1;
  /** The durable execution name (what `run` printed). */
  readonly executionName: string;
  /** The engine's run id once the start step has run (names the final report). */
  readonly runId?: string;
  /** Listing pages processed (steps done). */
  readonly pagesDone: number;
  readonly listed: number;
  readonly copied: number;
  readonly bytesCopied: number;
  readonly failed: number;
  /** Assets Cloudinary is still processing (not ready to download): the next run takes them. */
  readonly pending: number;
  /** Copies left for a later run by the byte budget. */
  readonly deferred: number;
  /** ISO time the run waits until for a rate-limit reset, or null when it is not waiting. */
  readonly waitingUntil: string | null;
  /** ISO time of this write. */
  readonly updatedAt: string;
  /** True once the finish step has written the report, or the run has failed for good. */
  readonly finished: boolean;
  /** Why the run failed for good (a one-line message, never a secret); absent when it did not. */
  readonly error?: string;
}

/** Durable execution names: the Invoke API's pattern for DurableExecutionName. */
export const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** The key of one execution's progress object. */
export const progressKey = (prefix: string, executionName: string): string => {
  if (!EXECUTION_NAME.test(executionName)) throw new Error(`not a durable execution name: ${executionName}`);
  return `${reportsRoot(prefix)}/progress/${executionName}.json`;
};

/**
 * The execution name inside a durable execution ARN
 * (`arn:aws:lambda:REGION:ACCOUNT:function:NAME:QUALIFIER/durable-execution/EXECUTION_NAME/ID`,
 * per the Lambda API reference's DurableExecutionArn pattern), or undefined for anything else.
 */
export const executionNameFromArn = (arn: string): string | undefined => {
  const m = /\/durable-execution\/([A-Za-z0-9_-]{1,64})\/[A-Za-z0-9_-]+$/.exec(arn);
  return m?.[1];
};

/** Writes (replaces) an execution's progress. */
export const writeProgress = (destination: Destination, prefix: string, progress: RunProgress): Promise<void> =>
  writeJson(destination, progressKey(prefix, progress.executionName), progress);

/** An execution's progress, or undefined while its first step has not written any. */
export const readProgress = (destination: Destination, prefix: string, executionName: string): Promise<RunProgress | undefined> =>
  readJson<RunProgress>(destination, progressKey(prefix, executionName));

/**
 * The progress object for a run in this state, for the handler to write after each step:
 * `pagesDone` is the number of page steps finished, `waitingUntil` the end of a rate-limit wait
 * about to start, `finished` true after the finish step (or with `error` when the run failed).
 */
export const progressOf = (
  executionName: string,
  pagesDone: number,
  state: RunState,
  extra: { readonly waitingUntil?: Date; readonly finished?: boolean; readonly error?: string } = {},
  now = new Date(),
): RunProgress => ({
  format: 1,
  executionName,
  runId: state.runId,
  pagesDone,
  listed: state.counters.listed,
  copied: state.counters.copied,
  bytesCopied: state.counters.bytesCopied,
  failed: state.counters.failed,
  pending: state.counters.pending,
  deferred: state.remainingToCopy,
  waitingUntil: extra.waitingUntil?.toISOString() ?? null,
  updatedAt: now.toISOString(),
  finished: extra.finished ?? false,
  ...(extra.error === undefined ? {} : { error: extra.error }),
});
