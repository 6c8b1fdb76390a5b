import type { Failure } from '../core/report.ts';
import type { Destination } from '../ports/storage.ts';
import { RunLog } from './run-log.ts';

/** Every failure of a run, in the destination: `<prefix>/_reports/<runId>/failures-NNNNNN.jsonl` (see RunLog). */
export class FailureLog extends RunLog<Failure> {
  constructor(destination: Destination, prefix: string, runId: string) {
    super(destination, prefix, runId, 'failures');
  }
}
