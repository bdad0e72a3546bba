/** Writing a certificate over an existing Secret keeps what others put on it. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { mergeTlsSecret, type IssuedCertificate } from '../../src/kube/tls-secret-writer.ts';

const certificate: IssuedCertificate = {
  namespace: 'shop',
  secretName: 'shop-tls',
  ingressName: 'shop',
  ingressUid: 'uid-2',
  hosts: ['shop.test', 'www.shop.test'],
  chainPem: 'CHAIN',
  keyPem: 'KEY',
  issuerUrl: 'https://ca.test/dir',
  notAfter: new Date('2027-01-01T00:00:00Z'),
};

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
  assert.deepEqual(secret.metadata?.annotations, {
    'kube-lego.io/issuer-url': 'https://ca.test/dir',
    'kube-lego.io/not-after': '2027-01-01T00:00:00.000Z',
    'kube-lego.io/hosts': 'shop.test,www.shop.test',
  });
});

it('keeps foreign labels, annotations, data keys and owners, replaces an old owner of the same Ingress', () => {
  const secret = mergeTlsSecret(
    {
      metadata: {
        name: 'shop-tls',
        resourceVersion: '42',
        labels: { team: 'web' },
        annotations: { 'example.test/note': 'keep', 'kube-lego.io/hosts': 'old.test' },
        ownerReferences: [
          { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'shop', uid: 'uid-1' },
          { apiVersion: 'v1', kind: 'ConfigMap', name: 'other', uid: 'uid-9' },
        ],
      },
      type: 'kubernetes.io/tls',
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
    ['ConfigMap/other/uid-9', 'Ingress/shop/uid-2'],
  );
});
