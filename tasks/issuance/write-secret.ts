/**
 * Write Secret: the certificate and key into the entry's `kubernetes.io/tls` Secret, owned by the Ingress;
 * nothing is written when the Ingress was deleted or replaced since the last Check Ingress: the writer
 * checks it once more (src/kube/tls-secret-writer.ts), and this step fails naming it.
 */
import type { IssuedChain } from '../../src/acme/order.ts';
import type { IssuanceTask } from './services.ts';

/** The `writeSecret` implementation. */
export const writeSecret: IssuanceTask = async ({ token, services, output, log }) => {
  const { chain, keyPem } = output.finalizeOrder as { chain: IssuedChain; keyPem: string };
  const result = await services.secrets.write({
    namespace: token.namespace,
    secretName: token.secretName,
    ingressName: token.ingressName,
    ingressUid: token.ingressUid,
    hosts: token.hosts,
    chainPem: chain.chainPem,
    keyPem,
    issuerUrl: services.config.url,
    acmeProfile: services.config.acmeProfile,
    notAfter: chain.notAfter,
  });
  if (!result.written) throw new Error(`nothing written: ${result.reason}`);
  log.info({ secret: `${token.namespace}/${token.secretName}`, created: result.created }, 'Secret written');
  return { created: result.created };
};
