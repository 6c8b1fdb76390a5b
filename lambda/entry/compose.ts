import type { S3Client } from '@aws-sdk/client-s3';
import { parseCloudinaryUrl } from '../adapters/cloudinary/config.ts';
import { GuardedSource } from '../adapters/cloudinary/guard.ts';
import type { GuardOptions } from '../adapters/cloudinary/guard.ts';
import { loadCloudinary } from '../adapters/cloudinary/sdk.ts';
import type { CloudinaryV2 } from '../adapters/cloudinary/sdk.ts';
import { CloudinarySource } from '../adapters/cloudinary/source.ts';
import { autoBudget, bytesSinceSnapshot } from '../core/budget.ts';
import type { PastRun } from '../core/budget.ts';
import { ConfigError } from '../core/errors.ts';
import type { ServerSideEncryption } from '../core/sse.ts';
import { catalogRoot, normalizePrefix, reportsRoot } from '../core/keys.ts';
import { LocalDestination } from '../adapters/local/folder.ts';
import { FoldSafeDestination } from '../adapters/local/fold-safe-destination.ts';
import { S3Destination } from '../adapters/s3/destination.ts';
import { createS3Client } from '../adapters/s3/client.ts';
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
  s3Client?: (bucket: string) => S3Client,
  s3Options: S3TargetOptions = {},
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
    return s3Target(s3Client === undefined ? createS3Client(process.env, bucket) : s3Client(bucket), bucket, m[2] ?? '', s3Options);
  }
  // "s3//bucket" (the colon lost) would otherwise be a local folder named s3, silently.
  if (/^s3\/\//i.test(raw)) {
    throw new ConfigError(`${option} "${raw}" looks like an S3 location without its colon: write s3://${raw.slice(4)} (for a local folder named s3, write ./${raw}).`);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    throw new ConfigError(`${option} "${raw}": only s3:// URLs and local folders are supported.`);
  }
  if (s3Options.sse !== undefined) {
    throw new ConfigError(`--sse and --sse-kms-key-id ask S3 to encrypt what it stores; ${option} "${raw}" is a folder. Leave them out, or back up to s3://BUCKET.`);
  }
  return { destination: new FoldSafeDestination(new LocalDestination(raw)), prefix: '', label: raw };
};

/** How the S3 destination of a target writes (the CLI's options, the function's settings). */
export interface S3TargetOptions {
  /** Largest object sent as one PUT. @default SINGLE_PUT_MAX */
  readonly singlePutMax?: number;
  /** Server-side encryption of every write. @default none */
  readonly sse?: ServerSideEncryption;
}

/** The S3 destination of a bucket and prefix (the CLI's s3:// targets and the Lambda's bucket). */
export const s3Target = (client: S3Client, bucket: string, rawPrefix: string, s3Options: S3TargetOptions = {}): Target => {
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

/** Where earlier runs left their reports (the destination and prefix of this backup). */
export interface RunHistory {
  readonly destination: Destination;
  readonly prefix: string;
}

/** A report key's start time: run ids begin with the ISO start time, `:` and `.` written as `-`. */
const startOfReportKey = (key: string): number => {
  const m = /(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z[^/]*\.json$/.exec(key);
  return m ? Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z`) : Number.NaN;
};

/**
 * The runs recorded under `<prefix>/_reports/` that started on or after `since` (ms): one
 * listing, and one read per such report (the key says when it started, older ones are not read).
 * A report that cannot be read or parsed is left out.
 */
export const recentRuns = async (history: RunHistory, since: number): Promise<PastRun[]> => {
  const root = `${reportsRoot(history.prefix)}/`;
  const runs: PastRun[] = [];
  for await (const o of history.destination.list(root)) {
    const started = startOfReportKey(o.key);
    if (Number.isFinite(started) && started < since) continue;
    try {
      const chunks: Buffer[] = [];
      for await (const c of await history.destination.get(o.key)) chunks.push(c as Buffer);
      const r = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { startedAt?: unknown; bytesDownloaded?: unknown };
      if (typeof r.startedAt === 'string' && typeof r.bytesDownloaded === 'number') runs.push({ startedAt: r.startedAt, bytesDownloaded: r.bytesDownloaded });
    } catch {
      // A damaged report costs only precision; the budget errs low elsewhere.
    }
  }
  return runs;
};

/**
 * Turns `--max-bytes` / `maxBytesPerRun` into bytes. 'auto' costs one Admin API call
 * (`GET /usage`, whose rate-limit headers feed the reserve) and keeps the plan at or below
 * `ceiling` of its credit limit (or, on plans without credits, of its bandwidth limit). With the
 * run history, what this tool downloaded since the daily snapshot (`last_updated`) is counted
 * too, so several runs a day into one destination stay under the ceiling together.
 */
export const resolveBudget = async (
  source: GuardedSource,
  maxBytes: number | 'auto' | undefined,
  ceiling: number,
  history?: RunHistory,
  now: Date = new Date(),
): Promise<ResolvedBudget> => {
  if (maxBytes !== 'auto') return maxBytes === undefined ? {} : { maxBytes };
  const usage = await source.usage();
  if (!usage) return {};
  let since = 0;
  if (history) {
    const day = usage.lastUpdated ? Date.parse(`${usage.lastUpdated.slice(0, 10)}T00:00:00Z`) : Number.NaN;
    const from = Number.isFinite(day) ? day : now.getTime() - 48 * 3600_000;
    since = bytesSinceSnapshot(await recentRuns(history, from), usage.lastUpdated, now);
  }
  const b = autoBudget(usage, ceiling, since);
  return {
    ...(b.budgetBytes === undefined ? {} : { maxBytes: b.budgetBytes }),
    quota: { creditsBefore: b.creditsBefore, creditLimit: b.creditLimit, creditCeiling: b.creditCeiling },
  };
};
