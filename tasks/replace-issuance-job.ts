/**
 * Replace issuance Job: the Job of the certificate's current need has finished, yet the certificate still
 * needs issuance (the Job succeeded and its certificate went missing or bad since; or it failed and its
 * retry is due). It is deleted and launched anew under its name, carrying the count of failures in a row,
 * so the next failure backs off longer.
 */
import type { FoundJob } from './find-issuance-job.ts';
import { jobObjects } from './issuance-job.ts';
import type { LifecycleTask } from './services.ts';

/** The `replaceIssuanceJob` implementation. */
export const replaceIssuanceJob: LifecycleTask = async ({ token, services, output, log }) => {
  const found = output.findIssuanceJob as FoundJob;
  await services.cluster.replaceIssuance(jobObjects(token, output, services, found.failures));
  log.info(
    { job: `${services.config.namespace}/${found.jobName}`, hosts: token.hosts, failures: found.failures },
    found.failures === 0
      ? 'issuance Job replaced (it had succeeded)'
      : `issuance Job replaced: attempt ${found.failures + 1}`,
  );
  return { jobName: found.jobName, replaced: true };
};
