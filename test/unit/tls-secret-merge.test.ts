/** Writing a certificate over an existing Secret keeps what others put on it, and never writes over another controller's. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { V1Secret } from '@kubernetes/client-node';
import {
  ForeignSecretError,
  mergeTlsSecret,
  type IssuedCertificate,
} from '../../src/kube/tls-secret-writer.ts';

const certificate: IssuedCertificate = {
  namespace: 'shop',
  secretName: 'shop-tls',
  ingressName: 'shop',
  ingressUid: 'uid-2',
  hosts: ['shop.test', 'www.shop.test'],
  chainPem: 'CHAIN',
  keyPem: 'KEY',
  issuerUrl: 'https://ca.test/dir',
  acmeProfile: undefined,
  notAfter: new Date('2027-01-01T00:00:00Z'),
};

/** A Secret of kube-lego's for `certificate`, with `metadata` merged over its metadata. */
function existing(metadata: V1Secret['metadata'] = {}): V1Secret {
  return {
    metadata: {
      name: 'shop-tls',
      resourceVersion: '42',
      ownerReferences: [{ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'shop', uid: 'uid-1' }],
      ...metadata,
    },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': 'b2xk', 'tls.key': 'b2xk' },
  };
}

it('creates a kubernetes.io/tls Secret owned by the Ingress, with kube-lego annotations', () => {
  const secret = mergeTlsSecret(undefined, certificate);
  assert.equal(secret.type, 'kubernetes.io/tls');
  assert.deepEqual(secret.data, {
    'tls.crt': Buffer.from('CHAIN').toString('base64'),
    'tls.key': Buffer.from('KEY').toString('base64'),
  });
  assert.deepEqual(secret.metadata?.ownerReferences, [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      name: 'shop',
      uid: 'uid-2',
      blockOwnerDeletion: false,
    },
  ]);
  assert.deepEqual(secret.metadata?.labels, { 'app.kubernetes.io/managed-by': 'kube-lego' });
  assert.deepEqual(secret.metadata?.annotations, {
    'kube-lego.io/issuer-url': 'https://ca.test/dir',
    'kube-lego.io/not-after': '2027-01-01T00:00:00.000Z',
    'kube-lego.io/hosts': 'shop.test,www.shop.test',
  });
});

it('records the ACME profile the certificate was ordered with, and drops an old one for the default', () => {
  const profiled = mergeTlsSecret(undefined, { ...certificate, acmeProfile: 'shortlived' });
  assert.equal(profiled.metadata?.annotations?.['kube-lego.io/acme-profile'], 'shortlived');
  const defaulted = mergeTlsSecret(profiled, certificate);
  assert.equal(defaulted.metadata?.annotations?.['kube-lego.io/acme-profile'], undefined);
  assert.equal(defaulted.metadata?.annotations?.['kube-lego.io/issuer-url'], 'https://ca.test/dir');
});

it('keeps foreign labels, annotations and data keys, replaces the owner reference of an older Ingress of the name', () => {
  const secret = mergeTlsSecret(
    {
      ...existing({
        labels: { team: 'web' },
        annotations: { 'example.test/note': 'keep', 'kube-lego.io/hosts': 'old.test' },
      }),
      data: { 'ca.crt': 'Q0E=', 'tls.crt': 'b2xk', 'tls.key': 'b2xk' },
    },
    certificate,
  );
  assert.equal(secret.metadata?.resourceVersion, '42', 'the update is guarded by what was read');
  assert.equal(secret.metadata?.labels?.team, 'web');
  assert.equal(secret.metadata?.annotations?.['example.test/note'], 'keep');
  assert.equal(secret.metadata?.annotations?.['kube-lego.io/hosts'], 'shop.test,www.shop.test');
  assert.equal(secret.data?.['ca.crt'], 'Q0E=');
  assert.equal(secret.data?.['tls.crt'], Buffer.from('CHAIN').toString('base64'));
  assert.deepEqual(
    secret.metadata?.ownerReferences?.map((owner) => `${owner.kind}/${owner.name}/${owner.uid}`),
    ['Ingress/shop/uid-2'],
  );
});

it("writes over a Secret with none of another controller's marks (by hand, or jetstack kube-lego's)", () => {
  const secret = mergeTlsSecret({ metadata: { name: 'shop-tls' }, type: 'kubernetes.io/tls' }, certificate);
  assert.equal(secret.metadata?.labels?.['app.kubernetes.io/managed-by'], 'kube-lego');
  assert.equal(secret.metadata?.ownerReferences?.length, 1);
});

it("refuses to write over another controller's Secret, naming the Secret, its manager and the fix", () => {
  const foreign: [what: string, secret: V1Secret, manager: string][] = [
    [
      'owned by a ConfigMap',
      existing({ ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'keeper', uid: 'uid-9' }] }),
      'owned by ConfigMap keeper',
    ],
    [
      'owned by another Ingress',
      existing({
        ownerReferences: [
          { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'blog', uid: 'uid-b' },
        ],
      }),
      'owned by Ingress blog',
    ],
    [
      'managed by Helm',
      existing({ labels: { 'app.kubernetes.io/managed-by': 'Helm' } }),
      'managed by Helm (label app.kubernetes.io/managed-by=Helm)',
    ],
    [
      "cert-manager's",
      existing({ annotations: { 'cert-manager.io/certificate-name': 'shop' } }),
      'managed by cert-manager (annotation cert-manager.io/certificate-name)',
    ],
  ];
  for (const [what, secret, manager] of foreign) {
    assert.throws(
      () => mergeTlsSecret(secret, certificate),
      (error: Error) => {
        assert.ok(error instanceof ForeignSecretError, what);
        assert.equal(
          error.message,
          `Secret shop/shop-tls is ${manager}: kube-lego does not write over it; ` +
            'remove the tls-acme annotation of Ingress shop/shop or name another secretName',
        );
        return true;
      },
    );
  }
});
