/**
 * The deployment's settings, read once from CDK context (`-c key=value` or `cdk.json`) and
 * validated before any construct is built, so a typo fails `cdk synth` with a message that
 * names the key and shows a value that works, instead of a half-built stack or a broken night.
 */

/** The Cloudinary resource types the backup can copy. */
export const RESOURCE_TYPES = ['image', 'video', 'raw'] as const;

/** One Cloudinary resource type. */
export type ResourceType = (typeof RESOURCE_TYPES)[number];

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

/** The validated settings of one deployment. */
export interface BackupConfig {
  /** Existing bucket to back up into; when absent the stack creates one. */
  readonly bucketName?: string;
  /** Key prefix under which every backup object is written (no leading or trailing `/`). */
  readonly prefix: string;
  /** EventBridge Scheduler expression: `cron(...)` or `rate(...)`. */
  readonly schedule: string;
  /** IANA time zone the schedule is read in. */
  readonly timezone: string;
  /** Address that receives alarm e-mails. */
  readonly notificationEmail?: string;
  /** How many assets are copied at once. */
  readonly concurrency: number;
  /** Per-run download budget. */
  readonly maxBytesPerRun: MaxBytesPerRun;
  /** Whether objects whose asset is gone from Cloudinary are deleted from the backup. */
  readonly prune: boolean;
  /** Which resource types are backed up. */
  readonly resourceTypes: readonly ResourceType[];
  /** Lambda memory in MB (also buys CPU and network bandwidth). */
  readonly memorySize: number;
  /** The longest one run may take, in hours; keep it below the time between two runs. */
  readonly maxRunHours: number;
  /** Hours without a completed run before the missed-run alarm fires. */
  readonly missedRunAlarmHours: number;
  /** Whether to reserve one concurrent execution (impossible on accounts limited to 10). */
  readonly reserveConcurrency: boolean;
  /** Days after which an overwritten (noncurrent) version is deleted from the created bucket. */
  readonly noncurrentVersionExpirationDays: number;
  /** Days after which backups in the created bucket move to `storageClass`; absent: never. */
  readonly storageClassTransitionDays?: number;
  /** The colder storage class used when `storageClassTransitionDays` is set. */
  readonly storageClass: TransitionStorageClass;
  /** Object Lock (governance mode) default retention in days for the created bucket; absent: off. */
  readonly objectLockDays?: number;
}

/** The defaults applied when a key is absent from the context. */
export const DEFAULTS = {
  prefix: 'cloudinary',
  schedule: 'cron(0 3 * * ? *)',
  timezone: 'UTC',
  concurrency: 8,
  maxBytesPerRun: 'auto',
  prune: false,
  resourceTypes: RESOURCE_TYPES,
  memorySize: 1024,
  maxRunHours: 23,
  missedRunAlarmHours: 26,
  reserveConcurrency: true,
  noncurrentVersionExpirationDays: 90,
  storageClass: 'GLACIER_IR',
} as const satisfies Partial<BackupConfig>;

/** Every context key this app reads. */
export const CONTEXT_KEYS = [
  'bucketName',
  'prefix',
  'schedule',
  'timezone',
  'notificationEmail',
  'concurrency',
  'maxBytesPerRun',
  'prune',
  'resourceTypes',
  'memorySize',
  'maxRunHours',
  'missedRunAlarmHours',
  'reserveConcurrency',
  'noncurrentVersionExpirationDays',
  'storageClassTransitionDays',
  'storageClass',
  'objectLockDays',
] as const;

/** Keys that only configure a bucket the stack creates, so they conflict with `bucketName`. */
const CREATED_BUCKET_KEYS = [
  'noncurrentVersionExpirationDays',
  'storageClassTransitionDays',
  'storageClass',
  'objectLockDays',
] as const;

/** Thrown when one or more context values are invalid; the message lists every problem. */
export class ContextError extends Error {
  /** One line per invalid key, each naming the key and how to fix it. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(
      `Invalid CDK context for the CloudinaryBackup stack:\n${problems.map((p) => `  - ${p}`).join('\n')}\n` +
        'Set values with -c key=value on the cdk command line or under "context" in cdk.json.',
    );
    this.name = 'ContextError';
    this.problems = problems;
  }
}

/**
 * Reads and validates the settings from a context object (as returned by
 * `app.node.getAllContext()`). Values may be strings (from `-c`) or JSON values (from cdk.json).
 *
 * @throws ContextError listing every invalid key at once.
 */
export function parseConfig(context: Readonly<Record<string, unknown>>): BackupConfig {
  const problems: string[] = [];
  const withCredentials = credentialsInContext(context);
  const read = <T>(key: (typeof CONTEXT_KEYS)[number], parse: (raw: unknown) => T | Problem): T | undefined => {
    const raw = context[key];
    // A value holding credentials is reported once, by key only, and never echoed.
    if (raw === undefined || raw === null || raw === '' || withCredentials.has(key)) return undefined;
    const value = parse(raw);
    if (value instanceof Problem) {
      problems.push(`${key}: ${value.message}`);
      return undefined;
    }
    return value;
  };

  problems.push(...misspelledKeys(Object.keys(context)));
  for (const key of withCredentials) {
    problems.push(
      `${key}: holds a cloudinary:// URL with credentials; never pass it as context (it would end up in cdk.json, ` +
        'shell history or CI logs). Remove it, deploy, then store it in the stack\'s secret: ' +
        'aws secretsmanager put-secret-value --secret-id <SecretArn output> --secret-string ...',
    );
  }

  const bucketName = read('bucketName', parseBucketName);
  const objectLockDays = read('objectLockDays', intIn(1, 36_500, 'objectLockDays', 30));
  const storageClassTransitionDays = read('storageClassTransitionDays', intIn(0, 36_500, 'storageClassTransitionDays', 30));
  const storageClass = read('storageClass', oneOf(TRANSITION_STORAGE_CLASSES, 'storageClass')) ?? DEFAULTS.storageClass;
  if (storageClassTransitionDays !== undefined && storageClass === 'STANDARD_IA' && storageClassTransitionDays < 30) {
    problems.push(
      `storageClassTransitionDays: S3 moves objects to STANDARD_IA only after at least 30 days, got ${storageClassTransitionDays}; ` +
        'use -c storageClassTransitionDays=30 or a class without that minimum such as -c storageClass=GLACIER_IR',
    );
  }
  if (bucketName !== undefined) {
    for (const key of CREATED_BUCKET_KEYS) {
      if (context[key] !== undefined && context[key] !== null && context[key] !== '') {
        problems.push(
          `${key}: only applies to the bucket this stack creates, but bucketName='${bucketName}' imports an existing bucket; ` +
            `configure that bucket directly, or drop -c bucketName to let the stack create one`,
        );
      }
    }
  }

  const config: BackupConfig = {
    ...(bucketName !== undefined ? { bucketName } : {}),
    prefix: read('prefix', parsePrefix) ?? DEFAULTS.prefix,
    schedule: read('schedule', parseSchedule) ?? DEFAULTS.schedule,
    timezone: read('timezone', parseTimezone) ?? DEFAULTS.timezone,
    ...optional('notificationEmail', read('notificationEmail', parseEmail)),
    concurrency: read('concurrency', intIn(1, 64, 'concurrency', 8)) ?? DEFAULTS.concurrency,
    maxBytesPerRun: read('maxBytesPerRun', parseMaxBytes) ?? DEFAULTS.maxBytesPerRun,
    prune: read('prune', parseBoolean('prune')) ?? DEFAULTS.prune,
    resourceTypes: read('resourceTypes', parseResourceTypes) ?? DEFAULTS.resourceTypes,
    memorySize: read('memorySize', intIn(128, 10_240, 'memorySize', 1024)) ?? DEFAULTS.memorySize,
    maxRunHours: read('maxRunHours', intIn(1, 8_784, 'maxRunHours', 23)) ?? DEFAULTS.maxRunHours,
    missedRunAlarmHours:
      read('missedRunAlarmHours', intIn(1, 168, 'missedRunAlarmHours', 26)) ?? DEFAULTS.missedRunAlarmHours,
    reserveConcurrency: read('reserveConcurrency', parseBoolean('reserveConcurrency')) ?? DEFAULTS.reserveConcurrency,
    noncurrentVersionExpirationDays:
      read('noncurrentVersionExpirationDays', intIn(1, 36_500, 'noncurrentVersionExpirationDays', 90)) ??
      DEFAULTS.noncurrentVersionExpirationDays,
    ...optional('storageClassTransitionDays', storageClassTransitionDays),
    storageClass,
    ...optional('objectLockDays', objectLockDays),
  };

  if (problems.length > 0) throw new ContextError(problems);
  return config;
}

/** A parse failure: the message says what is wrong and shows a value that works. */
class Problem {
  constructor(readonly message: string) {}
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

function show(raw: unknown): string {
  return typeof raw === 'string' ? `'${raw}'` : JSON.stringify(raw);
}

function intIn(min: number, max: number, key: string, example: number) {
  return (raw: unknown): number | Problem => {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(n)) return new Problem(`${show(raw)} is not a whole number; use e.g. -c ${key}=${example}`);
    if (n < min || n > max) {
      return new Problem(`${n} is out of range; use a whole number from ${min} to ${max}, e.g. -c ${key}=${example}`);
    }
    return n;
  };
}

function oneOf<T extends string>(allowed: readonly T[], key: string) {
  return (raw: unknown): T | Problem => {
    const value = typeof raw === 'string' ? raw.trim().toUpperCase() : raw;
    const found = allowed.find((a) => a === value);
    return found ?? new Problem(`${show(raw)} is not one of ${allowed.join(', ')}; use e.g. -c ${key}=${allowed[0]}`);
  };
}

function parseBoolean(key: string) {
  return (raw: unknown): boolean | Problem => {
    if (typeof raw === 'boolean') return raw;
    if (typeof raw === 'string' && /^(true|false)$/i.test(raw.trim())) return raw.trim().toLowerCase() === 'true';
    return new Problem(`${show(raw)} is not true or false; use -c ${key}=true or -c ${key}=false`);
  };
}

/** S3 bucket naming rules (general purpose buckets). */
function parseBucketName(raw: unknown): string | Problem {
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
 * The prefix becomes the first segments of every key and the scope of the function's S3
 * permissions, so it must be a clean relative path: no leading or trailing `/`, no empty,
 * `.` or `..` segment, only characters S3 documents as safe.
 */
function parsePrefix(raw: unknown): string | Problem {
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

function parseSchedule(raw: unknown): string | Problem {
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

function parseTimezone(raw: unknown): string | Problem {
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

function parseEmail(raw: unknown): string | Problem {
  if (typeof raw === 'string' && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(raw.trim())) return raw.trim();
  return new Problem(`${show(raw)} is not an e-mail address; use e.g. -c notificationEmail=me@example.com`);
}

function parseResourceTypes(raw: unknown): readonly ResourceType[] | Problem {
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
  const help = `use a comma-separated subset of ${RESOURCE_TYPES.join(',')}, e.g. -c resourceTypes=image,video`;
  if (!items) return new Problem(`${show(raw)} is not a list of resource types; ${help}`);
  const wanted = items.map((i) => (typeof i === 'string' ? i.trim().toLowerCase() : String(i))).filter((i) => i !== '');
  const unknown = wanted.filter((w) => !(RESOURCE_TYPES as readonly string[]).includes(w));
  if (unknown.length > 0) return new Problem(`unknown resource type ${unknown.map((u) => `'${u}'`).join(', ')}; ${help}`);
  if (wanted.length === 0) return new Problem(`is empty, so nothing would be backed up; ${help}`);
  // Keep the canonical order and drop duplicates, so the environment is stable.
  return RESOURCE_TYPES.filter((t) => wanted.includes(t));
}

const UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/**
 * Parses `auto`, `none`, a byte count, or a size with a unit (`500MB`, `2GiB`, `1.5 GB`).
 * KB/MB/GB/TB are decimal (a Cloudinary credit is 1 GB = 10^9 bytes); KiB/MiB/GiB/TiB are binary.
 */
function parseMaxBytes(raw: unknown): MaxBytesPerRun | Problem {
  const help = "use 'auto' (budget from Cloudinary's usage report), 'none' (no limit) or a size such as 500MB or 2GiB";
  if (typeof raw === 'number') {
    return Number.isSafeInteger(raw) && raw > 0 ? raw : new Problem(`${raw} is not a positive whole number of bytes; ${help}`);
  }
  if (typeof raw !== 'string') return new Problem(`${show(raw)} is not a size; ${help}`);
  const text = raw.trim().toLowerCase();
  if (text === 'auto' || text === 'none') return text;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(text);
  const unit = m ? UNITS[m[2] === '' ? 'b' : (m[2] ?? '')] : undefined;
  if (!m || unit === undefined) return new Problem(`'${raw}' is not a size; ${help}`);
  const bytes = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes < 1) return new Problem(`'${raw}' is not a positive size; ${help}`);
  return bytes;
}

/** Unknown keys that differ from a known key only by case or one or two letters: likely typos. */
function misspelledKeys(keys: readonly string[]): string[] {
  const known: readonly string[] = CONTEXT_KEYS;
  const problems: string[] = [];
  for (const key of keys) {
    if (known.includes(key) || key.includes(':') || key.startsWith('@')) continue;
    const near = known.find((k) => k.toLowerCase() === key.toLowerCase() || editDistance(k.toLowerCase(), key.toLowerCase()) <= 2);
    if (near) problems.push(`${key}: is not a setting of this app; did you mean '${near}'? (-c ${near}=...)`);
  }
  return problems;
}

/** Keys whose value is a CLOUDINARY_URL with credentials, which must never travel as context. */
function credentialsInContext(context: Readonly<Record<string, unknown>>): ReadonlySet<string> {
  return new Set(
    Object.entries(context)
      .filter(([, value]) => typeof value === 'string' && /cloudinary:\/\/[^\s@]+@/i.test(value))
      .map(([key]) => key),
  );
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** Renders the byte budget as the function's MAX_BYTES_PER_RUN value: `auto`, `none` or digits. */
export function maxBytesToEnv(value: MaxBytesPerRun): string {
  return typeof value === 'number' ? String(value) : value;
}
