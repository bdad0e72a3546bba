/**
 * Record issuance: marks the Job's outcome recorded (so a restart does not record it again), deletes its
 * solver objects at once, and writes a Normal Event on the Ingress and a log line saying the certificate
 * was written, and why it was issued (the reason "Inspect certificate" found, such as `RenewalDue` or
 * `IssuerChanged`, which the Job carries to the "Job finished" run as annotations).
 */
import { OUTCOME_RECORDED_ANNOTATION } from '../src/issuance/attempts.ts';
import type { IssuanceOutcome } from '../src/issuance/job-contract.ts';
import { verdictInForce } from './check-renewal-window.ts';
import { ingressRef, type LifecycleTask } from './services.ts';

/** The `recordIssuance` implementation. */
export const recordIssuance: LifecycleTask = async ({ token, services, output, log }) => {
  const verdict = verdictInForce(output) ?? token.launchedBecause;
  const outcome = output.readJobOutcome as IssuanceOutcome | undefined;
  if (token.job !== undefined) {
    await services.cluster.closeIssuance(services.config.namespace, token.job, {
      annotations: { [OUTCOME_RECORDED_ANNOTATION]: outcome?.reason ?? 'Issued' },
    });
  }
  const why = verdict === undefined ? '' : ` (${verdict.reason}: ${verdict.message})`;
  const message = `certificate for ${token.hosts.join(', ')} written to Secret ${token.secretName}${why}${outcome?.message ? `: ${outcome.message}` : ''}`;
  log.info({ hosts: token.hosts, secret: token.key, reason: verdict?.reason }, message);
  await services.cluster.recordEvent(ingressRef(token), 'Normal', 'CertificateIssued', message);
  return { recorded: true };
};
