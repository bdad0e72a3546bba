/**
 * Launch issuance Job: creates the Job (and its solver Service and Ingress) that issues the certificate.
 * The name is deterministic, so launching again for the same need adopts the existing Job.
 */
import type { PolicyVerdict } from '../src/certificate/policy.ts';
import { issuanceJobName, issuanceObjects } from '../src/issuance/job-objects.ts';
import type { LifecycleTask } from './services.ts';

/** Result of {@link launchIssuanceJob}. */
export interface LaunchResult {
  jobName: string;
  adopted: boolean;
}

/** The `launchIssuanceJob` implementation. */
export const launchIssuanceJob: LifecycleTask = async ({
  token,
  services,
  output,
  log,
}): Promise<LaunchResult> => {
  const verdict = output.inspectCertificate as PolicyVerdict | undefined;
  const jobName = issuanceJobName(token, verdict?.fingerprint);
  const { adopted } = await services.cluster.launchIssuance(issuanceObjects(token, jobName, services.config));
  log.info(
    { job: `${services.config.namespace}/${jobName}`, hosts: token.hosts, adopted },
    adopted ? 'issuance Job already running: adopted' : 'issuance Job launched',
  );
  return { jobName, adopted };
};
