/**
 * Launch issuance Job: creates the Job (and its solver Service and Ingress) that issues the certificate.
 * The name is deterministic, so launching again for the same need adopts the existing Job, unless that Job
 * already succeeded: then it is stale and replaced.
 */
import type { PolicyVerdict } from '../src/certificate/policy.ts';
import { issuanceJobName, issuanceObjects } from '../src/issuance/job-objects.ts';
import { REASON_ANNOTATION, REASON_MESSAGE_ANNOTATION } from '../src/kube/job-watch.ts';
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
  const verdict = output.inspectCertificate as PolicyVerdict | undefined;
  const jobName = issuanceJobName(token, verdict?.fingerprint);
  const objects = () => {
    const built = issuanceObjects(token, jobName, services.config);
    // Why it was launched, for "Record issuance" in the "Job finished" run, which does not inspect.
    if (verdict?.reason !== undefined) {
      built.job.metadata!.annotations = {
        ...built.job.metadata!.annotations,
        [REASON_ANNOTATION]: verdict.reason,
        [REASON_MESSAGE_ANNOTATION]: verdict.message ?? '',
      };
    }
    return built;
  };
  let { adopted, outcome } = await services.cluster.launchIssuance(objects());
  if (adopted && outcome?.succeeded === true) {
    // The Job already succeeded, yet the certificate it wrote was just found missing or bad (Secret deleted,
    // garbage written over it): its old success must not be reported again. A failed Job is adopted: kept
    // for LEGO_JOB_TTL, its failure spaces retries out.
    await services.cluster.replaceIssuance(objects());
    adopted = false;
    outcome = undefined;
  }
  log.info(
    { job: `${services.config.namespace}/${jobName}`, hosts: token.hosts, adopted },
    adopted ? 'issuance Job already running: adopted' : 'issuance Job launched',
  );
  return { jobName, adopted, running: adopted && outcome === undefined };
};
