/**
 * Checks of the CDK context that look at more than one value, or at the keys themselves: typos in
 * key names, credentials passed as context, settings that conflict with an imported bucket or with
 * each other, and a schedule that would overlap its own runs. Each returns its problems as lines
 * that name the key and a value that works (see ContextError); none throws.
 */
import type { TransitionStorageClass } from './context-values.ts';

/** Keys that only configure a bucket the stack creates, so they conflict with `bucketName`. */
const CREATED_BUCKET_KEYS = [
  'noncurrentVersionExpirationDays',
  'storageClassTransitionDays',
  'storageClass',
  'objectLockDays',
] as const;

/** Keys whose value is a CLOUDINARY_URL with credentials, which must never travel as context. */
export function credentialsInContext(context: Readonly<Record<string, unknown>>): ReadonlySet<string> {
  return new Set(
    Object.entries(context)
      .filter(([, value]) => typeof value === 'string' && /cloudinary:\/\/[^\s@]+@/i.test(value))
      .map(([key]) => key),
  );
}

/** One problem per key that holds credentials (named by key only: the value is never echoed). */
export function credentialProblems(withCredentials: ReadonlySet<string>): string[] {
  return [...withCredentials].map(
    (key) =>
      `${key}: holds a cloudinary:// URL with credentials; never pass it as context (it would end up in cdk.json, ` +
      'shell history or CI logs). Remove it, deploy, then store it in the stack\'s secret: ' +
      'aws secretsmanager put-secret-value --secret-id <SecretArn output> --secret-string ...',
  );
}

/** Unknown keys that differ from a known key only by case or one or two letters: likely typos. */
export function misspelledKeys(keys: readonly string[], known: readonly string[]): string[] {
  const problems: string[] = [];
  for (const key of keys) {
    if (known.includes(key) || key.includes(':') || key.startsWith('@')) continue;
    const near = known.find((k) => k.toLowerCase() === key.toLowerCase() || editDistance(k.toLowerCase(), key.toLowerCase()) <= 2);
    if (near) problems.push(`${key}: is not a setting of this app; did you mean '${near}'? (-c ${near}=...)`);
  }
  return problems;
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

/** S3 refuses a lifecycle transition to STANDARD_IA before 30 days. */
export function transitionProblems(days: number | undefined, storageClass: TransitionStorageClass): string[] {
  if (days === undefined || storageClass !== 'STANDARD_IA' || days >= 30) return [];
  return [
    `storageClassTransitionDays: S3 moves objects to STANDARD_IA only after at least 30 days, got ${days}; ` +
      'use -c storageClassTransitionDays=30 or a class without that minimum such as -c storageClass=GLACIER_IR',
  ];
}

/**
 * For a rate() schedule the interval is known, so check that a run always ends before the next
 * starts and that the missed-run alarm waits longer than one interval. (A cron schedule's
 * interval is not checked; the defaults suit any schedule that runs once a day.)
 */
export function overlapProblems(config: { readonly schedule: string; readonly maxRunHours: number; readonly missedRunAlarmHours: number }): string[] {
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
export function bucketProblems(context: Readonly<Record<string, unknown>>, bucketName: string | undefined, kmsKeyArn: string | undefined): string[] {
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

/**
 * The imported bucket's region and encryption settings together: bucketRegion only names an
 * imported bucket's; a KMS key is only ever used with aws:kms; and S3 uses an SSE-KMS key only in
 * the bucket's own region ("Specifying server-side encryption with AWS KMS (SSE-KMS)", S3 User
 * Guide: "the KMS key must be in the same Region as the bucket").
 */
export function encryptionProblems(bucketName: string | undefined, bucketRegion: string | undefined, kmsKeyArn: string | undefined, sse: string | undefined): string[] {
  const problems: string[] = [];
  if (bucketRegion !== undefined && bucketName === undefined) {
    problems.push('bucketRegion: names the region of an existing bucket; add -c bucketName=<that bucket>, or drop -c bucketRegion (a created bucket is in the stack\'s region)');
  }
  if (kmsKeyArn !== undefined && sse === 'AES256') {
    problems.push('sse: AES256 is SSE-S3, but kmsKeyArn names a KMS key (SSE-KMS); drop -c sse (aws:kms is then used with the key) or drop -c kmsKeyArn');
  }
  const keyRegion = kmsKeyArn?.split(':')[3];
  if (kmsKeyArn !== undefined && bucketRegion !== undefined && keyRegion !== bucketRegion) {
    problems.push(`kmsKeyArn: the key is in ${keyRegion} but bucketRegion is ${bucketRegion}; S3 encrypts with a key of the bucket's own region`);
  }
  return problems;
}
