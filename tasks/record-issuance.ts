/** Record issuance: a Normal Event on the Ingress and a log line saying the certificate was written. */
import type { IssuanceOutcome } from '../src/issuance/job-contract.ts';
import { ingressRef, type LifecycleTask } from './services.ts';

/** The `recordIssuance` implementation. */
export const recordIssuance: LifecycleTask = async ({ token, services, output, log }) => {
  const outcome = output.awaitJobOutcome as IssuanceOutcome | undefined;
  const message = `certificate for ${token.hosts.join(', ')} written to Secret ${token.secretName}${outcome?.message ? `: ${outcome.message}` : ''}`;
  log.info({ hosts: token.hosts, secret: token.key }, message);
  await services.cluster.recordEvent(ingressRef(token), 'Normal', 'CertificateIssued', message);
  return { recorded: true };
};
