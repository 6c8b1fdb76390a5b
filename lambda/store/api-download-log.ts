import { createInterface } from 'node:readline';
import type { ApiDownload } from '../core/download-route.ts';
import { reportsRoot } from '../core/keys.ts';
import type { Destination } from '../ports/storage.ts';

/**
 * The originals a run fetched through Cloudinary's download API (one Admin API call each), with
 * the reason, in the destination: `<prefix>/_reports/<runId>/download-api-NNNNNN.jsonl`, one file
 * per recorded step that used it, one JSON line per asset. Like the failure log, a durable
 * checkpoint keeps only the number of files; the run report names them and lists what they hold.
 */
export class ApiDownloadLog {
  constructor(
    private readonly destination: Destination,
    private readonly prefix: string,
    private readonly runId: string,
  ) {}

  /** The key of file `n`. */
  keyOf(n: number): string {
    return `${reportsRoot(this.prefix)}/${this.runId}/download-api-${String(n).padStart(6, '0')}.jsonl`;
  }

  /** Writes file `n` with these downloads. */
  async write(n: number, downloads: readonly ApiDownload[]): Promise<void> {
    const body = Buffer.from(downloads.map((d) => JSON.stringify(d)).join('\n') + '\n', 'utf8');
    await this.destination.put({ key: this.keyOf(n), body, length: body.length, contentType: 'application/x-ndjson' });
  }

  /** Streams the downloads of files [0, count). */
  async *read(count: number): AsyncIterable<ApiDownload> {
    for (let n = 0; n < count; n += 1) {
      const body = await this.destination.get(this.keyOf(n));
      for await (const line of createInterface({ input: body, crlfDelay: Infinity })) {
        if (line.trim() !== '') yield JSON.parse(line) as ApiDownload;
      }
    }
  }
}
