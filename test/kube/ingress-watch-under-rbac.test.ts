/**
 * The Ingress watch (src/kube/ingress-watch.ts over src/kube/list-watch.ts) against a real kube-apiserver,
 * authenticated as the operator's ServiceAccount under the RBAC of manifests/install.yml: across all
 * namespaces (the default) and in the one namespace of LEGO_WATCH_NAMESPACE, it lists what exists, then
 * reports creations, changes and deletions from the watch; the audit log shows one list and a watch, of
 * that scope, none refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NetworkingV1Api, type KubeConfig, type V1Ingress } from '@kubernetes/client-node';
import { watchIngresses } from '../../src/kube/ingress-watch.ts';
import type { WatchEvent } from '../../src/kube/list-watch.ts';
import { createNamespace, eventually } from '../support/cluster-testing.ts';
import { createIngress } from '../jobs/issuance-harness.ts';
import {
  OPERATOR,
  describeRequest,
  forbidden,
  requestKinds,
  startRbacCluster,
  type RbacCluster,
  followWatch,
  type FollowedWatch,
} from './rbac-harness.ts';

/** `TYPE namespace/name`, what a test compares. */
const seen = (event: WatchEvent<V1Ingress>) =>
  `${event.type} ${event.object.metadata?.namespace}/${event.object.metadata?.name}`;

describe('Ingress watch as the operator under the manifest RBAC', () => {
  let cluster: RbacCluster;
  let operator: KubeConfig;
  let networking: NetworkingV1Api;
  let followed: FollowedWatch | undefined;

  /** Follows the watch of `namespace` (all when undefined). */
  function follow(namespace: string | undefined) {
    const watch = followWatch((options) => watchIngresses(operator, namespace, options), seen);
    followed = watch;
    return watch;
  }

  before(async () => {
    cluster = await startRbacCluster();
    networking = cluster.admin.makeApiClient(NetworkingV1Api);
    operator = await cluster.as(OPERATOR);
    await createNamespace(cluster.admin, 'alpha');
    await createNamespace(cluster.admin, 'beta');
  });

  after(async () => {
    followed?.stop();
    await cluster?.stop();
  });

  it('lists the Ingresses of every namespace, then reports their creation, change and deletion', async () => {
    await createIngress(cluster.admin, 'alpha', 'listed', 'listed-tls', ['listed.alpha.test']);
    const mark = cluster.audit.mark();
    const watch = follow(undefined);
    await watch.until('ADDED alpha/listed');
    await eventually('the watch connected', async () => watch.connected.includes(true), 10_000);
    await createIngress(cluster.admin, 'beta', 'created', 'created-tls', ['created.beta.test']);
    await watch.until('ADDED beta/created');
    await networking.patchNamespacedIngress({
      namespace: 'alpha',
      name: 'listed',
      body: [{ op: 'add', path: '/metadata/labels', value: { changed: 'yes' } }],
    });
    await watch.until('MODIFIED alpha/listed');
    await networking.deleteNamespacedIngress({ namespace: 'beta', name: 'created' });
    await watch.until('DELETED beta/created');
    watch.stop();
    assert.deepEqual(watch.retries, [], 'no failure retried');

    const requests = await cluster.audit.requestsSince(mark, OPERATOR, operator);
    assert.deepEqual(forbidden(requests), []);
    assert.deepEqual(requestKinds(requests), [
      'list networking.k8s.io/ingresses',
      'watch networking.k8s.io/ingresses',
    ]);
    assert.deepEqual(
      requests.map((request) => [request.verb, request.namespace ?? '(all namespaces)']),
      [
        ['list', '(all namespaces)'],
        ['watch', '(all namespaces)'],
      ],
      requests.map(describeRequest).join('\n'),
    );
  });

  it('with LEGO_WATCH_NAMESPACE, lists and watches that namespace only', async () => {
    const mark = cluster.audit.mark();
    const watch = follow('beta');
    await eventually('the watch connected', async () => watch.connected.includes(true), 10_000);
    await createIngress(cluster.admin, 'alpha', 'elsewhere', 'elsewhere-tls', ['elsewhere.alpha.test']);
    await createIngress(cluster.admin, 'beta', 'here', 'here-tls', ['here.beta.test']);
    await watch.until('ADDED beta/here');
    watch.stop();
    assert.deepEqual(watch.events, ['ADDED beta/here'], 'nothing of namespace alpha');

    const requests = await cluster.audit.requestsSince(mark, OPERATOR, operator);
    assert.deepEqual(forbidden(requests), []);
    assert.deepEqual(
      requests.map((request) => [request.verb, request.resource, request.namespace]),
      [
        ['list', 'ingresses', 'beta'],
        ['watch', 'ingresses', 'beta'],
      ],
    );
  });
});
