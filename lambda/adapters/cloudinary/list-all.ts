import type { Asset } from '../../core/asset.ts';
import { SourceError } from '../../core/errors.ts';
import type { Source } from '../../ports/storage.ts';

/**
 * Every asset of one resource type and delivery type, page after page (one Admin API call per 500). Stops with a
 * SourceError when Cloudinary hands back a cursor it already gave: that listing would never end.
 */
export async function* listAll(source: Pick<Source, 'listPage'>, resourceType: string, type: string): AsyncIterable<Asset> {
  const seen = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await source.listPage(resourceType, type, cursor);
    yield* page.assets;
    cursor = page.nextCursor;
    if (cursor !== undefined) {
      if (seen.has(cursor)) throw new SourceError(`listing ${resourceType}/${type} resources: Cloudinary returned the same next_cursor twice`);
      seen.add(cursor);
    }
  } while (cursor !== undefined);
}
