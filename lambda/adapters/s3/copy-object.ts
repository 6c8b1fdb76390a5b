import { CopyObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { DestinationError, messageOf } from '../../core/errors.ts';

const isNotFound = (err: unknown): boolean =>
  (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404 || ['NotFound', 'NoSuchKey'].includes((err as Error).name);

/**
 * A server-side copy inside one bucket (history's retire, docs/history.md): S3 copies the bytes
 * and, with `MetadataDirective: COPY` (its default), the user metadata, so a retired object still
 * says which asset and version it is. `CopySource` is `bucket/key`, URL-encoded ("The value must
 * be URL-encoded": https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html). One
 * CopyObject copies up to 5 GB (the same page); a larger original would need UploadPartCopy.
 */
export const copyObject = async (client: S3Client, bucket: string, fromKey: string, toKey: string, extra: Record<string, unknown> = {}): Promise<void> => {
  try {
    const source = `${bucket}/${encodeURIComponent(fromKey).replace(/%2F/g, '/')}`;
    await client.send(new CopyObjectCommand({ Bucket: bucket, Key: toKey, CopySource: source, MetadataDirective: 'COPY', ...extra }));
  } catch (err) {
    throw new DestinationError(`copying s3://${bucket}/${fromKey} to ${toKey} failed: ${messageOf(err)}`, { cause: err, notFound: isNotFound(err) });
  }
};
