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
