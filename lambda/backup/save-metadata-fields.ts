import type { Destination } from '../ports/storage.ts';
import { backupMetadataFields } from '../store/metadata-fields.ts';
import type { CountingSource } from './options.ts';

/**
 * The start step's copy of the account's structured-metadata field definitions, saved beside the
 * catalog (one Admin API call) so a restore into another account can create them first. Not worth
 * failing a backup for: on any error (a rate-limit wait the durable run cannot take here included)
 * the previous definitions stay and this resolves with undefined, as it does for a source that
 * cannot read them; otherwise with how many were saved.
 */
export const saveMetadataFieldsOfRun = async (source: CountingSource, destination: Destination, prefix: string, now: Date): Promise<number | undefined> => {
  const read = source.readMetadataFields;
  if (!read) return undefined;
  try {
    return await backupMetadataFields({ readMetadataFields: () => read.call(source) }, destination, prefix, now);
  } catch {
    return undefined;
  }
};
