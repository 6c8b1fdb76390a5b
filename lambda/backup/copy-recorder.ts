import { RESOURCE_TYPES } from '../core/asset.ts';
import type { Destination } from '../ports/storage.ts';
import { CopyRecord } from '../store/copy-record.ts';
import type { CopyRecordEntry, CopyRecordOptions } from '../store/copy-record.ts';

/**
 * A run's copy records as the engine keeps them: one CopyRecord per process, made with the first
 * finished copy (the run id comes with it), flushed on demand, and deleted once a committed catalog
 * holds what they say.
 */
export class CopyRecorder {
  private record: CopyRecord | undefined;

  constructor(
    private readonly destination: Destination,
    private readonly prefix: string,
    private readonly options: CopyRecordOptions = {},
  ) {}

  /** Records one finished copy or hash of run `runId` (written within seconds, see CopyRecord). */
  add(runId: string, entry: CopyRecordEntry): void {
    (this.record ??= new CopyRecord(this.destination, this.prefix, runId, this.options)).add(entry);
  }

  /** Writes what was added so far (callable at any time); rejects when the destination refuses. */
  async flush(): Promise<void> {
    await this.record?.flush();
  }

  /**
   * Once the catalog is committed: deletes this run's record files, and the earlier runs' ones it
   * read (`earlier`) when it listed every resource type. What a run did not list, its catalog
   * carried forward as it was, without what the records add: those stay for a later run.
   */
  async drop(earlier: readonly string[], resourceTypes: readonly string[]): Promise<void> {
    const all = RESOURCE_TYPES.every((t) => resourceTypes.includes(t));
    try {
      await this.flush();
      for (const key of [...(all ? earlier : []), ...(this.record?.files() ?? [])]) await this.destination.delete(key);
    } catch {
      // Best effort: a record left behind is read again and agrees with the catalog (the newer
      // version wins), so a refused write or delete (a role deployed before it was granted) fails no run.
    }
  }
}
