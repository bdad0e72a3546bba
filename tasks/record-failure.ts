/**
 * Record failure: for a Job that failed or a task that raised an error (the diagram's error boundaries lead
 * here). It decides when the certificate is tried next, with exponential back-off (src/issuance/
 * attempts.ts): `LEGO_RETRY_INITIAL_INTERVAL` doubling per failure in a row up to `LEGO_RETRY_MAX_INTERVAL`,
 * or later when the CA asked for it (`Retry-After`). A failed Job gets the record (failures in a row, retry
 * time, outcome recorded) and is kept until its retry is due, so a restart holds the back-off; its solver
 * objects are deleted at once. A warning log line and a Warning Event on the Ingress name the reason and
 * the next attempt; the host sends "Retry due" then (`retryAt`).
 */
import {
  FAILURES_ANNOTATION,
  nextAttemptAt,
  OUTCOME_RECORDED_ANNOTATION,
  RETRY_AT_ANNOTATION,
} from '../src/issuance/attempts.ts';
import type { IssuanceOutcome } from '../src/issuance/job-contract.ts';
import type { RecordedError } from '../src/process/runner.ts';
import { ingressRef, retrySettings, type LifecycleTask } from './services.ts';

/** The reason and message of the failure that led here, and the time the CA asked to retry at, if any. */
export function describeFailure(output: Readonly<Record<string, unknown>>): {
  reason: string;
  message: string;
  caRetryAt?: number;
} {
  const error = output.error as RecordedError | undefined;
  if (error !== undefined)
    return { reason: 'IssuanceError', message: `${error.activityName}: ${error.message}` };
  const outcome = output.readJobOutcome as IssuanceOutcome | undefined;
  if (outcome !== undefined) {
    const caRetryAt = Date.parse(outcome.retryAt ?? '');
    return {
      reason: outcome.reason,
      message: outcome.message,
      ...(!Number.isNaN(caRetryAt) && { caRetryAt }),
    };
  }
  return { reason: 'IssuanceFailed', message: 'the issuance failed for an unknown reason' };
}

/** Result of {@link recordFailure}. */
export interface RecordedFailure {
  reason: string;
  message: string;
  /** Failures in a row, this one included. */
  failures: number;
  /** When the next attempt may start (RFC 3339). */
  retryAt: string;
}

/** The `recordFailure` implementation. */
export const recordFailure: LifecycleTask = async ({
  token,
  services,
  output,
  log,
}): Promise<RecordedFailure> => {
  const { reason, message, caRetryAt } = describeFailure(output);
  const { config } = services;
  const now = services.now();
  const failedJob = output.error === undefined ? token.job : undefined;
  const failures =
    failedJob === undefined
      ? (services.taskFailures.get(token.key) ?? 0) + 1
      : (token.previousFailures ?? 0) + 1;
  if (failedJob === undefined) services.taskFailures.set(token.key, failures);
  const failedAt = failedJob === undefined ? now : (token.finishedAt ?? now);
  const retryAt = nextAttemptAt(failedAt, failures, retrySettings(config), caRetryAt);
  const retryAtText = new Date(retryAt).toISOString();
  if (failedJob !== undefined) {
    await services.cluster.closeIssuance(config.namespace, failedJob, {
      annotations: {
        [FAILURES_ANNOTATION]: String(failures),
        [RETRY_AT_ANNOTATION]: retryAtText,
        [OUTCOME_RECORDED_ANNOTATION]: reason,
      },
      // Kept until its retry is due (then replaced), and LEGO_JOB_TTL after that if nothing replaces it.
      keepSeconds: Math.ceil((retryAt - failedAt) / 1000) + config.jobTtlSeconds,
    });
  }
  const next = `next attempt at ${retryAtText} (${failures} failure(s) in a row)`;
  log.warn(
    { reason, hosts: token.hosts, secret: token.key, failures, retryAt: retryAtText },
    `certificate not issued: ${message}; ${next}`,
  );
  await services.cluster.recordEvent(
    ingressRef(token),
    'Warning',
    reason,
    `certificate for Secret ${token.secretName} not issued: ${message}; ${next}`,
  );
  return { reason, message, failures, retryAt: retryAtText };
};
