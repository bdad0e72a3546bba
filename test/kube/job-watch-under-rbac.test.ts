/**
 * The watch of kube-lego's issuance Jobs (src/kube/job-watch.ts) against a real kube-apiserver, as the
 * operator's ServiceAccount under the RBAC of manifests/install.yml: in the operator's namespace it sees
 * only the Jobs labelled as issuance Jobs (never another Job there), lists those that exist, then reports
 * their change and deletion; the audit log shows a label-selected list and watch, none refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BatchV1Api, type KubeConfig, type V1Job } from '@kubernetes/client-node';
import { ISSUANCE_JOB_SELECTOR, watchIssuanceJobs } from '../../src/kube/job-watch.ts';
import type { WatchEvent } from '../../src/kube/list-watch.ts';
import { eventually } from '../support/cluster-testing.ts';
import {
  OPERATOR,
  followWatch,
  forbidden,
  requestKinds,
  startRbacCluster,
  type FollowedWatch,
  type RbacCluster,
} from './rbac-harness.ts';

/** `TYPE name`, what the test compares. */
const seen = (event: WatchEvent<V1Job>) => `${event.type} ${event.object.metadata?.name}`;

describe('issuance Job watch as the operator under the manifest RBAC', () => {
  let cluster: RbacCluster;
  let operator: KubeConfig;
  let batch: BatchV1Api;
  let followed: FollowedWatch | undefined;

  /** Creates a suspended Job in kube-lego as admin, labelled as an issuance Job or not. */
  const createJob = (name: string, issuance: boolean) =>
    batch.createNamespacedJob({
      namespace: 'kube-lego',
      body: {
        metadata: {
          name,
          labels: issuance
            ? { 'app.kubernetes.io/managed-by': 'kube-lego', 'kube-lego.io/issuance': name }
            : { 'app.kubernetes.io/managed-by': 'kube-lego' },
          annotations: { 'kube-lego.io/certificate': 'shop/shop-tls' },
        },
        spec: {
          suspend: true,
          template: {
            spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'kube-lego/none' }] },
          },
        },
      },
    });

  before(async () => {
    cluster = await startRbacCluster();
    batch = cluster.admin.makeApiClient(BatchV1Api);
    operator = await cluster.as(OPERATOR);
  });

  after(async () => {
    followed?.stop();
    await cluster?.stop();
  });

  it('reports the issuance Jobs only: listed, changed and deleted; other Jobs never', async () => {
    await createJob('listed', true);
    await createJob('unlabelled', false);
    const mark = cluster.audit.mark();
    const watch = followWatch((options) => watchIssuanceJobs(operator, 'kube-lego', options), seen);
    followed = watch;
    const { events, retries, connected, until } = watch;

    await until('ADDED listed');
    await eventually('the watch connected', async () => connected.includes(true), 10_000);
    await createJob('created', true);
    await createJob('other', false);
    await until('ADDED created');
    await batch.patchNamespacedJob({
      namespace: 'kube-lego',
      name: 'listed',
      body: [{ op: 'add', path: '/metadata/annotations/note', value: 'x' }],
    });
    await until('MODIFIED listed');
    await batch.deleteNamespacedJob({ namespace: 'kube-lego', name: 'other' });
    await batch.deleteNamespacedJob({ namespace: 'kube-lego', name: 'created' });
    await until('DELETED created');
    watch.stop();

    // The job controller may touch a Job's status too: each change is compared once, in the order first seen.
    assert.deepEqual(
      [...new Set(events)].filter((event) => event !== 'MODIFIED created'),
      ['ADDED listed', 'ADDED created', 'MODIFIED listed', 'DELETED created'],
    );
    assert.deepEqual(retries, [], 'no failure retried');
    const requests = await cluster.audit.requestsSince(mark, OPERATOR, operator);
    assert.deepEqual(forbidden(requests), []);
    assert.deepEqual(requestKinds(requests), ['list batch/jobs', 'watch batch/jobs']);
    for (const request of requests) {
      assert.ok(
        request.uri.includes(`labelSelector=${encodeURIComponent(ISSUANCE_JOB_SELECTOR)}`),
        `label-selected: ${request.uri}`,
      );
    }
  });
});
