import type { ApiDownload } from '../core/download-route.ts';
import type { Destination } from '../ports/storage.ts';
import { RunLog } from './run-log.ts';

/**
 * The originals a run fetched through Cloudinary's download API (one Admin API call each), with
 * the reason: `<prefix>/_reports/<runId>/download-api-NNNNNN.jsonl` (see RunLog).
 */
export class ApiDownloadLog extends RunLog<ApiDownload> {
  constructor(destination: Destination, prefix: string, runId: string) {
    super(destination, prefix, runId, 'download-api');
  }
}
