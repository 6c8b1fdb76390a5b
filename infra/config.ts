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
  parseRegion,
  parseSseMode,
  parseEmail,
  parseMaxBytes,
  parsePrefix,
  parseResourceTypes,
  parseSchedule,
  parseTimezone,
} from './context-values.ts';
import type { MaxBytesPerRun, ResourceType, TransitionStorageClass } from './context-values.ts';
import { bucketProblems, encryptionProblems, credentialProblems, credentialsInContext, misspelledKeys, overlapProblems, transitionProblems } from './context-checks.ts';

export { RESOURCE_TYPES, TRANSITION_STORAGE_CLASSES } from './context-values.ts';
export type { MaxBytesPerRun, ResourceType, TransitionStorageClass } from './context-values.ts';

/** The validated settings of one deployment. */
export interface BackupConfig {
  /** Existing bucket to back up into; when absent the stack creates one. */
  readonly bucketName?: string;
  /** ARN of the customer managed KMS key that encrypts the existing bucket (SSE-KMS). */
  readonly kmsKeyArn?: string;
  /** The existing bucket's region, when it is not the stack's (the function finds it either way). */
  readonly bucketRegion?: string;
  /**
   * The encryption header every write sends (for a bucket policy that requires it): `aws:kms`
   * whenever kmsKeyArn is set (with that key); absent: no header, the bucket's default applies.
   */
  readonly sse?: 'AES256' | 'aws:kms';
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
  /** Days replaced and pruned originals and restore points are kept (docs/history.md); unset: what the backup records. */
  readonly historyDays?: number;
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
  // History keeps replaced and pruned originals under <prefix>/_history/ (docs/history.md):
  // one day of noncurrent versions, so each retired original is kept once, not twice.
  noncurrentVersionExpirationDays: 1,
  storageClass: 'GLACIER_IR',
} as const satisfies Partial<BackupConfig>;

/** Every context key this app reads. */
export const CONTEXT_KEYS = [
  'bucketName',
  'kmsKeyArn',
  'bucketRegion',
  'sse',
  'prefix',
  'schedule',
  'timezone',
  'notificationEmail',
  'concurrency',
  'maxBytesPerRun',
  'prune',
  'historyDays',
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
  const withCredentials = credentialsInContext(context);
  const problems: string[] = [...misspelledKeys(Object.keys(context), CONTEXT_KEYS), ...credentialProblems(withCredentials)];
  const read = contextReader(context, withCredentials, problems);

  const bucketName = read('bucketName', parseBucketName);
  const objectLockDays = read('objectLockDays', intIn(1, 36_500, 'objectLockDays', 30));
  const storageClassTransitionDays = read('storageClassTransitionDays', intIn(0, 36_500, 'storageClassTransitionDays', 30));
  const storageClass = read('storageClass', oneOf(TRANSITION_STORAGE_CLASSES, 'storageClass')) ?? DEFAULTS.storageClass;
  problems.push(...transitionProblems(storageClassTransitionDays, storageClass));
  const kmsKeyArn = read('kmsKeyArn', parseKmsKeyArn);
  problems.push(...bucketProblems(context, bucketName, kmsKeyArn));
  const bucketRegion = read('bucketRegion', parseRegion);
  const sse = read('sse', parseSseMode) ?? (kmsKeyArn === undefined ? undefined : 'aws:kms');
  problems.push(...encryptionProblems(bucketName, bucketRegion, kmsKeyArn, sse));

  const config: BackupConfig = {
    ...(bucketName !== undefined ? { bucketName } : {}),
    ...optional('kmsKeyArn', kmsKeyArn),
    ...optional('bucketRegion', bucketRegion),
    ...optional('sse', sse),
    prefix: read('prefix', parsePrefix) ?? DEFAULTS.prefix,
    schedule: read('schedule', parseSchedule) ?? DEFAULTS.schedule,
    timezone: read('timezone', parseTimezone) ?? DEFAULTS.timezone,
    ...optional('notificationEmail', read('notificationEmail', parseEmail)),
    concurrency: read('concurrency', intIn(1, 64, 'concurrency', 8)) ?? DEFAULTS.concurrency,
    maxBytesPerRun: read('maxBytesPerRun', parseMaxBytes) ?? DEFAULTS.maxBytesPerRun,
    prune: read('prune', parseBoolean('prune')) ?? DEFAULTS.prune,
    ...optional('historyDays', read('historyDays', intIn(1, 3650, 'historyDays', 90))),
    resourceTypes: read('resourceTypes', parseResourceTypes) ?? DEFAULTS.resourceTypes,
    memorySize: read('memorySize', intIn(128, 10_240, 'memorySize', 1024)) ?? DEFAULTS.memorySize,
    maxRunHours: read('maxRunHours', intIn(1, 8_784, 'maxRunHours', 23)) ?? DEFAULTS.maxRunHours,
    missedRunAlarmHours:
      read('missedRunAlarmHours', intIn(1, 168, 'missedRunAlarmHours', 26)) ?? DEFAULTS.missedRunAlarmHours,
    reserveConcurrency: read('reserveConcurrency', parseBoolean('reserveConcurrency')) ?? DEFAULTS.reserveConcurrency,
    noncurrentVersionExpirationDays:
      read('noncurrentVersionExpirationDays', intIn(1, 36_500, 'noncurrentVersionExpirationDays', 1)) ??
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
 * Reads one key with its parser. An absent or empty value gives undefined (the default applies);
 * an invalid one adds a problem naming the key to `problems` and gives undefined too, so every
 * invalid key is reported at once.
 */
function contextReader(context: Readonly<Record<string, unknown>>, withCredentials: ReadonlySet<string>, problems: string[]) {
  return <T>(key: (typeof CONTEXT_KEYS)[number], parse: (raw: unknown) => T | Problem): T | undefined => {
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
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

/** Renders the byte budget as the function's MAX_BYTES_PER_RUN value: `auto`, `none` or digits. */
export function maxBytesToEnv(value: MaxBytesPerRun): string {
  return typeof value === 'number' ? String(value) : value;
}
