/**
 * Launch issuance Job: creates the Job (and its solver Service and Ingress) of the certificate's current
 * need, which "Find issuance Job" found not to exist. The name is deterministic, so a Job created meanwhile
 * by another run (another replica, a race) is adopted, not doubled.
 */
import { jobObjects } from './issuance-job.ts';
import type { LifecycleTask } from './services.ts';

/** Result of {@link launchIssuanceJob}. */
export interface LaunchResult {
  jobName: string;
  adopted: boolean;
  /**
   * The adopted Job was still running: what this token found (a Secret deleted after the Job wrote it) may
   * be news to that Job, so the host checks the certificate again once the Job has finished.
   */
  running: boolean;
}

/** The `launchIssuanceJob` implementation. */
export const launchIssuanceJob: LifecycleTask = async ({
  token,
  services,
  output,
  log,
}): Promise<LaunchResult> => {
  const objects = jobObjects(token, output, services, 0);
  const jobName = objects.job.metadata!.name!;
  const { adopted, outcome } = await services.cluster.launchIssuance(objects);
  log.info(
    { job: `${services.config.namespace}/${jobName}`, hosts: token.hosts, adopted },
    adopted ? 'issuance Job created meanwhile: adopted' : 'issuance Job launched',
  );
  return { jobName, adopted, running: adopted && outcome === undefined };
};
