import timers from 'node:timers';
import type { DurableLambdaHandler } from '@aws/durable-execution-sdk-js';

/** The Lambda context a durable handler is invoked with. */
type Context = Parameters<DurableLambdaHandler>[1];

/**
 * A Lambda clock that runs down with the work done, not with wall-clock time, so a test of the
 * durable path yields and resumes the same way on a busy machine: every invocation starts with
 * `invocationMs` (Lambda's 15 minutes) and loses `msPerByte` for every byte the Cloudinary fake
 * has served plus `msPerCall` for every Admin API call it answered since the invocation began.
 * LocalDurableTestRunner's own context always reports 900,000 ms, so the handler is wrapped.
 */
export class WorkClock {
  invocations = 0;
  private base = 0;

  constructor(
    private readonly spent: () => number,
    private readonly invocationMs = 900_000,
  ) {}

  /** Work done so far, in clock milliseconds, from byte and call counters. */
  static fromCounters(bytes: () => number, calls: () => number, msPerByte: number, msPerCall: number): () => number {
    return () => bytes() * msPerByte + calls() * msPerCall;
  }

  /** Milliseconds left in the current invocation. */
  left(): number {
    return this.invocationMs - (this.spent() - this.base);
  }

  /** The handler with a context whose getRemainingTimeInMillis is this clock; each call is a new invocation. */
  wrap(handler: DurableLambdaHandler): DurableLambdaHandler {
    return (event, context) => {
      this.invocations += 1;
      this.base = this.spent();
      const ctx = Object.assign(Object.create(context) as Context, { getRemainingTimeInMillis: () => this.left() });
      return handler(event, ctx);
    };
  }
}

/** The event-loop hops fake-timers queues as "jobs" (run only when its clock ticks). */
const JOB_METHODS = ['setImmediate', 'clearImmediate', 'queueMicrotask'] as const;

/**
 * LocalDurableTestRunner's skipTime environment, with the event loop's own hops left real.
 *
 * With `skipTime: true` the runner installs @sinonjs/fake-timers without a `toFake` list
 * (@aws/durable-execution-sdk-js-testing 1.1.4, dist/history-event-types.mjs `setupTestEnvironment`:
 * `install({ shouldAdvanceTime: true, shouldClearNativeTimers: true, now })`), and fake-timers
 * 15.5.0 then fakes every method it knows (src/fake-timers-src.js, `clock.methods =
 * Object.keys(timers)`), process.nextTick, queueMicrotask and setImmediate included. Those run
 * only when the fake clock ticks, every 20 ms of real time (advanceTimeDelta's default), so
 * every hop of a library that defers with them (the AWS SDK's streams, the runner's own queue)
 * costs up to 20 ms: the same test took 6 s or 380 s depending on how many hops its run made
 * (measured; test/bench/results/durable-steps-100k-skiptime.json measured one hop at 20.3 ms
 * against 0.007 ms). What skipTime skips are durable waits and retry delays, which are
 * setTimeout and Date (the runner advances them with `fakeClock.tick`), so those stay fake.
 */
export const setupSkipTime = async (runner: { setupTestEnvironment(p: { skipTime: boolean }): Promise<unknown> }): Promise<void> => {
  const real = { nextTick: process.nextTick, jobs: JOB_METHODS.map((m) => [m, globalThis[m]] as const), timers: (['setImmediate', 'clearImmediate'] as const).map((m) => [m, timers[m]] as const) };
  await runner.setupTestEnvironment({ skipTime: true });
  process.nextTick = real.nextTick;
  for (const [m, fn] of real.jobs) Object.assign(globalThis, { [m]: fn });
  for (const [m, fn] of real.timers) Object.assign(timers, { [m]: fn });
};
