import { Logger } from '@aws-lambda-powertools/logger';
import type { DurableContext } from '@aws/durable-execution-sdk-js';
import type { S3Client } from '@aws-sdk/client-s3';
import { parseCloudinaryUrl } from '../adapters/cloudinary/config.ts';
import type { GuardedSource } from '../adapters/cloudinary/guard.ts';
import { BackupEngine } from '../backup/engine.ts';
import type { RunReport, RunState } from '../backup/engine.ts';
import type { TimeBound } from '../backup/copy-page.ts';
import { ConfigError, LeaseHeldError, LeaseLostError, messageOf } from '../core/errors.ts';
import type { LeaseHolder } from '../core/errors.ts';
import type { Destination } from '../ports/storage.ts';
import { describeHolder } from '../store/lease.ts';
import { EXECUTION_NAME, executionNameFromArn, progressOf, writeProgress } from '../store/progress.ts';
import { openCloudinary, resolveBudget, s3Target } from './compose.ts';
import { readSettings } from './settings.ts';
import { boundedBy, deadlineReached, waitPassesDeadline } from './deadline.ts';
import type { FunctionSettings } from './settings.ts';

/** Thrown by the wait policy: the page must be listed again after a durable wait. */
export class WaitRequested extends Error {
  override readonly name = 'WaitRequested';
  constructor(readonly until: Date) {
    super(`wait until ${until.toISOString()}`);
  }
}

/** What the nightly run needs from the outside world; tests replace parts of it. */
export interface HandlerDeps {
  readonly env: NodeJS.ProcessEnv;
  /** Reads the CLOUDINARY_URL from Secrets Manager (never logged, never checkpointed). */
  readSecret(secretArn: string): Promise<string>;
  /** The S3 client for the backup bucket (createS3Client with the bucket: its region, found once). */
  s3Client(bucket: string): S3Client;
  /** Called inside the step that decided a rate-limit wait (tests move their clock). */
  onWait?(until: Date): void;
  /** Margins of a step's time bound (see TimeBound); the defaults suit Lambda's 15 minutes. */
  readonly startMarginMs?: number;
  readonly stopMarginMs?: number;
  /** Entries per catalog page (tests make pages small). @default PAGE_ENTRIES */
  readonly catalogPageEntries?: number;
  /** The clock the execution's deadline is measured on (read inside steps only; tests: a work clock). @default Date.now */
  readonly now?: () => number;
}

/** A page step's checkpointed result: the state, and what the orchestration does next. */
export interface PageOutcome {
  readonly state: RunState;
  /** Wait this long for Cloudinary's rate-limit window, then list the same page again. */
  readonly waitSeconds?: number;
  /** End this invocation (its time is nearly spent); the next one continues. */
  readonly yieldNow?: boolean;
  /** The execution's deadline is near (deadline.ts): take no more work, finish the run (after yieldNow's wait). */
  readonly deadline?: boolean;
}

/** What the execution returns: the report's figures and a few failures (the report in S3 has all). */
export type RunSummary = RunReport;

/** What a run that found another run's lease returns. */
export interface RunSkipped {
  readonly skipped: true;
  readonly heldBy: LeaseHolder;
}

const SUMMARY_FAILURES = 20;

/** The report, bounded for a checkpoint: at most 20 failures, each cut to 500 characters. */
const summarize = (report: RunReport): RunSummary => ({
  ...report,
  failures: report.failures.slice(0, SUMMARY_FAILURES).map((f) => ({ ...f, publicId: f.publicId.slice(0, 300), error: f.error.slice(0, 500) })),
});

const emptySecretHelp = (arn: string): string =>
  `The secret ${arn} does not hold a valid CLOUDINARY_URL. Put it there with: npx cloudinary-backup setup, or ` +
  `aws secretsmanager put-secret-value --secret-id ${arn} --secret-string 'cloudinary://API_KEY:API_SECRET@CLOUD_NAME'`;

/** The execution name `cloudinary-backup run` puts in the event, when it is a valid one. */
const nameIn = (event: unknown): string | undefined => {
  const name = (event as { executionName?: unknown } | null)?.executionName;
  return typeof name === 'string' && EXECUTION_NAME.test(name) ? name : undefined;
};

interface Built {
  readonly engine: BackupEngine;
  readonly source: GuardedSource;
  readonly destination: Destination;
  readonly settings: FunctionSettings;
}

/**
 * The bodies of the nightly run's durable steps, for one invocation. The engine is built inside
 * the first step that needs it (so a configuration failure is that step's error) and kept for
 * the invocation; every method here runs inside a step, so what it reads (time, clocks, S3) is
 * checkpointed through its result.
 */
export class NightlyRun {
  readonly logger: Logger;
  private built: Promise<Built> | undefined;
  private readonly bound: TimeBound;
  private readonly execution: string | undefined;
  private lastProgress: number | undefined;
  /** Page steps run (not replayed) in this invocation: the first one may start a copy that cannot fit. */
  private pagesRun = 0;

  constructor(
    private readonly deps: HandlerDeps,
    context: DurableContext,
    event: unknown,
  ) {
    this.logger = new Logger({ serviceName: deps.env.POWERTOOLS_SERVICE_NAME ?? 'cloudinary-backup' });
    this.bound = {
      timeLeft: () => context.lambdaContext.getRemainingTimeInMillis(),
      ...(deps.startMarginMs === undefined ? {} : { startMarginMs: deps.startMarginMs }),
      ...(deps.stopMarginMs === undefined ? {} : { stopMarginMs: deps.stopMarginMs }),
    };
    this.execution = executionNameFromArn(context.executionContext.durableExecutionArn) ?? nameIn(event);
  }

  private ready(): Promise<Built> {
    return (this.built ??= this.build());
  }

  private async build(): Promise<Built> {
    const settings = readSettings(this.deps.env);
    const secret = await this.deps.readSecret(settings.secretArn);
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
    const { destination } = s3Target(this.deps.s3Client(settings.bucketName), settings.bucketName, settings.prefix, settings.sse ? { sse: settings.sse } : {});
    const engine = new BackupEngine(cloud.source, destination, {
      prefix: settings.prefix,
      resourceTypes: settings.resourceTypes,
      concurrency: settings.concurrency,
      diff: 'list',
      dryRun: false,
      prune: settings.prune,
      maxPrune: settings.maxPrune,
      ...(settings.historyDays === undefined ? {} : { historyDays: settings.historyDays, historyDaysExplicit: true }),
      holder: `${describeHolder('nightly backup', this.deps.env)}${this.execution ? ` execution ${this.execution}` : ''}`,
      // A start step tried again finds the lease its own first try took: the same execution's.
      leaseReclaimable: this.execution !== undefined,
      ...(this.deps.catalogPageEntries === undefined ? {} : { catalogPageEntries: this.deps.catalogPageEntries }),
    });
    return { engine, source: cloud.source, destination, settings };
  }

  /**
   * Writes the progress object for `run --follow` (best effort: a failure is logged, not thrown):
   * at most every 30 seconds between pages (one S3 request per 500 assets would be most of a
   * no-change night's requests), always before a wait and at the end.
   */
  private async progress(st: RunState, extra: Parameters<typeof progressOf>[3] = {}): Promise<void> {
    if (!this.execution) return;
    const now = Date.now();
    if (extra.waitingUntil === undefined && !extra.finished && this.lastProgress !== undefined && now - this.lastProgress < 30_000) return;
    this.lastProgress = now;
    const { destination, settings } = await this.ready();
    await writeProgress(destination, settings.prefix, progressOf(this.execution, st.steps, st, extra)).catch((err: unknown) =>
      this.logger.warn('could not write the progress object', { error: messageOf(err) }),
    );
  }

  /**
   * The `start` step: the budget, the lease and a new run state; or who holds the lease; or how
   * long to wait when `GET /usage` met the Admin API reserve or a 420/429 (nothing taken yet).
   */
  async start(): Promise<{ state: RunState } | RunSkipped | { waitSeconds: number }> {
    const { engine, source, settings, destination } = await this.ready();
    let budget;
    try {
      // Downloads of earlier runs since the usage snapshot (their reports) are subtracted.
      budget = await resolveBudget(source, settings.maxBytesPerRun, settings.creditCeiling, { destination, prefix: settings.prefix });
    } catch (err) {
      if (!(err instanceof WaitRequested)) throw err;
      this.deps.onWait?.(err.until);
      return { waitSeconds: Math.max(1, Math.ceil((err.until.getTime() - Date.now()) / 1000)) };
    }
    try {
      const opened = await engine.start();
      const state: RunState = { ...opened, ...(budget.maxBytes === undefined ? {} : { maxBytes: budget.maxBytes }), ...(budget.quota ? { quota: budget.quota } : {}) };
      await this.progress(state);
      return { state };
    } catch (err) {
      if (err instanceof LeaseHeldError) return { skipped: true, heldBy: err.by };
      throw err;
    }
  }

  /**
   * A `page-n` step: listing pages without a barrier (the next listed while earlier copies drain,
   * see backup/pipeline.ts), until the open pages fill a catalog page (~20 listing pages: one
   * catalog write, or none when the page is unchanged), the listing ends, a copy does not fit in
   * the invocation's time, or the time runs low; then whether to wait or end the invocation. The
   * step's last act is to write the entries of the catalog page still open, so its checkpoint
   * counts only entries in S3 (CatalogPages.persist), and it records only finished work: the
   * first unfinished page keeps the cursor (docs/architecture.md, "The run state").
   */
  async page(current: RunState, stopAt: number | null = null): Promise<PageOutcome> {
    const { engine } = await this.ready();
    const startMargin = this.deps.startMarginMs ?? 120_000;
    const now = this.deps.now ?? Date.now;
    if (deadlineReached(stopAt, startMargin, now())) return { state: { ...current, stoppedAtDeadline: true }, deadline: true };
    let state = current;
    let progress = Promise.resolve();
    const onState = (s: RunState): void => {
      state = s;
      progress = progress.then(() => this.progress(s));
    };
    try {
      const fresh = this.pagesRun++ === 0;
      state = await engine.step(current, boundedBy({ ...this.bound, fresh }, stopAt, now), { pages: Infinity, untilCatalogPage: true, onState });
      await progress;
      const low = this.bound.timeLeft() < startMargin;
      const recorded = await engine.persist(state);
      const yieldNow = recorded.page !== undefined || (!recorded.listingComplete && low);
      if (!recorded.listingComplete && deadlineReached(stopAt, startMargin, now())) return { state: { ...recorded, stoppedAtDeadline: true }, deadline: true, yieldNow: low };
      return { state: recorded, yieldNow };
    } catch (err) {
      await progress;
      // The copies that ended are recorded whatever the step's fate (see CopyRecord); best effort:
      // the step's own error is the one to report.
      await engine.flushCopies().catch(() => undefined);
      // Another run holds the lease: it writes its catalog pages into the slots this run would.
      if (err instanceof LeaseLostError) throw err;
      // The listing pages before the one that failed or must wait are done: recorded, they are
      // not listed (nor copied) again; the next step meets the error or the wait on its own page.
      const done = state === current ? current : await engine.persist(state);
      if (!(err instanceof WaitRequested)) {
        if (done === current) throw err;
        return { state: done };
      }
      // A wait that would end past the deadline: the run ends now instead, and the next night goes on.
      if (waitPassesDeadline(stopAt, err.until.getTime() - Date.now() + now(), startMargin)) return { state: { ...done, stoppedAtDeadline: true }, deadline: true };
      this.deps.onWait?.(err.until);
      await this.progress(done, { waitingUntil: err.until });
      return { state: done, waitSeconds: Math.max(1, Math.ceil((err.until.getTime() - Date.now()) / 1000)) };
    }
  }

  /** After a durable rate-limit wait: the guard's figures are from before the reset. */
  async windowPassed(): Promise<void> {
    if (this.built) (await this.built).source.windowPassed();
  }

  /**
   * The step after a page step failed for good: the report of what was done (an incomplete
   * listing: nothing pruned, the catalog kept) and the lease released, so the next night is not
   * blocked. Best effort: the execution fails with the original error either way.
   */
  async finishFailed(final: RunState, error: string): Promise<void> {
    try {
      await (await this.ready()).engine.finish(final);
    } catch (err) {
      this.logger.warn('the failed run could not write its report or release its lease', { error: messageOf(err) });
    }
    await this.progress(final, { finished: true, error });
  }

  /** The `finish` step: the report (bounded for the checkpoint; the one in S3 has every failure). */
  async finish(final: RunState): Promise<RunSummary> {
    const report = await (await this.ready()).engine.finish(final);
    await this.progress(final, { finished: true });
    return summarize(report);
  }
}
