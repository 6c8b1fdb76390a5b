import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import type { DurableContext } from '@aws/durable-execution-sdk-js';
import { parseCloudinaryUrl } from '../adapters/cloudinary/config.ts';
import { ConfigError, messageOf } from '../core/errors.ts';
import { catalogRoot } from '../core/keys.ts';
import { S3Destination, createS3Client } from '../adapters/s3/destination.ts';
import { BackupEngine } from '../backup/engine.ts';
import type { RunReport, RunState } from '../backup/engine.ts';
import { readSettings } from './settings.ts';
import { openCloudinary, resolveBudget } from './compose.ts';
import type { FunctionSettings } from './settings.ts';
import type { GuardedSource } from '../adapters/cloudinary/guard.ts';

/** Thrown by the wait policy: the page must be retried after a durable wait. */
export class WaitRequested extends Error {
  override readonly name = 'WaitRequested';
  constructor(readonly until: Date) {
    super(`wait until ${until.toISOString()}`);
  }
}

/** What the handler needs from the outside world; tests replace parts of it. */
export interface HandlerDeps {
  readonly env: NodeJS.ProcessEnv;
  /** Reads the CLOUDINARY_URL from Secrets Manager (never logged, never checkpointed). */
  readSecret(secretArn: string): Promise<string>;
  s3Client(): S3Client;
  /** Called before a durable wait (tests move their clock). */
  onWait?(until: Date): void;
  /** End the invocation between pages when less than this many ms remain. @default 300000 */
  readonly yieldBelowMs?: number;
}

const defaultDeps = (): HandlerDeps => ({
  env: process.env,
  readSecret: async (secretArn) => {
    const r = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretArn }));
    return r.SecretString ?? '';
  },
  s3Client: () => createS3Client(),
});

const emptySecretHelp = (arn: string): string =>
  `The secret ${arn} does not hold a valid CLOUDINARY_URL. Put it there with: ` +
  `aws secretsmanager put-secret-value --secret-id ${arn} --secret-string 'cloudinary://API_KEY:API_SECRET@CLOUD_NAME'`;

type PageOutcome = { state: RunState; waitUntil?: string };

/**
 * The nightly run as a durable execution: each listing page (list, plan, copy, catalog page)
 * is a checkpointed step; a rate-limit reset is a durable wait (no compute billed); between
 * pages the invocation ends when its time runs low, and the next one resumes from the
 * checkpointed cursor. The secret is read outside any step, so it is never checkpointed.
 */
export const createBackupRun =
  (deps: HandlerDeps) =>
  async (_event: unknown, context: DurableContext): Promise<RunReport> => {
    const logger = new Logger({ serviceName: deps.env.POWERTOOLS_SERVICE_NAME ?? 'cloudinary-backup' });
    // Everything that can fail on configuration is built inside a step, so the failure is
    // recorded as the step's error (not retried); the secret itself is never a step result.
    let built: Promise<{ engine: BackupEngine; source: GuardedSource; settings: FunctionSettings }> | undefined;
    const ready = () =>
      (built ??= (async () => {
        const settings = readSettings(deps.env);
        const secret = await deps.readSecret(settings.secretArn);
        try {
          parseCloudinaryUrl(secret);
        } catch (err) {
          throw new ConfigError(`${emptySecretHelp(settings.secretArn)} (${messageOf(err).split('. ')[0]})`);
        }
        const cloud = await openCloudinary(secret, {
          wait: async (until) => {
            throw new WaitRequested(until);
          },
        });
        const destination = new S3Destination(deps.s3Client(), settings.bucketName, {
          probeKey: `${catalogRoot(settings.prefix)}/write-check`,
        });
        const engine = new BackupEngine(cloud.source, destination, {
          prefix: settings.prefix,
          resourceTypes: settings.resourceTypes,
          concurrency: settings.concurrency,
          diff: 'list',
          dryRun: false,
          prune: settings.prune,
        });
        return { engine, source: cloud.source, settings };
      })());
    const noRetryOnConfig = (error: Error, attempt: number) =>
      error.name === 'ConfigError' || attempt >= 3 ? { shouldRetry: false } : { shouldRetry: true, delay: { seconds: 30 * attempt } };

    // The budget is fixed once, at start, and checkpointed with the state: every later
    // invocation spends from the same budget instead of asking GET /usage again.
    let state = await context.step(
      'start',
      async () => {
        const { engine, source, settings } = await ready();
        const budget = await resolveBudget(source, settings.maxBytesPerRun, settings.creditCeiling);
        const started = await engine.start();
        return {
          ...started,
          ...(budget.maxBytes === undefined ? {} : { maxBytes: budget.maxBytes }),
          ...(budget.quota ? { quota: budget.quota } : {}),
        };
      },
      { retryStrategy: noRetryOnConfig },
    );
    const yieldBelow = deps.yieldBelowMs ?? 300_000;
    for (let n = 0; !state.listingComplete; n += 1) {
      const current = state;
      const out: PageOutcome = await context.step(
        `page-${n}`,
        async () => {
          try {
            return { state: await (await ready()).engine.step(current) };
          } catch (err) {
            if (err instanceof WaitRequested) return { state: current, waitUntil: err.until.toISOString() };
            throw err;
          }
        },
        { retryStrategy: noRetryOnConfig },
      );
      state = out.state;
      if (out.waitUntil) {
        const until = new Date(out.waitUntil);
        deps.onWait?.(until);
        await context.wait(`rate-limit-${n}`, { seconds: Math.max(1, Math.ceil((until.getTime() - Date.now()) / 1000)) });
        if (built) (await built).source.rateLimit = undefined;
      } else if (!state.listingComplete && context.lambdaContext.getRemainingTimeInMillis() < yieldBelow) {
        // A wait longer than the time left makes the SDK suspend now rather than hold a timer;
        // the next invocation starts with a full 15 minutes. Waiting bills no compute.
        const left = context.lambdaContext.getRemainingTimeInMillis();
        await context.wait(`continue-${n}`, { seconds: Math.ceil(left / 1000) + 1 });
      }
    }
    const report = await context.step('finish', async () => (await ready()).engine.finish(state));
    const metrics = new Metrics({ namespace: deps.env.POWERTOOLS_METRICS_NAMESPACE ?? 'CloudinaryBackup', serviceName: 'cloudinary-backup' });
    metrics.addMetric('AssetsListed', MetricUnit.Count, report.listed);
    metrics.addMetric('AssetsCopied', MetricUnit.Count, report.copied);
    metrics.addMetric('AssetsFailed', MetricUnit.Count, report.failed);
    metrics.addMetric('BytesCopied', MetricUnit.Bytes, report.bytesCopied);
    metrics.addMetric('AdminApiCalls', MetricUnit.Count, report.cloudinaryApiCalls);
    if (report.cloudinaryApiRemaining !== null) metrics.addMetric('AdminApiRemaining', MetricUnit.Count, report.cloudinaryApiRemaining);
    metrics.addMetric('RunDurationSeconds', MetricUnit.Seconds, (Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 1000);
    metrics.addMetric('RunCompleted', MetricUnit.Count, report.listingComplete ? 1 : 0);
    metrics.publishStoredMetrics();
    const { failures, ...figures } = report;
    logger.info('backup run finished', { ...figures, failures: failures.slice(0, 50) });
    return report;
  };

/** The Lambda entry point (a durable function; invoke it through its alias). */
export const handler = withDurableExecution(createBackupRun(defaultDeps()));
