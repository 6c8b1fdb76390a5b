import { createInterface } from 'node:readline';
import { reportsRoot } from '../core/keys.ts';
import type { Destination } from '../ports/storage.ts';
import { writeJsonLines } from './read-json.ts';

/**
 * A list a run keeps beside its report that may outgrow a durable checkpoint:
 * `<prefix>/_reports/<runId>/<name>-NNNNNN.jsonl`, one file per step that had items, one JSON
 * line per item. A checkpoint keeps only the number of files, so it stays small however long
 * the list grows; the run report names the files and lists what they hold.
 */
export class RunLog<T> {
  constructor(
    private readonly destination: Destination,
    private readonly prefix: string,
    private readonly runId: string,
    private readonly name: string,
  ) {}

  /** The key of file `n`. */
  keyOf(n: number): string {
    return `${reportsRoot(this.prefix)}/${this.runId}/${this.name}-${String(n).padStart(6, '0')}.jsonl`;
  }

  /** Writes file `n` with these items; rejects when the destination refuses the write. */
  async write(n: number, items: readonly T[]): Promise<void> {
    await writeJsonLines(this.destination, this.keyOf(n), items);
  }

  /** Streams the items of files [0, count). */
  async *read(count: number): AsyncIterable<T> {
    for (let n = 0; n < count; n += 1) {
      const body = await this.destination.get(this.keyOf(n));
      for await (const line of createInterface({ input: body, crlfDelay: Infinity })) {
        if (line.trim() !== '') yield JSON.parse(line) as T;
      }
    }
  }
}
