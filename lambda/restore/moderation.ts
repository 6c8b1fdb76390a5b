import { messageOf } from '../core/errors.ts';
import type { RestoreItem } from '../core/restore-plan.ts';

/** The moderation decisions the Admin API can record on an asset. */
export type ModerationDecision = 'approved' | 'rejected';

/** The Admin API call that records a moderation decision (one call each). */
export interface ModerationAdmin {
  updateModeration(publicId: string, resourceType: string, type: string, status: ModerationDecision): Promise<unknown>;
}

/** How a recorded moderation status is brought back: the upload parameter, then the decision. */
export interface ModerationSteps {
  /** Upload with `moderation: manual`: the asset arrives `pending` in the manual queue. */
  readonly manual: boolean;
  /** Then one Admin API `update` with `moderation_status`. */
  readonly decide?: ModerationDecision;
}

/**
 * Sources: cloudinary_npm docs/moderate-upload.md — an upload with `moderation: 'manual'` starts
 * `pending` (no add-on needed); `api.update(public_id, { moderation_status })` records
 * `approved` or `rejected`, also over an add-on's verdict; statuses are `queued`, `pending`,
 * `approved`, `rejected`, `aborted`, and when one moderation of a chain rejects, the rest become
 * `aborted` and the asset is `rejected`. So every moderated asset comes back as a manual
 * moderation with its decision (the add-on that decided is not run again: it must be registered
 * in the target and costs its own units). `queued` and unknown statuses come back `pending`:
 * still awaiting review, never approved by a restore.
 */
export const moderationSteps = (status: string | undefined): ModerationSteps => {
  if (status === undefined || status === '') return { manual: false };
  if (status === 'approved') return { manual: true, decide: 'approved' };
  if (status === 'rejected' || status === 'aborted') return { manual: true, decide: 'rejected' };
  return { manual: true };
};

/** The status an item will have once restored, or undefined when it is not moderated. */
export const restoredModeration = (item: Pick<RestoreItem, 'moderationStatus'>): 'pending' | ModerationDecision | undefined => {
  const steps = moderationSteps(item.moderationStatus);
  return steps.manual ? (steps.decide ?? 'pending') : undefined;
};

/** How many planned uploads come back in each moderation status. */
export const moderationCounts = (items: readonly RestoreItem[]): { pending: number; approved: number; rejected: number } => {
  const counts = { pending: 0, approved: 0, rejected: 0 };
  for (const i of items) {
    const s = restoredModeration(i);
    if (s !== undefined) counts[s] += 1;
  }
  return counts;
};

/**
 * Records the item's moderation decision after its upload (the upload left it `pending`). A
 * failure is reported with what the asset is now and what to do: the upload itself succeeded,
 * and a rerun skips the asset (it exists), so only the user can finish it.
 */
export const restoreModeration = async (admin: Partial<ModerationAdmin>, item: RestoreItem): Promise<void> => {
  const decide = moderationSteps(item.moderationStatus).decide;
  if (decide === undefined) return;
  try {
    if (!admin.updateModeration) throw new Error('this account connection cannot update moderation');
    await admin.updateModeration(item.publicId, item.resourceType, item.type, decide);
  } catch (err) {
    throw new Error(
      `uploaded, but its moderation status "${decide}" could not be set (${messageOf(err)}): it is pending in the account; ` +
        `${decide === 'approved' ? 'approve' : 'reject'} it in the Media Library's moderation queue`,
      { cause: err },
    );
  }
};
