/**
 * The deployment's settings, read once from CDK context (`-c key=value` or `cdk.json`) and
 * validated before any construct is built, so a typo fails `cdk synth` with a message that
 * names the key and shows a value that works, instead of a half-built stack or a broken night.
 */
import {
  RESOURCE_TYPES,
  TRANSITION_STORAGE_CLASSES,
  Problem,
  intIn,
  oneOf,
  parseBoolean,
  parseBucketName,
  parseKmsKeyArn,
  parseEmail,
  parseMaxBytes,
  parsePrefix,
  parseResourceTypes,
  parseSchedule,
  parseTimezone,
} from './context-values.ts';
import type { MaxBytesPerRun, ResourceType, TransitionStorageClass } from './context-values.ts';

export { RESOURCE_TYPES, TRANSITION_STORAGE_CLASSES } from './context-values.ts';
export type { MaxBytesPerRun, ResourceType, TransitionStorageClass } from './context-values.ts';

/** The validated settings of one deployment. */
export interface BackupConfig {
  /** Existing bucket to back up into; when absent the stack creates one. */
  readonly bucketName?: string;
  /** ARN of the customer managed KMS key that encrypts the existing bucket (SSE-KMS). */
  readonly kmsKeyArn?: string;
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
  /** Whether to reserve one concurrent execution (opt-in: impossible on accounts limited to 10). */
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
  reserveConcurrency: false,
  noncurrentVersionExpirationDays: 90,
  storageClass: 'GLACIER_IR',
} as const satisfies Partial<BackupConfig>;

/** Every context key this app reads. */
export const CONTEXT_KEYS = [
  'bucketName',
  'kmsKeyArn',
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
  const kmsKeyArn = read('kmsKeyArn', parseKmsKeyArn);
  problems.push(...bucketProblems(context, bucketName, kmsKeyArn));

  const config: BackupConfig = {
    ...(bucketName !== undefined ? { bucketName } : {}),
    ...optional('kmsKeyArn', kmsKeyArn),
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

  problems.push(...overlapProblems(config));
  if (problems.length > 0) throw new ContextError(problems);
  return config;
}

/**
 * For a rate() schedule the interval is known, so check that a run always ends before the next
 * starts and that the missed-run alarm waits longer than one interval. (A cron schedule's
 * interval is not checked; the defaults suit any schedule that runs once a day.)
 */
function overlapProblems(config: BackupConfig): string[] {
  const rate = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(config.schedule);
  if (!rate) return [];
  const hours = Number(rate[1]) * ({ minute: 1 / 60, hour: 1, day: 24 } as const)[rate[2] as 'minute' | 'hour' | 'day'];
  const problems: string[] = [];
  if (config.maxRunHours >= hours) {
    problems.push(
      hours > 1
        ? `maxRunHours: ${config.maxRunHours} is not shorter than the schedule's interval (${hours} hours), so a run could ` +
            `still be going when the next one starts; use -c maxRunHours=${Math.ceil(hours) - 1}`
        : `schedule: '${config.schedule}' starts a run every ${hours * 60} minutes, shorter than the shortest maxRunHours (1); ` +
            'use an interval of 2 hours or more, e.g. -c schedule="rate(1 day)"',
    );
  }
  if (config.missedRunAlarmHours <= hours) {
    problems.push(
      hours + 2 <= 168
        ? `missedRunAlarmHours: ${config.missedRunAlarmHours} is not longer than the schedule's interval (${hours} hours), so ` +
            `the missed-run alarm would fire between two good runs; use -c missedRunAlarmHours=${Math.ceil(hours) + 2}`
        : `schedule: '${config.schedule}' runs less often than every 166 hours, longer than the missed-run alarm can watch ` +
            '(168 hours); run at least every 6 days, e.g. -c schedule="rate(1 day)"',
    );
  }
  return problems;
}

/** Settings that need an imported bucket, and settings that only fit a created one. */
function bucketProblems(context: Readonly<Record<string, unknown>>, bucketName: string | undefined, kmsKeyArn: string | undefined): string[] {
  if (bucketName === undefined) {
    return kmsKeyArn === undefined
      ? []
      : [
          'kmsKeyArn: only applies to an existing bucket encrypted with that key (the bucket this stack creates uses ' +
            'S3-managed keys); add -c bucketName=<that bucket> or drop -c kmsKeyArn',
        ];
  }
  return CREATED_BUCKET_KEYS.filter((key) => context[key] !== undefined && context[key] !== null && context[key] !== '').map(
    (key) =>
      `${key}: only applies to the bucket this stack creates, but bucketName='${bucketName}' imports an existing bucket; ` +
      'configure that bucket directly, or drop -c bucketName to let the stack create one',
  );
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
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
