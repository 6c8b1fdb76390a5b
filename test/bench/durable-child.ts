/**
 * One nightly execution of the durable handler (lambda/entry/handler.ts) under
 * LocalDurableTestRunner, for benchmark 4's durable rows, with real timers (no `skipTime`): the
 * runner's skipTime installs @sinonjs/fake-timers with every method faked, process.nextTick and
 * queueMicrotask included (durable-execution-sdk-js-testing 1.1.4
 * dist/history-event-types.mjs:2467-2475, `install({ shouldAdvanceTime: true, ... })` with no
 * `toFake`; fake-timers 15.5 src/fake-timers-src.js:1786-1800 and 2955-2967), and moves that clock
 * 20 ms every 20 ms of real time (advanceTimeDelta, line 2905). Node's streams and HTTP client
 * schedule their events with process.nextTick, so every such hop waited up to 20 ms: a request
 * to a loopback server took ~50 ms instead of ~5, and a 1M-asset night spent ~2.6 s idle per
 * step (measured with durable-steps.ts; README "How it measures"). Lambda runs the handler with
 * Node's own timers. A no-change night has no durable wait but the 1-second `continue-n` between
 * invocations, so real time costs nothing here. Run as its own process so its CPU and peak RSS are measured apart
 * from the fake and s3rver. Every invocation starts with Lambda's 15 minutes, running down with
 * wall time. The last stdout line is `DURABLE-RESULT <json>`.
 *
 * Environment: CLOUDINARY_URL (the fake), the S3 endpoint variables of the s3rver,
 * BENCH_BUCKET, BENCH_PREFIX.
 */
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import type { DurableContext, DurableLambdaHandler } from '@aws/durable-execution-sdk-js';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { createS3Client } from '../../lambda/adapters/s3/client.ts';
import { createBackupRun } from '../../lambda/entry/handler.ts';

const INVOCATION_MS = 900_000;

/** When each step's function ran (ms since the child started): the time inside steps against the wall time. */
interface StepSpan {
  readonly name: string;
  readonly startMs: number;
  readonly endMs: number;
}

// With skipTime, setupTestEnvironment would fake performance.now too: the real clock is taken before.
const realNow = performance.now.bind(performance);
const t0 = realNow();
const spans: StepSpan[] = [];

/**
 * The durable context with its `step` timed: the span is the step function's own run (our
 * handler's work), so what lies between two spans is the SDK's and the test runner's.
 */
const timed = (context: DurableContext): DurableContext =>
  new Proxy(context, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (prop !== 'step' || typeof value !== 'function') return value;
      return (name: string, fn: (...args: unknown[]) => Promise<unknown>, config?: unknown) =>
        (value as (...a: unknown[]) => unknown).call(target, name, async (...args: unknown[]) => {
          const startMs = realNow() - t0;
          try {
            return await fn(...args);
          } finally {
            spans.push({ name, startMs, endMs: realNow() - t0 });
          }
        }, config);
    },
  });

const main = async (): Promise<void> => {
  await LocalDurableTestRunner.setupTestEnvironment({ skipTime: false });
  let invocations = 0;
  const run = createBackupRun({
      env: {
        BUCKET_NAME: process.env.BENCH_BUCKET ?? 'bench',
        PREFIX: process.env.BENCH_PREFIX ?? 'cld',
        SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bench',
        CONCURRENCY: '8',
        POWERTOOLS_METRICS_DISABLED: 'true',
      },
      readSecret: async () => process.env.CLOUDINARY_URL ?? '',
      s3Client: () => createS3Client(),
  });
  const handler = withDurableExecution((event: unknown, context: DurableContext) => run(event, timed(context)));
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
  const wallMs = realNow() - t0;
  const insideMs = spans.reduce((n, s) => n + (s.endMs - s.startMs), 0);
  const gaps = spans.slice(1).map((s, i) => s.startMs - (spans[i] as StepSpan).endMs);
  const timing = { wallMs: Math.round(wallMs), insideStepsMs: Math.round(insideMs), betweenStepsMs: Math.round(gaps.reduce((a, b) => a + b, 0)), spans: spans.map((s) => ({ ...s, startMs: Math.round(s.startMs), endMs: Math.round(s.endMs) })) };
  const out = { status: execution.getStatus(), error: execution.getStatus() === 'FAILED' ? JSON.stringify(execution.getError()) : null, result: execution.getResult(), invocations, steps: steps.length, largestCheckpointBytes: largest, timing };
  await LocalDurableTestRunner.teardownTestEnvironment();
  process.stdout.write(`\nDURABLE-RESULT ${JSON.stringify(out)}\n`);
};

await main();
