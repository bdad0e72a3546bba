/**
 * Await Job outcome: waits for the issuance Job to finish and reads its outcome (the termination message
 * the `jobs/` program writes). `succeeded` drives the "Job succeeded?" gateway.
 */
import type { LifecycleTask } from './services.ts';
import type { LaunchResult } from './launch-issuance-job.ts';

/** The `awaitJobOutcome` implementation. */
export const awaitJobOutcome: LifecycleTask = async ({ services, output, run }) => {
  const launched = output.launchIssuanceJob as LaunchResult | undefined;
  if (launched === undefined) {
    throw new Error(
      'no Job to await: "Launch issuance Job" must run before "Await Job outcome" in the diagram',
    );
  }
  return services.cluster.awaitJob(services.config.namespace, launched.jobName, run.signal);
};
