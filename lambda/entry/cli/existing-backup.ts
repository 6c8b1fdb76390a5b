import { messageOf } from '../../core/errors.ts';
import { Catalog } from '../../store/catalog.ts';
import { parseTarget } from '../compose.ts';

/**
 * One line on what the deployed stack's bucket already holds under its prefix, for `setup`: after
 * a redeploy onto a retained bucket (`-c bucketName=...`) the catalog of the earlier deployment is
 * there, and the next night copies only what changed; in a new bucket the first night copies the
 * whole library. Reads the catalog pointer only (one HeadBucket, one GetObject). Never throws: a
 * bucket it cannot read is said in the line (setup has stored the secret by then).
 */
export const existingBackupLine = async (bucket: string, prefix: string): Promise<string> => {
  let label = `s3://${bucket}${prefix ? `/${prefix}` : ''}`;
  try {
    const target = parseTarget(label, 'stack output BucketName');
    label = target.label;
    await target.destination.checkReadable?.();
    const pointer = await new Catalog(target.destination, target.prefix).pointer();
    if (pointer === undefined) return `${label} holds no backup yet: the first run copies the whole library (within maxBytesPerRun each night).`;
    return (
      `${label} already holds a backup: ${pointer.entries} assets, last completed run ${pointer.runId} (${pointer.completedAt}); ` +
      'the next run copies only what changed since.'
    );
  } catch (err) {
    return `Could not read ${label} (${messageOf(err).split('\n')[0]}): "cloudinary-backup status --from ${label}" shows it once your credentials can read the bucket.`;
  }
};
