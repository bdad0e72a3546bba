/**
 * What "Find issuance Job", "Launch issuance Job" and "Replace issuance Job" share: the name of the Job of
 * the certificate's current need, and its manifests, annotated with why it is launched and how many
 * attempts failed in a row before it.
 */
import { PREVIOUS_FAILURES_ANNOTATION } from '../src/issuance/attempts.ts';
import { issuanceJobName, issuanceObjects, type IssuanceObjects } from '../src/issuance/job-objects.ts';
import { REASON_ANNOTATION, REASON_MESSAGE_ANNOTATION } from '../src/kube/job-watch.ts';
import { verdictInForce } from './check-renewal-window.ts';
import type { LifecycleServices, LifecycleToken } from './services.ts';

/** The Job name of the need "Inspect certificate" found. */
export function currentJobName(token: LifecycleToken, output: Readonly<Record<string, unknown>>): string {
  return issuanceJobName(token, verdictInForce(output)?.fingerprint);
}

/** The Job and solver objects to create, carrying the verdict and the failures in a row before this Job. */
export function jobObjects(
  token: LifecycleToken,
  output: Readonly<Record<string, unknown>>,
  services: LifecycleServices,
  previousFailures: number,
): IssuanceObjects {
  const verdict = verdictInForce(output);
  const objects = issuanceObjects(
    token,
    currentJobName(token, output),
    services.config,
    verdict?.certificateId,
  );
  const metadata = objects.job.metadata!;
  metadata.annotations = {
    ...metadata.annotations,
    [PREVIOUS_FAILURES_ANNOTATION]: String(previousFailures),
    // Why it was launched, for "Record issuance" in the "Job finished" run, which does not inspect.
    ...(verdict?.reason !== undefined && {
      [REASON_ANNOTATION]: verdict.reason,
      [REASON_MESSAGE_ANNOTATION]: verdict.message ?? '',
    }),
  };
  return objects;
}
