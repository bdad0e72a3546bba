/**
 * src/kube/ingress-presence.ts against a real kube-apiserver, authenticated as the issuance Jobs'
 * ServiceAccount (kube-lego-issuer) under the RBAC of manifests/install.yml, in an application namespace as
 * in production: the Ingress there with its uid, replaced by one of the same name, and deleted, each found
 * with exactly one `get`, none refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NetworkingV1Api, type KubeConfig } from '@kubernetes/client-node';
import { apiIngressPresence, type IngressPresenceCheck } from '../../src/kube/ingress-presence.ts';
import { createNamespace } from '../support/cluster-testing.ts';
import { restOf } from '../support/rest-of-kubeconfig.ts';
import { createIngress } from '../jobs/issuance-harness.ts';
import {
  ISSUER,
  describeRequest,
  startRbacCluster,
  type RbacCluster,
  audited as auditedAs,
} from './rbac-harness.ts';

describe('apiIngressPresence as the issuer under the manifest RBAC', () => {
  let cluster: RbacCluster;
  let issuer: KubeConfig;
  let check: IngressPresenceCheck;

  /** Runs `body` as the issuer; returns its result and the requests the issuer made meanwhile. */
  const audited = <T>(body: () => Promise<T>) => auditedAs(cluster, ISSUER, issuer, body);

  before(async () => {
    cluster = await startRbacCluster();
    issuer = await cluster.as(ISSUER);
    check = apiIngressPresence(restOf(issuer));
    await createNamespace(cluster.admin, 'shop');
  });

  after(async () => {
    await cluster?.stop();
  });

  it('finds the Ingress there with its uid, then replaced, then deleted, with one get each', async () => {
    const uid = await createIngress(cluster.admin, 'shop', 'shop', 'shop-tls', ['shop.test']);
    const ingress = { namespace: 'shop', name: 'shop', uid };
    const there = await audited(() => check(ingress));
    assert.deepEqual(there.result, { present: true });
    assert.deepEqual(there.requests.map(describeRequest), [
      'get ingresses.networking.k8s.io shop/shop → 200',
    ]);

    const networking = cluster.admin.makeApiClient(NetworkingV1Api);
    await networking.deleteNamespacedIngress({ namespace: 'shop', name: 'shop' });
    await createIngress(cluster.admin, 'shop', 'shop', 'shop-tls', ['shop.test']);
    const replaced = await audited(() => check(ingress));
    assert.deepEqual(replaced.result, {
      present: false,
      reason: 'Ingress shop/shop was replaced (uid changed)',
    });
    assert.deepEqual(replaced.requests.map(describeRequest), [
      'get ingresses.networking.k8s.io shop/shop → 200',
    ]);

    await networking.deleteNamespacedIngress({ namespace: 'shop', name: 'shop' });
    const deleted = await audited(() => check(ingress));
    assert.deepEqual(deleted.result, { present: false, reason: 'Ingress shop/shop was deleted' });
    assert.deepEqual(deleted.requests.map(describeRequest), [
      'get ingresses.networking.k8s.io shop/shop → 404',
    ]);
  });
});
