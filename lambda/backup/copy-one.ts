import type { PlannedAsset } from '../core/plan.ts';
import type { Destination } from '../ports/storage.ts';
import { copyAsset } from './copy-asset.ts';
import type { Spend } from './copy-asset.ts';
import type { CopyRecorder } from './copy-recorder.ts';
import { hashStored } from './hash-stored.ts';
import type { CountingSource, EngineObserver, EngineOptions } from './options.ts';

/** What one item of a page needs besides itself. */
export interface ItemWork {
  readonly source: CountingSource;
  readonly destination: Destination;
  readonly options: EngineOptions;
  readonly observer: EngineObserver;
  readonly copies: CopyRecorder;
  readonly runId: string;
  /** The run's byte budget. */
  readonly budget: number | undefined;
}

/**
 * One item of a page: a copy from the source, or (`hash`) a stored object read back for its sha256
 * (see hashStored). Either way, once it ends well, the copy record gets its key, version, size and
 * sha256, so a run stopped after it still leaves it recorded. Rejects as the copy or read does.
 */
export const workOn = async (item: PlannedAsset, hash: boolean, io: ItemWork, spend: Spend, signal: AbortSignal, onBytes: (n: number) => void): Promise<string> => {
  const sha256 = hash
    ? await hashStored(io.destination, item, signal, onBytes)
    : await copyAsset(item, io, spend, signal, (n) => {
        onBytes(n);
        io.observer.bytes?.(n);
      });
  io.copies.add(io.runId, { key: item.key, version: item.asset.version, bytes: item.asset.bytes, sha256 });
  if (hash) io.observer.hashed?.(item, sha256);
  else io.observer.copied?.(item, sha256);
  return sha256;
};
