/**
 * Find issuance Job: reads the Job of the certificate's current need and what it means (src/issuance/
 * attempts.ts): none, running, failed with its retry not due (backing off), or finished and stale. The
 * booleans drive the "Issuance Job?" gateway.
 */
import { jobStanding } from '../src/issuance/attempts.ts';
import { currentJobName } from './issuance-job.ts';
import { retrySettings, type LifecycleTask } from './services.ts';

/** Result of {@link findIssuanceJob}. */
export interface FoundJob {
  jobName: string;
  running: boolean;
  backingOff: boolean;
  stale: boolean;
  /** Failures in a row so far (a failed Job's count; 0 otherwise). */
  failures: number;
  /** When backing off: when the next attempt may start (RFC 3339). */
  retryAt?: string;
}

/** The `findIssuanceJob` implementation. */
export const findIssuanceJob: LifecycleTask = async ({ token, services, output }): Promise<FoundJob> => {
  const jobName = currentJobName(token, output);
  const job = await services.cluster.findIssuanceJob(services.config.namespace, jobName);
  const standing = jobStanding(job, services.now(), retrySettings(services.config));
  return {
    jobName,
    running: standing.state === 'running',
    backingOff: standing.state === 'backingOff',
    stale: standing.state === 'stale',
    failures: standing.state === 'backingOff' || standing.state === 'stale' ? standing.failures : 0,
    ...(standing.state === 'backingOff' && { retryAt: new Date(standing.retryAt).toISOString() }),
  };
};
