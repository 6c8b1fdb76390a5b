import { createInterface } from 'node:readline';
import { reportsRoot } from '../core/keys.ts';
import type { Failure } from '../core/report.ts';
import type { Destination } from '../ports/storage.ts';

/**
 * Every failure of a run, in the destination: `<prefix>/_reports/<runId>/failures-NNNNNN.jsonl`,
 * one file per step that had failures, one JSON line per failure. A durable checkpoint keeps only
 * the number of files, so it stays small however many assets fail; the run report names the
 * files and lists the failures they hold.
 */
export class FailureLog {
  constructor(
    private readonly destination: Destination,
    private readonly prefix: string,
    private readonly runId: string,
  ) {}

  /** The key of file `n`. */
  keyOf(n: number): string {
    return `${reportsRoot(this.prefix)}/${this.runId}/failures-${String(n).padStart(6, '0')}.jsonl`;
  }

  /** Writes file `n` with these failures. */
  async write(n: number, failures: readonly Failure[]): Promise<void> {
    const body = Buffer.from(failures.map((f) => JSON.stringify(f)).join('\n') + '\n', 'utf8');
    await this.destination.put({ key: this.keyOf(n), body, length: body.length, contentType: 'application/x-ndjson' });
  }

  /** Streams the failures of files [0, count). */
  async *read(count: number): AsyncIterable<Failure> {
    for (let n = 0; n < count; n += 1) {
      const body = await this.destination.get(this.keyOf(n));
      for await (const line of createInterface({ input: body, crlfDelay: Infinity })) {
        if (line.trim() !== '') yield JSON.parse(line) as Failure;
      }
    }
  }
}
