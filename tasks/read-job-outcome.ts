/**
 * Read Job outcome: the first task of a "Job finished" run, started by the Job watch when an issuance Job
 * ends (no run waits for a Job). Reads the outcome the `jobs/` program wrote to its pod's termination
 * message (else the Job's condition); `succeeded` drives the "Job succeeded?" gateway.
 */
import type { LifecycleTask } from './services.ts';

/** The `readJobOutcome` implementation. */
export const readJobOutcome: LifecycleTask = async ({ token, services }) => {
  if (token.job === undefined) {
    throw new Error('no Job to read: "Read Job outcome" runs only from the "Job finished" start event');
  }
  return services.cluster.readJobOutcome(services.config.namespace, token.job);
};
