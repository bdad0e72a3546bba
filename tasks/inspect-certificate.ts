/**
 * Inspect certificate: reads the entry's Secret and runs the policy chain (src/certificate/policy.ts)
 * against the settings a certificate issued now would have. The result's `foreign` and `valid` drive the
 * "Certificate valid?" gateway; `reason` and `message` say why not.
 *
 * The Secret is taken from the Secret watch's cache when it has it (src/kube/secret-cache.ts): a valid
 * certificate costs the API server nothing. Any other verdict is checked against a fresh read before it
 * counts, so a cache a moment behind a write (the Job's new certificate) never launches a Job.
 */
import type { TlsSecret } from '../src/certificate/secret.ts';
import { inspectCertificate as runPolicy, issuanceSettingsOf } from '../src/certificate/policy.ts';
import type { LifecycleTask } from './services.ts';

/** The `inspectCertificate` implementation. */
export const inspectCertificate: LifecycleTask = async ({ token, services, log }) => {
  const { config } = services;
  const now = services.now();
  const inspect = (secret: TlsSecret | undefined) =>
    runPolicy({
      secret,
      ingressName: token.ingress.name,
      hosts: token.hosts,
      settings: issuanceSettingsOf(config),
      now,
      minimumValidityMs: config.minimumValidityMs,
      // The CA's window as last known, without asking: "Check renewal window" asks, when it is time.
      caRenewalTime: (certificateId) => services.renewalInfo?.known(certificateId, now)?.renewAt,
    });
  const cached = services.secretCache?.get(token.namespace, token.secretName);
  let verdict = cached === undefined ? undefined : inspect(cached);
  if (verdict === undefined || !verdict.valid) {
    verdict = inspect(await services.cluster.readTlsSecret(token.namespace, token.secretName));
  }
  if (verdict.valid && verdict.notBefore !== undefined && now < verdict.notBefore) {
    // Not a reason to reissue: with this clock behind the CA's, every new certificate would look the same.
    log.debug(
      { notBefore: new Date(verdict.notBefore).toISOString() },
      'certificate not valid yet by this clock (clock skew?); kept',
    );
  }
  if (!verdict.valid && !verdict.foreign) {
    log.info({ reason: verdict.reason }, `certificate needs issuance: ${verdict.message}`);
  }
  return verdict;
};
