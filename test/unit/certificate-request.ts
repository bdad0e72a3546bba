/** A certificate request for tests: Ingress shop/shop's entry for Secret shop-tls, host shop.test, unless overridden. */
import type { CertificateRequest } from '../../src/ingress/requests.ts';

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
