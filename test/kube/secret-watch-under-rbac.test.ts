/**
 * The watch of kube-lego's certificate Secrets (src/kube/secret-watch.ts) against a real kube-apiserver,
 * as the operator's ServiceAccount under the RBAC of manifests/install.yml: it sees only the Secrets
 * labelled `app.kubernetes.io/managed-by=kube-lego` (never another Secret of the cluster), lists those
 * that exist, then reports their change and deletion; the audit log shows a label-selected list and
 * watch, none refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import type { WatchEvent } from '../../src/kube/list-watch.ts';
import { MANAGED_SECRET_SELECTOR, watchManagedSecrets } from '../../src/kube/secret-watch.ts';
import { createNamespace, eventually } from '../support/cluster-testing.ts';
import {
  OPERATOR,
  followWatch,
  forbidden,
  requestKinds,
  startRbacCluster,
  type FollowedWatch,
  type RbacCluster,
} from './rbac-harness.ts';

/** `TYPE namespace/name`, what the test compares. */
const seen = (event: WatchEvent<V1Secret>) =>
  `${event.type} ${event.object.metadata?.namespace}/${event.object.metadata?.name}`;

describe('certificate Secret watch as the operator under the manifest RBAC', () => {
  let cluster: RbacCluster;
  let operator: KubeConfig;
  let core: CoreV1Api;
  let followed: FollowedWatch | undefined;

  /** Creates an Opaque Secret as admin, labelled as kube-lego's or not. */
  const createSecret = (namespace: string, name: string, managed: boolean) =>
    core.createNamespacedSecret({
      namespace,
      body: {
        metadata: {
          name,
          labels: managed ? { 'app.kubernetes.io/managed-by': 'kube-lego' } : { team: 'web' },
        },
        stringData: { note: name },
      },
    });

  before(async () => {
    cluster = await startRbacCluster();
    core = cluster.admin.makeApiClient(CoreV1Api);
    operator = await cluster.as(OPERATOR);
    await createNamespace(cluster.admin, 'shop');
  });

  after(async () => {
    followed?.stop();
    await cluster?.stop();
  });

  it("reports kube-lego's Secrets only: listed, changed and deleted; other Secrets never", async () => {
    await createSecret('shop', 'listed-tls', true);
    await createSecret('shop', 'foreign', false);
    const mark = cluster.audit.mark();
    const watch = followWatch((options) => watchManagedSecrets(operator, undefined, options), seen);
    followed = watch;
    const { events, retries, connected, until } = watch;

    await until('ADDED shop/listed-tls');
    await eventually('the watch connected', async () => connected.includes(true), 10_000);
    await createSecret('shop', 'created-tls', true);
    await createSecret('shop', 'other', false);
    await until('ADDED shop/created-tls');
    await core.patchNamespacedSecret({
      namespace: 'shop',
      name: 'listed-tls',
      body: [{ op: 'add', path: '/data/extra', value: Buffer.from('x').toString('base64') }],
    });
    await until('MODIFIED shop/listed-tls');
    await core.deleteNamespacedSecret({ namespace: 'shop', name: 'foreign' });
    await core.deleteNamespacedSecret({ namespace: 'shop', name: 'created-tls' });
    await until('DELETED shop/created-tls');
    watch.stop();

    assert.deepEqual(events, [
      'ADDED shop/listed-tls',
      'ADDED shop/created-tls',
      'MODIFIED shop/listed-tls',
      'DELETED shop/created-tls',
    ]);
    assert.deepEqual(retries, [], 'no failure retried');
    const requests = await cluster.audit.requestsSince(mark, OPERATOR, operator);
    assert.deepEqual(forbidden(requests), []);
    assert.deepEqual(requestKinds(requests), ['list /secrets', 'watch /secrets']);
    for (const request of requests) {
      assert.ok(
        request.uri.includes(`labelSelector=${encodeURIComponent(MANAGED_SECRET_SELECTOR)}`),
        `label-selected: ${request.uri}`,
      );
    }
  });
});
