import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { DestinationError, messageOf } from '../../core/errors.ts';
import type { MetadataReader } from '../../ports/upload.ts';

/**
 * Reads the user metadata of objects in one bucket (HeadObject), for restoring objects the
 * catalog does not name. Kept beside, not inside, S3Destination: only restore needs it.
 */
export class S3MetadataReader implements MetadataReader {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async headMetadata(key: string): Promise<Readonly<Record<string, string>> | undefined> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(r.Metadata ?? {})) out[k.toLowerCase()] = v;
      return out;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (err as Error).name === 'NotFound') return undefined;
      throw new DestinationError(`HeadObject s3://${this.bucket}/${key} failed: ${messageOf(err)}`, { cause: err });
    }
  }
}

/** The bucket of an `s3://bucket[/prefix]` location, or undefined for a folder. */
export const bucketOf = (spec: string): string | undefined => /^s3:\/\/([^/]+)/i.exec(spec.trim())?.[1];
