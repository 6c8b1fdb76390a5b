import { randomBytes } from 'node:crypto';
import { copyRecordRoot } from '../core/keys.ts';
import type { Destination } from '../ports/storage.ts';
import { writeJsonLines } from './read-json.ts';

/** One finished copy (or an object hashed from the destination): what the object at `key` holds. */
export interface CopyRecordEntry {
  readonly key: string;
  /** Cloudinary's version of the original the object holds. */
  readonly version: number;
  /** The object's size in bytes. */
  readonly bytes: number;
  /** sha256 (hex) of the stored bytes. */
  readonly sha256: string;
}

export { copyRecordRoot } from '../core/keys.ts';

/** How often a CopyRecord writes what it holds. */
export interface CopyRecordOptions {
  /** A batch is written at most this long after its first entry. @default 2000 */
  readonly flushMs?: number;
  /** A batch is written once it holds this many entries. @default 200 */
  readonly maxEntries?: number;
}

/**
 * The record of a run's finished copies, written within seconds of each copy: the catalog of a
 * run is committed only when its listing completes, so without this a run stopped part way (Ctrl-C,
 * a lost lease, a Lambda cut off) leaves objects whose sha256 and version nobody wrote down.
 *
 * Each batch is one small JSON-lines file, `<prefix>/_catalog/copies/<runId>/<process>-<n>.jsonl`
 * (S3 has no append). The process part is random: a durable run resumed in another invocation
 * writes beside the files of the one before, never over them. The next run reads every file
 * (readCopyRecords) and adopts a stored object with the sha256 its copy recorded.
 *
 * `add` never waits and never throws; a batch is written by a timer, by size, or by `flush`.
 * A write that fails keeps its entries for the next one; `flush` reports the failure.
 */
export class CopyRecord {
  private pending: CopyRecordEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private seq = 0;
  private readonly process = randomBytes(4).toString('hex');
  private readonly written: string[] = [];

  constructor(
    private readonly destination: Destination,
    private readonly prefix: string,
    private readonly runId: string,
    private readonly options: CopyRecordOptions = {},
  ) {}

  /** Adds one finished copy; it is written with the next batch. */
  add(entry: CopyRecordEntry): void {
    this.pending.push(entry);
    if (this.pending.length >= (this.options.maxEntries ?? 200)) void this.flush().catch(() => undefined);
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => void this.flush().catch(() => undefined), this.options.flushMs ?? 2000);
      // A pending batch does not keep a process alive: every way a run ends flushes it.
      this.timer.unref();
    }
  }

  /**
   * Writes every entry added so far (callable at any time: a step's end, before the end of an
   * invocation, at Ctrl-C). Resolves once they are in the destination; rejects when the write fails
   * (the entries stay for the next flush).
   */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // One write at a time, in order: the files are read back as one record.
    this.writing = this.writing.catch(() => undefined).then(() => this.writeBatch());
    return this.writing;
  }

  /** The files this process wrote. */
  files(): readonly string[] {
    return this.written;
  }

  private async writeBatch(): Promise<void> {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const key = `${copyRecordRoot(this.prefix)}/${this.runId}/${this.process}-${String(this.seq).padStart(6, '0')}.jsonl`;
    try {
      await writeJsonLines(this.destination, key, batch.map((e) => [e.key, e.version, e.bytes, e.sha256]));
      this.seq += 1;
      this.written.push(key);
    } catch (err) {
      this.pending = [...batch, ...this.pending];
      throw err;
    }
  }
}
