/**
 * The issuance Job's small API client (src/kube/rest-client.ts) with the credentials of a test's
 * KubeConfig: a ServiceAccount's token from the TokenRequest API, or the admin's client certificate.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { restClient, type KubeRest } from '../../src/kube/rest-client.ts';

const fromBase64 = (data: string | undefined) =>
  data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8');

/** A client of `config`'s current cluster as its current user (inline data only, as the tests make them). */
export function restOf(config: KubeConfig): KubeRest {
  const cluster = config.getCurrentCluster();
  const user = config.getCurrentUser();
  if (cluster === null || user === null) throw new Error('the KubeConfig has no current cluster or user');
  const caPem = fromBase64(cluster.caData);
  const clientCertPem = fromBase64(user.certData);
  const clientKeyPem = fromBase64(user.keyData);
  const token = user.token;
  return restClient({
    server: new URL(cluster.server),
    ...(caPem !== undefined && { caPem }),
    ...(token !== undefined && { token: async () => token }),
    ...(clientCertPem !== undefined && { clientCertPem }),
    ...(clientKeyPem !== undefined && { clientKeyPem }),
  });
}
