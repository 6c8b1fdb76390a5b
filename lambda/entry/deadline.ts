import type { TimeBound } from '../backup/copy-page.ts';
import { ConfigError } from '../core/errors.ts';

/**
 * The durable execution's deadline. Lambda ends a durable execution when its execution timeout
 * (durableConfig.executionTimeout, 23 hours here by default) has passed since it started; a run
 * cut off there never reaches its finish step: no report, and its lease held into the next night,
 * which is then skipped. So the function is told the timeout (EXECUTION_TIMEOUT_SECONDS, set by the
 * stack) and stops ahead of it: no copy starts that would not end before the stop point, the
 * copies in flight are cut off there (nothing half-written is stored), what finished is recorded,
 * and the run finishes — report written (`stoppedAtDeadline`), lease released — leaving the rest
 * for the next night.
 *
 * Every decision taken from the deadline is taken inside a step and returned in its checkpointed
 * result (the stop point itself is the result of the execution's first step), so a replay takes
 * the same path (DESIGN: every decision that changes the sequence of durable operations comes
 * from a checkpointed step result).
 */

/**
 * How long before the execution timeout the run stops copying: one whole invocation (15 minutes)
 * for the finish step after a possible yield, and 5 minutes for the finish itself.
 */
export const DEADLINE_MARGIN_MS = 20 * 60_000;

/**
 * The stop point (epoch ms) of an execution that started at `startedAtMs`, or null when the
 * environment names no timeout (a function deployed by an older stack: no deadline is known).
 * Throws a ConfigError for a value that is not a whole number of seconds.
 */
export const stopPointOf = (env: NodeJS.ProcessEnv, startedAtMs: number, marginMs = DEADLINE_MARGIN_MS): number | null => {
  const raw = env.EXECUTION_TIMEOUT_SECONDS?.trim();
  if (raw === undefined || raw === '') return null;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds <= 0) {
    throw new ConfigError(`EXECUTION_TIMEOUT_SECONDS must be a whole number of seconds (got "${raw}"); redeploy the stack (npx cdk deploy).`);
  }
  // A timeout shorter than twice the margin still leaves half of it for copies.
  return startedAtMs + seconds * 1000 - Math.min(marginMs, (seconds * 1000) / 2);
};

/**
 * A step's time bound with the deadline in it: the time left is the invocation's or the time to
 * the stop point, whichever is less. When the stop point comes first, the step's first copy is
 * not forced in (`fresh`): a later invocation would have no more time before the deadline either.
 */
export const boundedBy = (bound: TimeBound, stopAt: number | null, now: () => number = Date.now): TimeBound => {
  if (stopAt === null) return bound;
  const untilStop = (): number => stopAt - now();
  return {
    ...bound,
    timeLeft: () => Math.min(bound.timeLeft(), untilStop()),
    fresh: (bound.fresh ?? false) && untilStop() > bound.timeLeft(),
  };
};

/**
 * Whether the run must stop taking work now: less than `startMarginMs` (the margin a copy needs
 * to start at all) is left before the stop point.
 */
export const deadlineReached = (stopAt: number | null, startMarginMs: number, now: number = Date.now()): boolean =>
  stopAt !== null && stopAt - now < startMarginMs;

/** Whether a wait until `untilMs` (on the deadline's clock) would end past the point where a copy may still start. */
export const waitPassesDeadline = (stopAt: number | null, untilMs: number, startMarginMs: number): boolean =>
  stopAt !== null && untilMs > stopAt - startMarginMs;
