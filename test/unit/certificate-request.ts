/** A certificate request for tests: Ingress shop/shop's entry for Secret shop-tls, host shop.test, unless overridden. */
import { X509Certificate } from 'node:crypto';
import type { Config } from '../../src/config.ts';
import type { CertificateRequest } from '../../src/ingress/requests.ts';
import type { IssuedCertificate } from '../../src/kube/tls-secret-writer.ts';

/** The request, with `overrides` applied (the key follows namespace and secretName). */
export function request(overrides: Partial<CertificateRequest> = {}): CertificateRequest {
  const namespace = overrides.namespace ?? 'shop';
  const secretName = overrides.secretName ?? 'shop-tls';
  return {
    key: `${namespace}/${secretName}`,
    namespace,
    secretName,
    hosts: ['shop.test'],
    ingress: { name: 'shop', uid: 'uid-shop' },
    ingressClass: 'nginx',
    ingressClassFrom: 'default',
    provider: 'nginx',
    ...overrides,
  };
}

/**
 * What the issuance Job writes for `certificate` once `pair` is issued under `config` (its LEGO_URL and
 * LEGO_ACME_PROFILE), for FakeCluster.writeCertificate.
 */
export function issuedCertificate(
  certificate: CertificateRequest,
  pair: { crt: string; key: string },
  config: Config,
): IssuedCertificate {
  return {
    namespace: certificate.namespace,
    secretName: certificate.secretName,
    ingressName: certificate.ingress.name,
    ingressUid: certificate.ingress.uid,
    hosts: certificate.hosts,
    chainPem: pair.crt,
    keyPem: pair.key,
    issuerUrl: config.url,
    acmeProfile: config.acmeProfile,
    notAfter: new Date(new X509Certificate(pair.crt).validTo),
  };
}
