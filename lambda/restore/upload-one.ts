import type { RestoreItem } from '../core/restore-plan.ts';
import type { Destination } from '../ports/storage.ts';
import { UploadError } from '../ports/upload.ts';
import type { Uploader } from '../ports/upload.ts';
import { ChecksumMismatchError } from '../transfer/exact-length.ts';
import { transferWithRetry } from '../transfer/retrying.ts';
import { moderationSteps } from './moderation.ts';

/** The retry settings of one restore, as `RestoreOptions` gives them (each with its default there). */
export interface UploadRetry {
  readonly overwrite: boolean;
  readonly attempts?: number;
  readonly retryDelayMs?: number;
  readonly idleTimeoutMs?: number;
}

/** What one upload ended as, before the checks that follow it. */
export interface Uploaded {
  /** The account already had the asset (no --overwrite): nothing was sent. */
  readonly existing: boolean;
  /** The public_id Cloudinary stored the upload under. */
  readonly stored: string;
}

/**
 * Uploads one asset through the one retrying transfer (a fresh read of the backup per try,
 * exact length, idle timeout), checked against the sha256 recorded at backup time before the
 * upload can complete: the last byte (the last chunk of a chunked upload) is released only once
 * the whole object has read back with that checksum, so a damaged object is never uploaded and
 * `--overwrite` never replaces a good asset with it.
 */
export const uploadItem = async (
  item: RestoreItem,
  destination: Destination,
  uploader: Uploader,
  retry: UploadRetry,
  onBytes: (n: number) => void,
): Promise<Uploaded> => {
  let existing = false;
  let stored = item.publicId;
  await transferWithRetry({
    open: async () => ({ body: await destination.get(item.key), length: item.length }),
    write: async (body, length) => {
      const result = await uploader.upload({
        publicId: item.publicId,
        resourceType: item.resourceType,
        type: item.type,
        format: item.format,
        tags: item.tags,
        context: item.context,
        metadata: item.metadata,
        ...(item.placement ? { placement: item.placement } : {}),
        ...(moderationSteps(item.moderationStatus).manual ? { manualModeration: true } : {}),
        body,
        length,
        overwrite: retry.overwrite,
      });
      existing = result.existing;
      stored = result.publicId;
      return result.existing ? 'unread' : undefined;
    },
    ...(retry.attempts === undefined ? {} : { attempts: retry.attempts }),
    ...(retry.retryDelayMs === undefined ? {} : { retryDelayMs: retry.retryDelayMs }),
    ...(retry.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: retry.idleTimeoutMs }),
    ...(item.sha256 === undefined ? {} : { expectedSha256: item.sha256 }),
    onBytes,
    isFinal: (err) => err instanceof ChecksumMismatchError || (err instanceof UploadError && !err.retryable),
  }).catch((err: unknown) => {
    if (err instanceof ChecksumMismatchError) {
      throw new Error(
        'the backup copy differs from the sha256 recorded at backup time: not uploaded (the backup object is damaged; ' +
          'run verify --deep, and the next backup copies it again)',
        { cause: err },
      );
    }
    throw err;
  });
  return { existing, stored };
};
