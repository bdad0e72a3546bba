/**
 * Inspect certificate: reads the entry's Secret and runs the policy chain (src/certificate/policy.ts).
 * The result's `valid` drives the "Certificate valid?" gateway; `reason` and `message` say why not.
 */
import { inspectCertificate as runPolicy } from '../src/certificate/policy.ts';
import type { LifecycleTask } from './services.ts';

/** The `inspectCertificate` implementation. */
export const inspectCertificate: LifecycleTask = async ({ token, services, log }) => {
  const secret = await services.cluster.readTlsSecret(token.namespace, token.secretName);
  const verdict = runPolicy({
    secret,
    hosts: token.hosts,
    now: services.now(),
    minimumValidityMs: services.config.minimumValidityMs,
  });
  if (!verdict.valid) log.info({ reason: verdict.reason }, `certificate needs issuance: ${verdict.message}`);
  return verdict;
};
