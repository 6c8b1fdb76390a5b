/**
 * One nightly execution of the durable handler (lambda/entry/handler.ts) under
 * LocalDurableTestRunner (time-skipped, as test/integration/handler.test.ts runs it), for
 * benchmark 4's durable rows. Run as its own process so its CPU and peak RSS are measured apart
 * from the fake and s3rver. Every invocation starts with Lambda's 15 minutes, running down with
 * wall time. The last stdout line is `DURABLE-RESULT <json>`.
 *
 * Environment: CLOUDINARY_URL (the fake), the S3 endpoint variables of the s3rver,
 * BENCH_BUCKET, BENCH_PREFIX.
 */
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import type { DurableLambdaHandler } from '@aws/durable-execution-sdk-js';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { createS3Client } from '../../lambda/adapters/s3/client.ts';
import { createBackupRun } from '../../lambda/entry/handler.ts';

const INVOCATION_MS = 900_000;

const main = async (): Promise<void> => {
  await LocalDurableTestRunner.setupTestEnvironment({ skipTime: true });
  let invocations = 0;
  const handler = withDurableExecution(
    createBackupRun({
      env: {
        BUCKET_NAME: process.env.BENCH_BUCKET ?? 'bench',
        PREFIX: process.env.BENCH_PREFIX ?? 'cld',
        SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bench',
        CONCURRENCY: '8',
        POWERTOOLS_METRICS_DISABLED: 'true',
      },
      readSecret: async () => process.env.CLOUDINARY_URL ?? '',
      s3Client: () => createS3Client(),
    }),
  );
  const wrapped: DurableLambdaHandler = (event, context) => {
    invocations += 1;
    const started = Date.now();
    const ctx = Object.assign(Object.create(context) as typeof context, { getRemainingTimeInMillis: () => INVOCATION_MS - (Date.now() - started) });
    return handler(event, ctx);
  };
  const runner = new LocalDurableTestRunner({ handlerFunction: wrapped });
  const execution = await runner.run({ payload: {} });
  const steps = execution.getOperations().filter((op) => op.getType() === 'STEP');
  const largest = Math.max(0, ...steps.map((op) => Buffer.byteLength(JSON.stringify(op.getStepDetails()?.result ?? null), 'utf8')));
  const out = { status: execution.getStatus(), error: execution.getStatus() === 'FAILED' ? JSON.stringify(execution.getError()) : null, result: execution.getResult(), invocations, steps: steps.length, largestCheckpointBytes: largest };
  await LocalDurableTestRunner.teardownTestEnvironment();
  process.stdout.write(`\nDURABLE-RESULT ${JSON.stringify(out)}\n`);
};

await main();
