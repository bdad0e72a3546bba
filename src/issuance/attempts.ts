/**
 * A certificate's issuance attempts, as its issuance Job records them: how many attempts failed in a row,
 * when the next one may start, whether the outcome was recorded. The Job is where this state lives, in the
 * cluster, so an operator restart neither forgets a back-off nor retries at once against the CA. Pure:
 * Jobs and times in, decisions out.
 *
 * - A Job is created with `kube-lego.io/previous-failures`: the failures in a row before it (0 after a
 *   success, or for a new need: new hosts name a new Job, so a changed Ingress starts afresh).
 * - "Record failure" adds `kube-lego.io/failures` (previous + 1) and `kube-lego.io/retry-at`, and keeps the
 *   Job until then; "Record issuance" or "Record failure" sets `kube-lego.io/outcome-recorded`, so a
 *   restart does not record the outcome again.
 * - The next attempt replaces the failed Job once `retry-at` has passed, carrying its failure count.
 */
import type { V1Job } from '@kubernetes/client-node';

/** Consecutive failed attempts before this Job (a count). */
export const PREVIOUS_FAILURES_ANNOTATION = 'kube-lego.io/previous-failures';
/** Consecutive failed attempts including this Job, once its failure is recorded. */
export const FAILURES_ANNOTATION = 'kube-lego.io/failures';
/** When the next attempt may start (RFC 3339), once this Job's failure is recorded. */
export const RETRY_AT_ANNOTATION = 'kube-lego.io/retry-at';
/** The recorded outcome's reason, once "Record issuance" or "Record failure" recorded it. */
export const OUTCOME_RECORDED_ANNOTATION = 'kube-lego.io/outcome-recorded';

/** The longest wait a CA's `Retry-After` is honoured for: a broken header cannot stop issuance for good. */
export const MAX_CA_RETRY_AFTER_MS = 7 * 86_400_000;

/** The back-off between failed attempts: `LEGO_RETRY_INITIAL_INTERVAL` doubling up to `LEGO_RETRY_MAX_INTERVAL`. */
export interface RetrySettings {
  initialIntervalMs: number;
  maxIntervalMs: number;
}

/** The wait after `failures` failures in a row (at least 1): the initial interval, doubled each time, capped. */
export function retryDelayMs(failures: number, settings: RetrySettings): number {
  const doublings = Math.min(Math.max(failures, 1) - 1, 40);
  return Math.min(settings.maxIntervalMs, settings.initialIntervalMs * 2 ** doublings);
}

/**
 * When the next attempt may start after a failure at `failedAt`, the `failures`-th in a row: the back-off,
 * or the time the CA asked for (`Retry-After` with a rate limit or an outage) when that is later, up to
 * {@link MAX_CA_RETRY_AFTER_MS}.
 */
export function nextAttemptAt(
  failedAt: number,
  failures: number,
  settings: RetrySettings,
  caRetryAt?: number,
): number {
  const backedOff = failedAt + retryDelayMs(failures, settings);
  if (caRetryAt === undefined) return backedOff;
  return Math.max(backedOff, Math.min(caRetryAt, failedAt + MAX_CA_RETRY_AFTER_MS));
}

/** An issuance Job as the attempts see it. */
export interface IssuanceJob {
  name: string;
  uid: string;
  /** When it ended, and how (its Complete or Failed condition); undefined while it runs. */
  finished?: { succeeded: boolean; at: number };
  /** Failures in a row before this Job. */
  previousFailures: number;
  /** Failures in a row including this one, once recorded. */
  failures?: number;
  /** When the next attempt may start, once this Job's failure is recorded. */
  retryAt?: number;
  /** The recorded outcome's reason, once recorded. */
  outcomeRecorded?: string;
}

/** A non-negative integer annotation, else 0. */
function count(value: string | undefined): number {
  const parsed = Number(value);
  return Number.isInteger(parsed) && parsed >= 0 ? parsed : 0;
}

/** Reads a Job's attempt record. */
export function readIssuanceJob(job: V1Job): IssuanceJob {
  const annotations = job.metadata?.annotations ?? {};
  const done = (job.status?.conditions ?? []).find(
    (condition) =>
      (condition.type === 'Complete' || condition.type === 'Failed') && condition.status === 'True',
  );
  const endedAt =
    done === undefined
      ? undefined
      : (done.lastTransitionTime ?? job.status?.completionTime ?? job.metadata?.creationTimestamp);
  const retryAt = Date.parse(annotations[RETRY_AT_ANNOTATION] ?? '');
  const failures = annotations[FAILURES_ANNOTATION];
  const recorded = annotations[OUTCOME_RECORDED_ANNOTATION];
  return {
    name: job.metadata?.name ?? '',
    uid: job.metadata?.uid ?? '',
    ...(done !== undefined && {
      finished: {
        succeeded: done.type === 'Complete',
        at: endedAt === undefined ? 0 : new Date(endedAt).getTime(),
      },
    }),
    previousFailures: count(annotations[PREVIOUS_FAILURES_ANNOTATION]),
    ...(failures !== undefined && { failures: count(failures) }),
    ...(!Number.isNaN(retryAt) && { retryAt }),
    ...(recorded !== undefined && { outcomeRecorded: recorded }),
  };
}

/**
 * What the Job of the certificate's current need means when the certificate needs issuance:
 * - `none`: there is no such Job: launch one;
 * - `running`: it runs: wait for it (its end starts a "Job finished" run);
 * - `backingOff`: it failed and the next attempt is not due yet;
 * - `stale`: it succeeded (yet the certificate is missing or bad again), or it failed and the retry is
 *   due: replace it, carrying `failures` (0 after a success).
 */
export type JobStanding =
  | { state: 'none' }
  | { state: 'running' }
  | { state: 'backingOff'; retryAt: number; failures: number }
  | { state: 'stale'; failures: number };

/**
 * The standing of `job` at `now`. A failure not yet recorded (the operator restarted before "Record
 * failure") backs off from the Job's end as if it were.
 */
export function jobStanding(job: IssuanceJob | undefined, now: number, settings: RetrySettings): JobStanding {
  if (job === undefined) return { state: 'none' };
  if (job.finished === undefined) return { state: 'running' };
  if (job.finished.succeeded) return { state: 'stale', failures: 0 };
  const failures = job.failures ?? job.previousFailures + 1;
  const retryAt = job.retryAt ?? nextAttemptAt(job.finished.at, failures, settings);
  return now < retryAt ? { state: 'backingOff', retryAt, failures } : { state: 'stale', failures };
}
