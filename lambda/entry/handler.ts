import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { MetricUnit } from '@aws-lambda-powertools/metrics';
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import type { DurableContext } from '@aws/durable-execution-sdk-js';
import { createS3Client } from '../adapters/s3/client.ts';
import { METRICS_NAMESPACE, METRICS_SERVICE, RUN_METRICS } from '../core/metrics.ts';
import type { RunMetricName } from '../core/metrics.ts';
import { NightlyRun } from './nightly-run.ts';
import { stopPointOf } from './deadline.ts';
import type { HandlerDeps, RunSkipped, RunSummary } from './nightly-run.ts';

export { WaitRequested } from './nightly-run.ts';
export type { HandlerDeps, RunSkipped, RunSummary } from './nightly-run.ts';

const defaultDeps = (): HandlerDeps => ({
  env: process.env,
  readSecret: async (secretArn) => {
    const r = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretArn }));
    return r.SecretString ?? '';
  },
  s3Client: (bucket) => createS3Client(process.env, bucket),
});

/** The retry policy of every step: configuration errors and lost leases are final, others get 3 tries. */
const retryStrategy = (error: Error, attempt: number) =>
  ['ConfigError', 'LeaseLostError'].includes(error.name) || attempt >= 3 ? { shouldRetry: false } : { shouldRetry: true, delay: { seconds: 30 * attempt } };

/**
 * The nightly run as a durable execution: `start` (lease, budget, catalog slot), then page steps
 * (each runs listing pages without a barrier up to a catalog page, and copies only what fits in
 * its invocation; see NightlyRun.page), with
 * durable waits for Cloudinary's rate-limit resets and to end an invocation whose time is spent,
 * then `finish`. The secret is read inside steps but never returned by one, so it is never
 * checkpointed.
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
    const run = new NightlyRun(deps, context, event);
    // When the run stops taking work (deadline.ts): fixed by the first step, so every replay has it.
    const stopAt = await context.step('deadline', async () => stopPointOf(deps.env, (deps.now ?? Date.now)()), { retryStrategy });
    // The budget is fixed once, at start, and checkpointed with the state: every later
    // invocation spends from the same budget instead of asking GET /usage again.
    let started = await context.step('start', () => run.start(), { retryStrategy });
    for (let n = 0; 'waitSeconds' in started; n += 1) {
      await context.wait(`start-wait-${n}`, { seconds: started.waitSeconds });
      await run.windowPassed();
      started = await context.step(`start-${n + 1}`, () => run.start(), { retryStrategy });
    }
    if ('skipped' in started) {
      publish(deps.env, { RunSkipped: 1 });
      run.logger.warn('another run holds the lease: this run did nothing', { heldBy: started.heldBy });
      return started;
    }
    let state = started.state;
    for (let n = 0; !state.listingComplete; n += 1) {
      const current = state;
      let out;
      try {
        out = await context.step(`page-${n}`, () => run.page(current, stopAt), { retryStrategy });
      } catch (err) {
        // Failed for good: report what was done and free the lease before the execution fails,
        // so the failure is visible in the bucket and the next night is not blocked.
        await context.step(`finish-failed-${n}`, () => run.finishFailed(current, err instanceof Error ? err.message : String(err)));
        throw err;
      }
      state = out.state;
      if (out.deadline) {
        // The execution timeout is near: finish with what is done (in a fresh invocation when
        // this one's time is spent too); the next night continues.
        if (out.yieldNow) await context.wait(`continue-${n}`, { seconds: 1 });
        run.logger.warn('the run reached its execution deadline: it ends now, the rest waits for the next run');
        break;
      }
      if (out.waitSeconds !== undefined) {
        await context.wait(`rate-limit-${n}`, { seconds: out.waitSeconds });
        await run.windowPassed();
      } else if (out.yieldNow) {
        // Any awaited durable wait ends the invocation (the SDK suspends the execution); the
        // next invocation replays to here with a full 15 minutes and no compute is billed between.
        await context.wait(`continue-${n}`, { seconds: 1 });
      }
    }
    const final = state;
    const report = await context.step('finish', () => run.finish(final), { retryStrategy });
    publishReport(deps.env, report);
    const { failures, ...figures } = report;
    run.logger.info('backup run finished', { ...figures, failures });
    return report;
  };

/** The metrics of a finished run (after its last step, so once per execution). */
const publishReport = (env: NodeJS.ProcessEnv, report: RunSummary): void =>
  publish(env, {
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
