import { AssetCopyError } from '../core/errors.ts';
import { objectMetadata } from '../core/metadata.ts';
import type { PlannedAsset } from '../core/plan.ts';
import type { Destination, Source } from '../ports/storage.ts';
import { retire } from '../store/history.ts';
import { transferWithRetry } from '../transfer/retrying.ts';
import type { EngineOptions } from './options.ts';

/** What one step has spent so far (shared by its copies; the step's own, never the checkpoint's). */
export interface Spend {
  /** Bytes downloaded, partial and retried downloads included. */
  downloaded: number;
  /** Bytes charged to the budget for retries. */
  retryBytes: number;
  /** Bytes charged to the budget in all: the state's, this step's copies, their retries. */
  charged: number;
}

/**
 * Copies one original from the source to its key, through the one retrying transfer: a fresh
 * download per try, exact length, idle timeout, sha256; a retry downloads the asset again, so it
 * must fit in the byte budget like a first copy. Resolves with the sha256 of the bytes stored.
 */
export const copyAsset = async (
  item: PlannedAsset,
  io: { readonly source: Source; readonly destination: Destination; readonly options: EngineOptions; readonly budget: number | undefined },
  spend: Spend,
  signal: AbortSignal,
  onBytes: (n: number) => void,
): Promise<string> => {
  // The object the copy replaces goes into history first: nothing is overwritten in place.
  if (item.replaces !== undefined && io.options.history !== false) await retire(io.destination, io.options.prefix, item.key, item.replaces);
  return transfer(item, io, spend, signal, onBytes);
};

/** The retried transfer of one copy (see copyAsset). */
const transfer = (
  item: PlannedAsset,
  io: { readonly source: Source; readonly destination: Destination; readonly options: EngineOptions; readonly budget: number | undefined },
  spend: Spend,
  signal: AbortSignal,
  onBytes: (n: number) => void,
): Promise<string> =>
  transferWithRetry({
    open: async (s) => io.source.open(item.asset, s),
    // The listed size: the upload's request is prepared while the download opens (retrying.ts).
    length: item.asset.bytes,
    write: async (body, length, s) => {
      await io.destination.put({ key: item.key, body, length, metadata: objectMetadata(item.asset), signal: s, sha256: () => body.sha256, ready: body.opened });
    },
    ...(io.options.copyAttempts === undefined ? {} : { attempts: io.options.copyAttempts }),
    ...(io.options.retryDelayMs === undefined ? {} : { retryDelayMs: io.options.retryDelayMs }),
    ...(io.options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: io.options.idleTimeoutMs }),
    signal,
    onBytes: (n) => {
      spend.downloaded += n;
      onBytes(n);
    },
    mayRetry: () => {
      if (io.budget !== undefined && spend.charged + item.asset.bytes > io.budget) return false;
      spend.charged += item.asset.bytes;
      spend.retryBytes += item.asset.bytes;
      return true;
    },
    isFinal: (err) => err instanceof AssetCopyError && !err.retryable, // AssetNotReadyError (and Deferred) are not retryable
  }) as Promise<string>; // a backup write always reads its input: never 'unread'
