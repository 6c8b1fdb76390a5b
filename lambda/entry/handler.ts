import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { MetricUnit } from '@aws-lambda-powertools/metrics';
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import type { DurableContext } from '@aws/durable-execution-sdk-js';
import { parseCloudinaryUrl } from '../adapters/cloudinary/config.ts';
import type { GuardedSource } from '../adapters/cloudinary/guard.ts';
import { createS3Client } from '../adapters/s3/destination.ts';
import { BackupEngine } from '../backup/engine.ts';
import type { RunReport, RunState } from '../backup/engine.ts';
import type { TimeBound } from '../backup/copy-page.ts';
import { ConfigError, LeaseHeldError, messageOf } from '../core/errors.ts';
import type { LeaseHolder } from '../core/errors.ts';
import { METRICS_NAMESPACE, METRICS_SERVICE, RUN_METRICS } from '../core/metrics.ts';
import type { RunMetricName } from '../core/metrics.ts';
import { executionNameFromArn, progressOf, writeProgress, EXECUTION_NAME } from '../store/progress.ts';
import type { Destination } from '../ports/storage.ts';
import { describeHolder } from '../store/lease.ts';
import { openCloudinary, resolveBudget, s3Target } from './compose.ts';
import { readSettings } from './settings.ts';

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
  /** Called inside the step that decided a rate-limit wait (tests move their clock). */
  onWait?(until: Date): void;
  /** Margins of a step's time bound (see TimeBound); the defaults suit Lambda's 15 minutes. */
  readonly startMarginMs?: number;
  readonly stopMarginMs?: number;
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

/** A page step's checkpointed result: the state, and what the orchestration does next. */
interface PageOutcome {
  readonly state: RunState;
  /** Wait this long for Cloudinary's rate-limit window, then list the same page again. */
  readonly waitSeconds?: number;
  /** End this invocation (its time is nearly spent); the next one continues. */
  readonly yieldNow?: boolean;
}

/** What the execution returns: the report's figures and a few failures (the report in S3 has all). */
export type RunSummary = Omit<RunReport, 'failures'> & { failures: RunReport['failures'] };

/** What a run that found another run's lease returns. */
export interface RunSkipped {
  readonly skipped: true;
  readonly heldBy: LeaseHolder;
}

const SUMMARY_FAILURES = 20;

/** The execution name `cloudinary-backup run` puts in the event, when it is a valid one. */
const nameIn = (event: unknown): string | undefined => {
  const name = (event as { executionName?: unknown } | null)?.executionName;
  return typeof name === 'string' && EXECUTION_NAME.test(name) ? name : undefined;
};

/** The report, bounded for a checkpoint: at most 20 failures, each cut to 500 characters. */
const summarize = (report: RunReport): RunSummary => ({
  ...report,
  failures: report.failures.slice(0, SUMMARY_FAILURES).map((f) => ({ ...f, publicId: f.publicId.slice(0, 300), error: f.error.slice(0, 500) })),
});

/** The retry policy of every step: configuration errors and lost leases are final, others get 3 tries. */
const retryStrategy = (error: Error, attempt: number) =>
  ['ConfigError', 'LeaseLostError'].includes(error.name) || attempt >= 3 ? { shouldRetry: false } : { shouldRetry: true, delay: { seconds: 30 * attempt } };

/**
 * The nightly run as a durable execution: `start` (lease, budget, catalog slot), then one step
 * per listing page (or part of a page: a step copies only what fits in its invocation), with
 * durable waits for Cloudinary's rate-limit resets and to end an invocation whose time is spent,
 * then `finish`. The secret is read outside any step, so it is never checkpointed.
 *
 * REPLAY RULE: every decision that changes the sequence of durable operations — wait or not, how
 * long, yield or not, another page or finish — is taken from a checkpointed step result. The
 * durable runtime replays this function from the top on every invocation, with the results of
 * completed steps; getRemainingTimeInMillis(), Date.now() and anything else read outside a step
 * differ on replay, so they are read only inside steps.
 */
export const createBackupRun =
  (deps: HandlerDeps) =>
  async (event: unknown, context: DurableContext): Promise<RunSummary | RunSkipped> => {
    const logger = new Logger({ serviceName: deps.env.POWERTOOLS_SERVICE_NAME ?? 'cloudinary-backup' });
    const timeLeft = (): number => context.lambdaContext.getRemainingTimeInMillis();
    const bound: TimeBound = {
      timeLeft,
      ...(deps.startMarginMs === undefined ? {} : { startMarginMs: deps.startMarginMs }),
      ...(deps.stopMarginMs === undefined ? {} : { stopMarginMs: deps.stopMarginMs }),
    };
    const startMargin = deps.startMarginMs ?? 120_000;
    let built: Promise<{ engine: BackupEngine; source: GuardedSource; destination: Destination; settings: ReturnType<typeof readSettings> }> | undefined;
    // Built inside the first step that needs it, so a configuration failure is that step's error.
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
        const { destination } = s3Target(deps.s3Client(), settings.bucketName, settings.prefix);
        const engine = new BackupEngine(cloud.source, destination, {
          prefix: settings.prefix,
          resourceTypes: settings.resourceTypes,
          concurrency: settings.concurrency,
          diff: 'list',
          dryRun: false,
          prune: settings.prune,
          maxPrune: settings.maxPrune,
          holder: describeHolder('nightly backup', deps.env),
        });
        return { engine, source: cloud.source, destination, settings };
      })());

    // Progress for `run --follow`: written inside steps (a side effect), best effort.
    const execution = executionNameFromArn(context.executionContext.durableExecutionArn) ?? nameIn(event);
    const progress = async (st: RunState, extra: Parameters<typeof progressOf>[3] = {}): Promise<void> => {
      if (!execution) return;
      const { destination, settings } = await ready();
      await writeProgress(destination, settings.prefix, progressOf(execution, st.steps, st, extra)).catch((err: unknown) =>
        logger.warn('could not write the progress object', { error: messageOf(err) }),
      );
    };

    // The budget is fixed once, at start, and checkpointed with the state: every later
    // invocation spends from the same budget instead of asking GET /usage again.
    const started = await context.step(
      'start',
      async (): Promise<{ state: RunState } | RunSkipped> => {
        const { engine, source, settings } = await ready();
        const budget = await resolveBudget(source, settings.maxBytesPerRun, settings.creditCeiling);
        try {
          const opened = await engine.start();
          const state: RunState = { ...opened, ...(budget.maxBytes === undefined ? {} : { maxBytes: budget.maxBytes }), ...(budget.quota ? { quota: budget.quota } : {}) };
          await progress(state);
          return { state };
        } catch (err) {
          if (err instanceof LeaseHeldError) return { skipped: true, heldBy: err.by };
          throw err;
        }
      },
      { retryStrategy },
    );
    if ('skipped' in started) {
      publish(deps.env, { RunSkipped: 1 });
      logger.warn('another run holds the lease: this run did nothing', { heldBy: started.heldBy });
      return started;
    }
    let state = started.state;
    for (let n = 0; !state.listingComplete; n += 1) {
      const current = state;
      const out: PageOutcome = await context.step(
        `page-${n}`,
        async () => {
          try {
            const next = await (await ready()).engine.step(current, bound);
            await progress(next);
            return { state: next, yieldNow: next.page !== undefined || (!next.listingComplete && timeLeft() < startMargin) };
          } catch (err) {
            if (!(err instanceof WaitRequested)) throw err;
            deps.onWait?.(err.until);
            await progress(current, { waitingUntil: err.until });
            return { state: current, waitSeconds: Math.max(1, Math.ceil((err.until.getTime() - Date.now()) / 1000)) };
          }
        },
        { retryStrategy },
      );
      state = out.state;
      if (out.waitSeconds !== undefined) {
        await context.wait(`rate-limit-${n}`, { seconds: out.waitSeconds });
        if (built) (await built).source.windowPassed();
      } else if (out.yieldNow) {
        // Any awaited durable wait ends the invocation (the SDK suspends the execution); the
        // next invocation replays to here with a full 15 minutes and no compute is billed between.
        await context.wait(`continue-${n}`, { seconds: 1 });
      }
    }
    const final = state;
    const report = await context.step(
      'finish',
      async () => {
        const r = await (await ready()).engine.finish(final);
        await progress(final, { finished: true });
        return summarize(r);
      },
      { retryStrategy },
    );
    publish(deps.env, {
      AssetsListed: report.listed,
      AssetsCopied: report.copied,
      AssetsFailed: report.failed,
      AssetsPending: report.pending,
      BytesCopied: report.bytesCopied,
      AdminApiCalls: report.cloudinaryApiCalls,
      ...(report.cloudinaryApiRemaining === null ? {} : { AdminApiRemaining: report.cloudinaryApiRemaining }),
      RunDurationSeconds: (Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 1000,
      RunCompleted: report.listingComplete ? 1 : 0,
    });
    const { failures, ...figures } = report;
    logger.info('backup run finished', { ...figures, failures });
    return report;
  };

/**
 * Publishes the run's metrics (EMF on stdout) under the names, units, namespace and `service`
 * dimension of the one shared list the alarms and dashboard read (core/metrics.ts). Called after
 * the last step, so once per execution.
 */
const publish = (env: NodeJS.ProcessEnv, values: Partial<Record<RunMetricName, number>>): void => {
  const metrics = new Metrics({ namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE, serviceName: METRICS_SERVICE });
  for (const [name, value] of Object.entries(values) as [RunMetricName, number][]) metrics.addMetric(name, RUN_METRICS[name].unit as (typeof MetricUnit)[keyof typeof MetricUnit], value);
  metrics.publishStoredMetrics();
};

/** The Lambda entry point (a durable function; invoke it through its alias). */
export const handler = withDurableExecution(createBackupRun(defaultDeps()));
