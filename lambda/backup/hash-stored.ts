import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DestinationError } from '../core/errors.ts';
import type { PlannedAsset } from '../core/plan.ts';
import type { Destination } from '../ports/storage.ts';

/**
 * Reads back the object at an unchanged asset's key and resolves with its sha256: how an object the
 * backup holds without a recorded checksum (a copy a hard kill left unrecorded, a backup made
 * before checksums or by another tool) gets one before it is catalogued as current. A read of the
 * destination (an S3 GET, a file read) costs no Cloudinary credit. Rejects when the read fails,
 * when `signal` aborts it, or when the object does not hold the listed number of bytes (the
 * diff rule found them equal: the object changed since).
 */
export const hashStored = async (destination: Destination, item: PlannedAsset, signal: AbortSignal, onBytes: (n: number) => void): Promise<string> => {
  signal.throwIfAborted();
  const body: Readable = await destination.get(item.key);
  const stop = (): void => void body.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  signal.addEventListener('abort', stop, { once: true });
  try {
    const h = createHash('sha256');
    let size = 0;
    for await (const chunk of body) {
      const b = chunk as Buffer;
      h.update(b);
      size += b.length;
      onBytes(b.length);
    }
    signal.throwIfAborted();
    if (size !== item.asset.bytes) throw new DestinationError(`${item.key} holds ${size} bytes, not the ${item.asset.bytes} listed: it changed while it was read`);
    return h.digest('hex');
  } finally {
    signal.removeEventListener('abort', stop);
  }
};
