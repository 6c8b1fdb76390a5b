import { RESOURCE_TYPES, parseResourceTypes } from '../core/asset.ts';
import { ConfigError } from '../core/errors.ts';
import { normalizePrefix } from '../core/keys.ts';
import { parseSize } from '../core/sizes.ts';
import { parsePruneLimit } from '../core/prune-limit.ts';
import type { PruneLimit } from '../core/prune-limit.ts';
import { parseSse } from '../core/sse.ts';
import type { ServerSideEncryption } from '../core/sse.ts';

/** What the scheduled function is told by its environment (set by the CDK stack). */
export interface FunctionSettings {
  readonly bucketName: string;
  readonly prefix: string;
  readonly secretArn: string;
  readonly concurrency: number;
  /** Bytes per run; 'auto' = from the plan's usage; undefined = no budget. */
  readonly maxBytesPerRun: number | 'auto' | undefined;
  readonly prune: boolean;
  readonly resourceTypes: readonly string[];
  /** With maxBytesPerRun=auto: share of the plan's credits a run may take the account to. @default 0.9 */
  readonly creditCeiling: number;
  /** Most backups one pruning run deletes. @default 10% */
  readonly maxPrune: PruneLimit;
  /** Server-side encryption of every write (SSE, SSE_KMS_KEY_ID: the stack's -c sse / -c kmsKeyArn). */
  readonly sse?: ServerSideEncryption;
  /** Days replaced and pruned originals and restore points are kept (the stack's historyDays); undefined: the default. */
  readonly historyDays: number | undefined;
}

const need = (env: NodeJS.ProcessEnv, name: string): string => {
  const v = env[name];
  if (v === undefined || v.trim() === '') throw new ConfigError(`Environment variable ${name} is not set; redeploy the stack (npx cdk deploy).`);
  return v.trim();
};

/** Reads and validates the function's environment. Throws a ConfigError naming the variable. */
export const readSettings = (env: NodeJS.ProcessEnv): FunctionSettings => {
  const concurrency = Number(env.CONCURRENCY ?? '8');
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new ConfigError(`CONCURRENCY must be a whole number from 1 to 64 (got "${env.CONCURRENCY}").`);
  }
  const rawBudget = (env.MAX_BYTES_PER_RUN ?? 'none').trim();
  let maxBytesPerRun: number | 'auto' | undefined;
  if (rawBudget === 'auto') maxBytesPerRun = 'auto';
  else if (rawBudget === 'none' || rawBudget === '') maxBytesPerRun = undefined;
  else {
    maxBytesPerRun = parseSize(rawBudget);
    if (maxBytesPerRun === undefined) throw new ConfigError(`MAX_BYTES_PER_RUN must be a size such as 500MB, "auto" or "none" (got "${rawBudget}").`);
  }
  const parsed = parseResourceTypes((env.RESOURCE_TYPES ?? RESOURCE_TYPES.join(',')).split(','));
  if (!('types' in parsed)) throw new ConfigError(`RESOURCE_TYPES has unknown types: ${parsed.unknown.join(', ') || '(none)'}; redeploy with -c resourceTypes=image,video,raw (any subset).`);
  const resourceTypes = parsed.types;
  const creditCeiling = Number(env.CREDIT_CEILING ?? '0.9');
  if (!(creditCeiling > 0 && creditCeiling <= 1)) throw new ConfigError(`CREDIT_CEILING must be a fraction above 0 and at most 1 (got "${env.CREDIT_CEILING}").`);
  const maxPrune = parsePruneLimit(env.MAX_PRUNE ?? '10%');
  if (!maxPrune) throw new ConfigError(`MAX_PRUNE must be a count (e.g. 500) or a percentage (e.g. 10%) (got "${env.MAX_PRUNE}").`);
  const sse = parseSse(env.SSE, env.SSE_KMS_KEY_ID, { mode: 'SSE (-c sse=AES256|aws:kms)', key: 'SSE_KMS_KEY_ID (-c kmsKeyArn)' });
  const rawDays = (env.HISTORY_DAYS ?? '').trim();
  const historyDays = rawDays === '' ? undefined : Number(rawDays);
  if (historyDays !== undefined && !(Number.isInteger(historyDays) && historyDays >= 1 && historyDays <= 3650)) {
    throw new ConfigError(`HISTORY_DAYS must be a whole number of days from 1 to 3650 (got "${rawDays}"); redeploy with -c historyDays=90.`);
  }
  return {
    ...(sse ? { sse } : {}),
    historyDays,
    maxPrune,
    creditCeiling,
    bucketName: need(env, 'BUCKET_NAME'),
    prefix: normalizePrefix(env.PREFIX ?? ''),
    secretArn: need(env, 'SECRET_ARN'),
    concurrency,
    maxBytesPerRun,
    prune: env.PRUNE === 'true',
    resourceTypes,
  };
};
