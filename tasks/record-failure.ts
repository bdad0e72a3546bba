/**
 * Record failure: a Warning Event on the Ingress and a warning log line with the reason, for a Job that
 * failed or a task that raised an error (the diagram's error boundaries lead here). The next periodic
 * check retries; a failed Job is kept for LEGO_JOB_TTL, which spaces the retries out.
 */
import type { IssuanceOutcome } from '../src/issuance/job-contract.ts';
import type { RecordedError } from '../src/process/runner.ts';
import { ingressRef, type LifecycleTask } from './services.ts';

/** The reason and message of the failure that led here. */
export function describeFailure(output: Readonly<Record<string, unknown>>): {
  reason: string;
  message: string;
} {
  const error = output.error as RecordedError | undefined;
  if (error !== undefined)
    return { reason: 'IssuanceError', message: `${error.activityName}: ${error.message}` };
  const outcome = output.readJobOutcome as IssuanceOutcome | undefined;
  if (outcome !== undefined) return { reason: outcome.reason, message: outcome.message };
  return { reason: 'IssuanceFailed', message: 'the issuance failed for an unknown reason' };
}

/** The `recordFailure` implementation. */
export const recordFailure: LifecycleTask = async ({ token, services, output, log }) => {
  const { reason, message } = describeFailure(output);
  log.warn({ reason, hosts: token.hosts, secret: token.key }, `certificate not issued: ${message}`);
  await services.cluster.recordEvent(
    ingressRef(token),
    'Warning',
    reason,
    `certificate for Secret ${token.secretName} not issued: ${message}`,
  );
  return { reason, message };
};
