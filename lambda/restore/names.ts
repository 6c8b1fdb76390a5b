import type { Failure } from '../core/report.ts';
import { publicIdRuleBroken } from '../core/public-id-rules.ts';
import type { RestoreItem } from '../core/restore-plan.ts';
import { UploadError } from '../ports/upload.ts';

/**
 * Why Cloudinary would refuse a planned upload under its own public_id (core/public-id-rules.ts),
 * or undefined. A refused one is reported, never uploaded under another name: a renamed asset
 * would break every URL and reference that used the old name, and the backup keeps the original
 * for the user to decide. A dry run reports them too.
 */
export const refusalOf = (item: RestoreItem): Failure | undefined => {
  const rule = publicIdRuleBroken(item.publicId);
  if (rule === undefined) return undefined;
  return {
    publicId: item.publicId,
    resourceType: item.resourceType,
    type: item.type,
    error:
      `not uploaded: Cloudinary refuses this public_id (${rule}; docs "Permitted naming conventions"), and restore renames nothing. ` +
      `The backup copy is intact at ${item.key}: copy it out with "cloudinary-backup get" and upload it under a permitted name.`,
  };
};

/**
 * Throws when Cloudinary stored an upload under another public_id than the one sent (a naming
 * rule this tool does not know, such as characters replaced with `_`): the asset is then in the
 * account under a name no reference uses, and the report must say so.
 */
export const checkStoredName = (item: Pick<RestoreItem, 'publicId'>, stored: string): void => {
  if (stored === item.publicId) return;
  throw new UploadError(
    `Cloudinary stored it as ${JSON.stringify(stored)}, not under its own public_id (its naming rules changed the name): ` +
      'delete or rename that asset in the account; the backup copy is intact.',
    undefined,
    false,
  );
};
