/**
 * Adopt issuance Job: the Job of the certificate's current need runs, so nothing is launched; its solver
 * Service and Ingress are made sure of, since a launch cut short between creating the Job and them (an
 * operator restart, a leader failover) would leave the Job without a route for the CA to reach it.
 */
import type { FoundJob } from './find-issuance-job.ts';
import { jobObjects } from './issuance-job.ts';
import type { LaunchResult } from './launch-issuance-job.ts';
import type { LifecycleTask } from './services.ts';

/** The `adoptIssuanceJob` implementation. */
export const adoptIssuanceJob: LifecycleTask = async ({
  token,
  services,
  output,
  log,
}): Promise<LaunchResult> => {
  const found = output.findIssuanceJob as FoundJob;
  // Idempotent: the Job exists (409, adopted); solver objects that exist are kept, missing ones created.
  const { outcome } = await services.cluster.launchIssuance(jobObjects(token, output, services, 0));
  log.info(
    { job: `${services.config.namespace}/${found.jobName}`, hosts: token.hosts },
    'issuance Job running: adopted, its solver objects ensured',
  );
  return { jobName: found.jobName, adopted: true, running: outcome === undefined };
};
