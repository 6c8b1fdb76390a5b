/**
 * Parsers for single context values. Each returns the value or a {@link Problem} whose message
 * says what is wrong and shows a value that works; `parseConfig` collects them.
 */

import { RESOURCE_TYPES, parseResourceTypes as parseResourceTypeList } from '../lambda/core/asset.ts';
import type { ResourceType } from '../lambda/core/asset.ts';
import { parseSize } from '../lambda/core/sizes.ts';

export { RESOURCE_TYPES };
export type { ResourceType };

/**
 * Storage classes the created bucket may move backups into (S3 API names).
 * GLACIER and DEEP_ARCHIVE need an S3 restore request before an object can be read back.
 */
export const TRANSITION_STORAGE_CLASSES = [
  'GLACIER_IR',
  'STANDARD_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'DEEP_ARCHIVE',
] as const;

/** One storage class a lifecycle rule may transition backups into. */
export type TransitionStorageClass = (typeof TRANSITION_STORAGE_CLASSES)[number];

/**
 * The per-run download budget: `auto` (derived by the function from Cloudinary's usage report),
 * `none` (no limit), or a number of bytes.
 */
export type MaxBytesPerRun = 'auto' | 'none' | number;

/** A parse failure: the message says what is wrong and shows a value that works. */
export class Problem {
  constructor(readonly message: string) {}
}

function show(raw: unknown): string {
  return typeof raw === 'string' ? `'${raw}'` : JSON.stringify(raw);
}

/** A whole number from `min` to `max` (a number from cdk.json or digits from -c). */
export function intIn(min: number, max: number, key: string, example: number) {
  return (raw: unknown): number | Problem => {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(n)) return new Problem(`${show(raw)} is not a whole number; use e.g. -c ${key}=${example}`);
    if (n < min || n > max) {
      return new Problem(`${n} is out of range; use a whole number from ${min} to ${max}, e.g. -c ${key}=${example}`);
    }
    return n;
  };
}

/** One of `allowed`, in any letter case. */
export function oneOf<T extends string>(allowed: readonly T[], key: string) {
  return (raw: unknown): T | Problem => {
    const value = typeof raw === 'string' ? raw.trim().toUpperCase() : raw;
    const found = allowed.find((a) => a === value);
    return found ?? new Problem(`${show(raw)} is not one of ${allowed.join(', ')}; use e.g. -c ${key}=${allowed[0]}`);
  };
}

/** `true` or `false`, as a JSON boolean or a string. */
export function parseBoolean(key: string) {
  return (raw: unknown): boolean | Problem => {
    if (typeof raw === 'boolean') return raw;
    if (typeof raw === 'string' && /^(true|false)$/i.test(raw.trim())) return raw.trim().toLowerCase() === 'true';
    return new Problem(`${show(raw)} is not true or false; use -c ${key}=true or -c ${key}=false`);
  };
}

/** S3 bucket naming rules (general purpose buckets). */
export function parseBucketName(raw: unknown): string | Problem {
  if (typeof raw !== 'string') return new Problem(`${show(raw)} is not a bucket name; use e.g. -c bucketName=my-backup-bucket`);
  const name = raw.trim();
  if (name.startsWith('arn:') || name.startsWith('s3://')) {
    const bare = name.replace(/^arn:[^:]*:s3:::/, '').replace(/^s3:\/\//, '').split('/')[0];
    return new Problem(`'${name}' is an ARN or URL; give the bare bucket name, e.g. -c bucketName=${bare}`);
  }
  const problems: string[] = [];
  if (name.length < 3 || name.length > 63) problems.push('must be 3 to 63 characters long');
  if (!/^[a-z0-9.-]+$/.test(name)) problems.push('may contain only lowercase letters, digits, dots and hyphens');
  if (!/^[a-z0-9].*[a-z0-9]$/.test(name)) problems.push('must start and end with a letter or digit');
  if (name.includes('..')) problems.push("must not contain '..'");
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) problems.push('must not look like an IP address');
  if (problems.length > 0) {
    return new Problem(`'${name}' is not a valid S3 bucket name (${problems.join('; ')}); use e.g. -c bucketName=my-backup-bucket`);
  }
  return name;
}

/**
 * A KMS key ARN (`arn:<partition>:kms:<region>:<account>:key/<id>`). An alias ARN is refused:
 * IAM evaluates kms: permissions against the key ARN, so a grant on an alias allows nothing.
 */
export function parseKmsKeyArn(raw: unknown): string | Problem {
  const example = '-c kmsKeyArn=arn:aws:kms:us-east-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  if (typeof raw !== 'string') return new Problem(`${show(raw)} is not a KMS key ARN; use e.g. ${example}`);
  const arn = raw.trim();
  if (/^arn:[a-z-]+:kms:[a-z0-9-]+:\d{12}:alias\//.test(arn)) {
    return new Problem(`'${arn}' is an alias ARN; give the key ARN (aws kms describe-key --key-id <alias> shows it), e.g. ${example}`);
  }
  if (!/^arn:aws(-[a-z]+)*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(arn)) {
    return new Problem(`'${arn}' is not a KMS key ARN; use e.g. ${example}`);
  }
  return arn;
}

/**
 * The prefix becomes the first segments of every key and the scope of the function's S3
 * permissions, so it must be a clean relative path: no leading or trailing `/`, no empty,
 * `.` or `..` segment, only characters S3 documents as safe.
 */
export function parsePrefix(raw: unknown): string | Problem {
  if (typeof raw !== 'string') return new Problem(`${show(raw)} is not a key prefix; use e.g. -c prefix=cloudinary`);
  const prefix = raw.trim();
  const fixed = prefix.replace(/^\/+|\/+$/g, '').replace(/\/{2,}/g, '/') || 'cloudinary';
  if (prefix.startsWith('/')) return new Problem(`'${prefix}' starts with '/'; S3 keys are relative, use -c prefix=${fixed}`);
  if (prefix.endsWith('/')) return new Problem(`'${prefix}' ends with '/'; the '/' is added for you, use -c prefix=${fixed}`);
  if (prefix.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    return new Problem(`'${prefix}' has an empty, '.' or '..' path segment; use e.g. -c prefix=${fixed}`);
  }
  if (!/^[A-Za-z0-9!_.*'()/-]+$/.test(prefix)) {
    return new Problem(
      `'${prefix}' has characters outside S3's safe set (letters, digits and ! - _ . * ' ( ) /); use e.g. -c prefix=cloudinary`,
    );
  }
  if (prefix.length > 200) return new Problem(`'${prefix.slice(0, 20)}...' is longer than 200 characters; use a short prefix such as cloudinary`);
  return prefix;
}

const SCHEDULE_HELP =
  'use an EventBridge Scheduler expression such as -c schedule="cron(0 3 * * ? *)" (03:00 every night: ' +
  'minutes hours day-of-month month day-of-week year) or -c schedule="rate(1 day)"';

/** An EventBridge Scheduler `cron(...)` (6 fields) or `rate(...)` expression. */
export function parseSchedule(raw: unknown): string | Problem {
  if (typeof raw !== 'string') return new Problem(`${show(raw)} is not a schedule expression; ${SCHEDULE_HELP}`);
  const expression = raw.trim();
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (cron) {
    const fields = (cron[1] ?? '').trim().split(/\s+/);
    if (fields.length !== 6) {
      return new Problem(`'${expression}' has ${fields.length} cron fields, EventBridge needs 6; ${SCHEDULE_HELP}`);
    }
    if (fields.some((f) => !/^[0-9A-Za-z*?,/#-]+$/.test(f))) {
      return new Problem(`'${expression}' has characters a cron field cannot hold; ${SCHEDULE_HELP}`);
    }
    if ((fields[2] === '?') === (fields[4] === '?')) {
      return new Problem(
        `'${expression}': exactly one of day-of-month (3rd field) and day-of-week (5th field) must be '?'; ${SCHEDULE_HELP}`,
      );
    }
    return expression;
  }
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const n = Number(rate[1]);
    const unit = rate[2] ?? '';
    if (n < 1) return new Problem(`'${expression}' must repeat at least every 1 unit; ${SCHEDULE_HELP}`);
    if ((n === 1) !== !unit.endsWith('s')) {
      return new Problem(`'${expression}': write rate(1 day) but rate(2 days); ${SCHEDULE_HELP}`);
    }
    return expression;
  }
  return new Problem(`'${expression}' is not a schedule expression; ${SCHEDULE_HELP}`);
}

/** An IANA time zone name, spelled as EventBridge Scheduler expects it. */
export function parseTimezone(raw: unknown): string | Problem {
  const help = 'use an IANA time zone name such as -c timezone=UTC or -c timezone=Europe/Paris';
  if (typeof raw !== 'string') return new Problem(`${show(raw)} is not a time zone; ${help}`);
  const zone = raw.trim();
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return new Problem(`'${zone}' is not a known time zone; ${help}`);
  }
  // Intl accepts any letter case, EventBridge Scheduler does not.
  if (resolved !== zone && resolved.toLowerCase() === zone.toLowerCase()) {
    return new Problem(`'${zone}' must be spelled '${resolved}'; use -c timezone=${resolved}`);
  }
  return zone;
}

/** An e-mail address (a plausibility check; SNS sends the confirmation). */
export function parseEmail(raw: unknown): string | Problem {
  if (typeof raw === 'string' && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(raw.trim())) return raw.trim();
  return new Problem(`${show(raw)} is not an e-mail address; use e.g. -c notificationEmail=me@example.com`);
}

/** A comma-separated string or a JSON array of resource types, returned in canonical order. */
export function parseResourceTypes(raw: unknown): readonly ResourceType[] | Problem {
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
  const help = `use a comma-separated subset of ${RESOURCE_TYPES.join(',')}, e.g. -c resourceTypes=image,video`;
  if (!items) return new Problem(`${show(raw)} is not a list of resource types; ${help}`);
  const parsed = parseResourceTypeList(items.map((i) => (typeof i === 'string' ? i : String(i))));
  if ('types' in parsed) return parsed.types;
  if (parsed.unknown.length > 0) return new Problem(`unknown resource type ${parsed.unknown.map((u) => `'${u}'`).join(', ')}; ${help}`);
  return new Problem(`is empty, so nothing would be backed up; ${help}`);
}


/**
 * Parses `auto`, `none`, a byte count, or a size with a unit (`500MB`, `2GiB`, `1.5 GB`).
 * KB/MB/GB/TB are decimal (a Cloudinary credit is 1 GB = 10^9 bytes); KiB/MiB/GiB/TiB are binary.
 */
export function parseMaxBytes(raw: unknown): MaxBytesPerRun | Problem {
  const help = "use 'auto' (budget from Cloudinary's usage report), 'none' (no limit) or a size such as 500MB or 2GiB";
  if (typeof raw === 'number') {
    return Number.isSafeInteger(raw) && raw > 0 ? raw : new Problem(`${raw} is not a positive whole number of bytes; ${help}`);
  }
  if (typeof raw !== 'string') return new Problem(`${show(raw)} is not a size; ${help}`);
  const text = raw.trim().toLowerCase();
  if (text === 'auto' || text === 'none') return text;
  // The same parser as the CLI's --max-bytes, so a size means the same bytes everywhere.
  const bytes = parseSize(text);
  if (bytes === undefined) return new Problem(`'${raw}' is not a size; ${help}`);
  if (bytes < 1) return new Problem(`'${raw}' is not a positive size; ${help}`);
  return bytes;
}

/** The encryption every write of the function asks for: `AES256` (SSE-S3) or `aws:kms` (SSE-KMS). */
export function parseSseMode(raw: unknown): 'AES256' | 'aws:kms' | Problem {
  const value = typeof raw === 'string' ? raw.trim() : raw;
  if (typeof value === 'string' && value.toUpperCase() === 'AES256') return 'AES256';
  if (typeof value === 'string' && value.toLowerCase() === 'aws:kms') return 'aws:kms';
  return new Problem(`${show(raw)} is not AES256 or aws:kms; use -c sse=AES256 (a bucket policy that requires the encryption header), or -c kmsKeyArn=... for SSE-KMS`);
}

/** An AWS region code such as eu-west-1 or us-gov-west-1 (the imported bucket's region). */
export function parseRegion(raw: unknown): string | Problem {
  const value = typeof raw === 'string' ? raw.trim() : '';
  if (/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(value)) return value;
  return new Problem(`${show(raw)} is not an AWS region code; use e.g. -c bucketRegion=eu-west-1 (aws s3api head-bucket --bucket NAME shows the bucket's as BucketRegion)`);
}
