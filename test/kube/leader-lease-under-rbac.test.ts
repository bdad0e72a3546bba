/**
 * Leader election (src/leader/) against a real kube-apiserver, as the operator's ServiceAccount under the
 * RBAC of manifests/install.yml, on the real clock: two electors on the Lease kube-lego in kube-lego's
 * namespace; the first creates it and leads, the second stays standby while it is renewed, and takes it
 * within a second or two of its release. Every request allowed; the API server takes the Lease's times.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { kubernetesLeaseStore, LEADER_LEASE } from '../../src/leader/kubernetes-lease-store.ts';
import { DEFAULT_ELECTION, LeaderElector } from '../../src/leader/leader-election.ts';
import { createLogger } from '../../src/log.ts';
import { systemClock } from '../../src/process/schedule.ts';
import { eventually } from '../support/cluster-testing.ts';
import {
  OPERATOR,
  describeRequest,
  startRbacCluster,
  type RbacCluster,
  audited as auditedAs,
} from './rbac-harness.ts';

describe('leader election as the operator under the manifest RBAC', () => {
  let cluster: RbacCluster;
  let operator: KubeConfig;

  before(async () => {
    cluster = await startRbacCluster();
    operator = await cluster.as(OPERATOR);
  });

  after(async () => {
    await cluster?.stop();
  });

  it('creates and renews the Lease, keeps the other standby, and hands over on release', async () => {
    const log = createLogger({ level: 'silent', type: 'json' });
    const told: string[] = [];
    const elector = (identity: string) =>
      new LeaderElector(
        kubernetesLeaseStore(operator, 'kube-lego'),
        { ...DEFAULT_ELECTION, identity },
        systemClock,
        log,
        {
          onStartedLeading: () => told.push(`${identity} started`),
          onStoppedLeading: () => told.push(`${identity} stopped`),
        },
      );
    const a = elector('pod-a_1');
    const b = elector('pod-b_2');
    const { requests } = await auditedAs(cluster, OPERATOR, operator, async () => {
      a.start();
      await eventually('a leading', async () => a.leading, 10_000);
      b.start();
      // Three rounds of renewal while b watches.
      await new Promise((resolve) => setTimeout(resolve, 3_500));
    });
    assert.deepEqual(told, ['pod-a_1 started']);
    assert.equal(b.leading, false);
    const refused = requests.filter(
      (request) => request.code >= 400 && request.code !== 404 && request.code !== 409,
    );
    assert.deepEqual(refused.map(describeRequest), [], 'no request refused');
    const lease = await cluster.admin
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ namespace: 'kube-lego', name: LEADER_LEASE });
    assert.equal(lease.spec?.holderIdentity, 'pod-a_1');
    assert.equal(lease.spec?.leaseDurationSeconds, 10);
    assert.ok(
      Date.now() - new Date(lease.spec!.renewTime!).getTime() < 2_500,
      'renewed within the last rounds',
    );

    const releasedAt = Date.now();
    await a.stop({ release: true });
    await eventually('b leading', async () => b.leading, 10_000);
    const tookMs = Date.now() - releasedAt;
    assert.ok(tookMs < 2_500, `b took over ${tookMs} ms after the release`);
    assert.deepEqual(told, ['pod-a_1 started', 'pod-a_1 stopped', 'pod-b_2 started']);
    await b.stop({ release: true });
  });
});
