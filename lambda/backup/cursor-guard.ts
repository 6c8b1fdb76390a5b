import { SourceError } from '../core/errors.ts';

/**
 * Stops a listing that would never end. A next_cursor already handed out for this listing would
 * list the same pages forever: stop as a failed listing does (the run is reported incomplete,
 * nothing is pruned, the catalog stays as it was). `seen` maps each next_cursor handed out in this
 * process to the cursor of its page; the check against `cursor` also holds across durable
 * checkpoints, where the map is new. A retried step lists the same page again and gets the same
 * cursor from the same page: not a loop.
 */
export const checkCursor = (listing: string, cursor: string | undefined, next: string | undefined, seen: Map<string, string>): void => {
  if (next === undefined) return;
  const from = seen.get(next);
  if (next === cursor || (from !== undefined && from !== (cursor ?? ''))) {
    throw new SourceError(
      `listing ${listing} resources: Cloudinary returned a next_cursor it had already given, so the listing would never end; ` +
        'it stopped here (nothing pruned, catalog unchanged). Run the backup again later.',
    );
  }
  seen.set(next, cursor ?? '');
};
