import { InvalidArgumentError, Option } from 'commander';
import { RESOURCE_TYPES, parseResourceTypes } from '../../core/asset.ts';
import { MIN_PART_SIZE } from '../../core/part-size.ts';
import { parsePruneLimit } from '../../core/prune-limit.ts';
import type { PruneLimit } from '../../core/prune-limit.ts';
import { parseSize } from '../../core/sizes.ts';
import { parseSse } from '../../core/sse.ts';
import type { ServerSideEncryption } from '../../core/sse.ts';

/** A commander parser for a whole number within [min, max], naming the option when it is not. */
export const intIn =
  (name: string, min: number, max: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    return n;
  };

/** The parser of every command's --concurrency (1-64). */
export const concurrency = intIn('--concurrency', 1, 64);

/** --resource-types: a comma list, one parser shared with the function and CDK (core/asset.ts). */
export const resourceTypes = (value: string): string[] => {
  const parsed = parseResourceTypes(value.split(','));
  if (!('types' in parsed)) {
    throw new InvalidArgumentError(`unknown resource type ${parsed.unknown.join(', ') || '(none)'}; use a comma list of ${RESOURCE_TYPES.join(', ')}.`);
  }
  return parsed.types;
};

/** --max-bytes: a size or "auto". */
export const maxBytes = (value: string): number | 'auto' => {
  if (value === 'auto') return 'auto';
  const n = parseSize(value);
  if (n === undefined || n <= 0) throw new InvalidArgumentError('expected a size such as 500MB, 2GiB or 1000000, or "auto".');
  return n;
};

/** --hash-max: a size (0 allowed: hash nothing this run). */
export const hashMax = (value: string): number => {
  const n = parseSize(value);
  if (n === undefined || n < 0) throw new InvalidArgumentError('expected a size such as 500MB, 20GiB or 0.');
  return n;
};

/** --api-reserve: a count of calls or a percentage of the hourly limit. */
export const reserve = (value: string): number | { fraction: number } => {
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(value.trim());
  if (pct) {
    const f = Number(pct[1]) / 100;
    if (f < 0 || f >= 1) throw new InvalidArgumentError('a percentage from 0% to 99%.');
    return { fraction: f };
  }
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a number of calls (e.g. 50) or a percentage of the hourly limit (e.g. 10%).');
  return n;
};

/** --max-prune: a count or a percentage (core/prune-limit.ts). */
export const maxPrune = (value: string): PruneLimit => {
  const limit = parsePruneLimit(value);
  if (!limit) throw new InvalidArgumentError('a count (e.g. 500) or a percentage of the backed-up assets (e.g. 10%).');
  return limit;
};

/** --multipart-threshold: a size of at least 5 MiB. */
export const multipartThreshold = (value: string): number => {
  const n = parseSize(value);
  if (n === undefined || n < MIN_PART_SIZE) throw new InvalidArgumentError('a size of at least 5MiB, e.g. 64MiB.');
  return n;
};

/** A percentage from 1% to 100% (--credit-ceiling). */
export const percent = (value: string): number => {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(value.trim());
  const f = m ? Number(m[1]) / 100 : NaN;
  if (!(f > 0 && f <= 1)) throw new InvalidArgumentError('a percentage from 1% to 100%, e.g. 90%.');
  return f;
};

/** A number of seconds above 0, returned in ms (--idle-timeout). */
/** `--keep-history DAYS`: a whole number of days, 1 to 3650. */
export const days = (value: string): number => {
  const n = Number(value.trim());
  if (!Number.isInteger(n) || n < 1 || n > 3650) throw new InvalidArgumentError('a whole number of days from 1 to 3650, e.g. 90.');
  return n;
};

export const seconds = (value: string): number => {
  const n = Number(value.replace(/s$/, ''));
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a number of seconds greater than 0.');
  return n * 1000;
};


/** The two encryption options of the commands that write to S3 (backup, verify). */
export interface SseFlags {
  sse?: string;
  sseKmsKeyId?: string;
}

/**
 * `--sse` and `--sse-kms-key-id` (rclone's --s3-server-side-encryption and --s3-sse-kms-key-id),
 * for a bucket whose policy refuses writes without the encryption header (docs/aws.md).
 */
export const sseOptions = (): [Option, Option] => [
  new Option('--sse <AES256|aws:kms>', 'S3: ask for server-side encryption on every write (for a bucket whose policy requires the x-amz-server-side-encryption header)'),
  new Option('--sse-kms-key-id <key>', 'S3: with --sse aws:kms, the KMS key (id, alias or ARN); default: the AWS managed key for S3'),
];

/** The encryption the flags ask for (a ConfigError, exit 2, for a wrong combination). */
export const sseOf = (flags: SseFlags): ServerSideEncryption | undefined => parseSse(flags.sse, flags.sseKmsKeyId);
