import type { Failure } from '../core/report.ts';
import type { ApiDownload } from '../core/download-route.ts';
import type { Destination } from '../ports/storage.ts';
import { ApiDownloadLog } from '../store/api-download-log.ts';
import { FailureLog } from '../store/failure-log.ts';
import type { RunState } from './run-state.ts';

/**
 * Writes what a step learned that outgrows a checkpoint: its failures to the failure log and the
 * originals it fetched through the download API (with their reason) to that log, one new file
 * each under `_reports/<runId>/`. Resolves with the state counting the files written; rejects
 * when the destination refuses a write (the step fails and is retried).
 */
export const writeStepLogs = async (
  destination: Destination,
  prefix: string,
  state: RunState,
  failures: readonly Failure[],
  viaApi: readonly ApiDownload[],
): Promise<RunState> => {
  let next = state;
  if (failures.length > 0) {
    await new FailureLog(destination, prefix, state.runId).write(state.failureLogs, failures);
    next = { ...next, failureLogs: next.failureLogs + 1 };
  }
  if (viaApi.length > 0) {
    const n = next.apiDownloadLogs ?? 0;
    await new ApiDownloadLog(destination, prefix, state.runId).write(n, viaApi);
    next = { ...next, apiDownloadLogs: n + 1 };
  }
  return next;
};
