import type { S3Client } from '@aws-sdk/client-s3';
import { parseCloudinaryUrl } from '../adapters/cloudinary/config.ts';
import { GuardedSource } from '../adapters/cloudinary/guard.ts';
import type { GuardOptions } from '../adapters/cloudinary/guard.ts';
import { loadCloudinary } from '../adapters/cloudinary/sdk.ts';
import type { CloudinaryV2 } from '../adapters/cloudinary/sdk.ts';
import { CloudinarySource } from '../adapters/cloudinary/source.ts';
import { autoBudget } from '../core/budget.ts';
import { ConfigError } from '../core/errors.ts';
import { catalogRoot, normalizePrefix } from '../core/keys.ts';
import { LocalDestination } from '../adapters/local/folder.ts';
import { FoldSafeDestination } from '../adapters/local/fold-safe-destination.ts';
import { S3Destination, createS3Client } from '../adapters/s3/destination.ts';
import type { Destination } from '../ports/storage.ts';

/** A destination and the key prefix inside it. */
export interface Target {
  readonly destination: Destination;
  readonly prefix: string;
  /** How the user named it (for messages). */
  readonly label: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Reads `s3://bucket[/prefix]` or a folder path. Throws a ConfigError for a malformed
 * S3 URL or bucket name.
 */
export const parseTarget = (
  spec: string,
  option: string,
  s3Client?: () => S3Client,
  s3Options: { readonly singlePutMax?: number } = {},
): Target => {
  const raw = spec.trim();
  if (raw === '') throw new ConfigError(`${option} is empty: give s3://bucket[/prefix] or a folder path.`);
  if (/^s3:/i.test(raw)) {
    const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/i.exec(raw);
    const bucket = m?.[1] ?? '';
    if (!m || !BUCKET.test(bucket) || bucket.includes('..')) {
      throw new ConfigError(
        `${option} "${raw}" is not a valid S3 location: expected s3://BUCKET[/PREFIX] with a bucket name of 3-63 lowercase letters, digits, dots or hyphens.`,
      );
    }
    return s3Target((s3Client ?? createS3Client)(), bucket, m[2] ?? '', s3Options);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    throw new ConfigError(`${option} "${raw}": only s3:// URLs and local folders are supported.`);
  }
  return { destination: new FoldSafeDestination(new LocalDestination(raw)), prefix: '', label: raw };
};

/** The S3 destination of a bucket and prefix (the CLI's s3:// targets and the Lambda's bucket). */
export const s3Target = (client: S3Client, bucket: string, rawPrefix: string, s3Options: { readonly singlePutMax?: number } = {}): Target => {
  const prefix = normalizePrefix(rawPrefix);
  const destination = new S3Destination(client, bucket, { probeKey: `${catalogRoot(prefix)}/write-check`, ...s3Options });
  return { destination, prefix, label: `s3://${bucket}${prefix ? `/${prefix}` : ''}` };
};

/** The Cloudinary side of a run: the SDK, the raw source and its guard. */
export interface CloudinarySide {
  readonly sdk: CloudinaryV2;
  readonly source: GuardedSource;
  readonly cloudName: string;
}

/** Builds the Cloudinary source from a CLOUDINARY_URL (ConfigError when it is malformed). */
export const openCloudinary = async (
  url: string | undefined,
  guard: GuardOptions = {},
  responseTimeoutMs?: number,
): Promise<CloudinarySide> => {
  const config = parseCloudinaryUrl(url);
  const sdk = await loadCloudinary(config, (url as string).trim());
  const inner = new CloudinarySource(sdk, config, responseTimeoutMs === undefined ? {} : { responseTimeoutMs });
  return { sdk, source: new GuardedSource(inner, guard), cloudName: config.cloudName };
};

/** The byte budget of a run and, when it came from the plan's usage, the credit figures. */
export interface ResolvedBudget {
  readonly maxBytes?: number;
  readonly quota?: { creditsBefore: number; creditLimit: number | undefined; creditCeiling: number | undefined };
}

/**
 * Turns `--max-bytes` / `maxBytesPerRun` into bytes. 'auto' costs one Admin API call
 * (`GET /usage`) and keeps credits used at or below `ceiling` of the plan's limit.
 */
export const resolveBudget = async (
  source: GuardedSource,
  maxBytes: number | 'auto' | undefined,
  ceiling: number,
): Promise<ResolvedBudget> => {
  if (maxBytes !== 'auto') return maxBytes === undefined ? {} : { maxBytes };
  const usage = await source.usage();
  if (!usage) return {};
  const b = autoBudget(usage, ceiling);
  return {
    ...(b.budgetBytes === undefined ? {} : { maxBytes: b.budgetBytes }),
    quota: { creditsBefore: b.creditsBefore, creditLimit: b.creditLimit, creditCeiling: b.creditCeiling },
  };
};
