/**
 * Schedule retry: the certificate's last issuance failed and its back-off has not run out. Nothing is
 * launched; the log line names the next attempt, and the host sends "Retry due" then (its `retryAt`).
 * The Warning Event with the next attempt was recorded with the failure ("Record failure").
 */
import type { FoundJob } from './find-issuance-job.ts';
import type { LifecycleTask } from './services.ts';

/** Result of {@link scheduleRetry}. */
export interface ScheduledRetry {
  /** When the next attempt may start (RFC 3339). */
  retryAt: string;
  failures: number;
}

/** The `scheduleRetry` implementation. */
export const scheduleRetry: LifecycleTask = ({ token, output, log }): ScheduledRetry => {
  const found = output.findIssuanceJob as FoundJob;
  const retryAt = found.retryAt ?? new Date().toISOString();
  log.info(
    { secret: token.key, failures: found.failures, retryAt, job: found.jobName },
    `issuance failed ${found.failures} time(s) in a row: next attempt at ${retryAt}`,
  );
  return { retryAt, failures: found.failures };
};
