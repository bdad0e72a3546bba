/**
 * Faults of the cluster and of the CA, end to end on the local cluster, each with its outcome asserted:
 * - kube-apiserver stopped for 30 s (a Secret deleted just before): no operator restarts, the deletion is
 *   not missed, and an Ingress created once it is back gets its certificate;
 * - etcd restarted: the same, without an outage long enough to lose the leader Lease;
 * - the CA frozen for 2 minutes during a burst of 20 new Ingresses: every certificate issued once it is
 *   back, each within a few attempts spaced by the back-off (no hot loop).
 * The times measured are printed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { eventually } from '../support/cluster-testing.ts';
import type { Sandbox } from '../support/sandbox.ts';
import {
  ingressManifest,
  jobsOf,
  leaderPod,
  networking,
  operatorRuns,
  validSecret,
  watchJobs,
} from './e2e-harness.ts';
import { sandboxSuite } from './sandbox-suite.ts';

/** How many times the operator's containers restarted, by pod. */
async function operatorRestarts(sandbox: Sandbox): Promise<Record<string, number>> {
  const pods = await sandbox.kube
    .makeApiClient(CoreV1Api)
    .listNamespacedPod({ namespace: 'kube-lego', labelSelector: 'app.kubernetes.io/name=kube-lego' });
  return Object.fromEntries(
    pods.items.map((pod) => [
      pod.metadata!.name!,
      (pod.status?.containerStatuses ?? []).reduce((sum, status) => sum + status.restartCount, 0),
    ]),
  );
}

describe('outages of the API server, etcd and the CA, end to end', () => {
  let sandbox: Sandbox;
  let jobs: Awaited<ReturnType<typeof watchJobs>> | undefined;
  sandboxSuite({
    settings: {
      LEGO_CHECK_INTERVAL: '1h',
      LEGO_RETRY_INITIAL_INTERVAL: '20s',
      LEGO_RETRY_MAX_INTERVAL: '10m',
      // Every certificate of the burst gets its Job while the CA is frozen (the Job slots have their own test).
      LEGO_MAX_JOBS_IN_FLIGHT: '20',
    },
    setUp: async (started) => {
      sandbox = started;
      // The ACME account exists before the faults: the burst's Jobs share it.
      await networking(started.kube).createNamespacedIngress({
        namespace: 'shop',
        body: ingressManifest('steady', [{ secretName: 'steady-tls', hosts: ['steady.shop.test'] }]),
      });
      await validSecret(started, 'shop', 'steady-tls', ['steady.shop.test']);
    },
    cleanUp: async () => {
      jobs?.stop();
    },
  });

  it('rides out 30 s without the API server, missing nothing, restarting nothing', async () => {
    const restartsBefore = await operatorRestarts(sandbox);
    // Deleted just before the outage: the Secret watch may not deliver it before the API server goes.
    await sandbox.kube
      .makeApiClient(CoreV1Api)
      .deleteNamespacedSecret({ namespace: 'shop', name: 'steady-tls' });
    await sandbox.controlPlane.restart('kube-apiserver', { downMs: 30_000 });
    const backAt = Date.now();
    await networking(sandbox.kube).createNamespacedIngress({
      namespace: 'shop',
      body: ingressManifest('after-api', [{ secretName: 'after-api-tls', hosts: ['after-api.shop.test'] }]),
    });
    await eventually('a leader again', () => leaderPod(sandbox), 60_000);
    const leadingMs = Date.now() - backAt;
    // The operator's side: its watches list again and the new Ingress's first run ends (launched).
    const firstRun = await eventually('the first run for the Ingress created after the outage', async () =>
      (await operatorRuns(sandbox, 'shop/after-api-tls')).find((run) => run.trigger === 'ingress'),
    );
    const resumedMs = firstRun.endedAt - backAt;
    // The Jobs themselves wait for the cluster's Job controller and kubelet to reconnect (about a minute).
    await validSecret(sandbox, 'shop', 'steady-tls', ['steady.shop.test'], 180_000);
    const recoveredMs = Date.now() - backAt;
    await validSecret(sandbox, 'shop', 'after-api-tls', ['after-api.shop.test'], 180_000);
    const newMs = Date.now() - backAt;
    process.stderr.write(
      `API server back: a leader after ${leadingMs} ms, the new Ingress's first run ended after ${resumedMs} ms, the Secret deleted before the outage valid after ${recoveredMs} ms, the Ingress created after it valid after ${newMs} ms (the Jobs wait for the cluster's own controllers to reconnect)\n`,
    );
    assert.deepEqual(await operatorRestarts(sandbox), restartsBefore, 'no operator container restarted');
  });

  it('rides out an etcd restart', async () => {
    const restartsBefore = await operatorRestarts(sandbox);
    await sandbox.controlPlane.restart('etcd');
    const backAt = Date.now();
    await networking(sandbox.kube).createNamespacedIngress({
      namespace: 'shop',
      body: ingressManifest('after-etcd', [
        { secretName: 'after-etcd-tls', hosts: ['after-etcd.shop.test'] },
      ]),
    });
    await validSecret(sandbox, 'shop', 'after-etcd-tls', ['after-etcd.shop.test']);
    process.stderr.write(`etcd back: the Ingress created after it valid after ${Date.now() - backAt} ms\n`);
    assert.deepEqual(await operatorRestarts(sandbox), restartsBefore, 'no operator container restarted');
  });

  it('issues a burst of 20 after the CA was frozen for 2 minutes, each in a few attempts spaced by the back-off', async () => {
    jobs = await watchJobs(sandbox.kube);
    const api = networking(sandbox.kube);
    const hosts = Array.from({ length: 20 }, (_, index) => `burst-${index}.shop.test`);
    sandbox.pebble.pause();
    const pausedAt = Date.now();
    try {
      for (const [index, host] of hosts.entries()) {
        await api.createNamespacedIngress({
          namespace: 'shop',
          body: ingressManifest(`burst-${index}`, [{ secretName: `burst-${index}-tls`, hosts: [host] }]),
        });
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, pausedAt + 120_000 - Date.now())));
    } finally {
      sandbox.pebble.resume();
    }
    const resumedAt = Date.now();
    for (const [index, host] of hosts.entries()) {
      await validSecret(sandbox, 'shop', `burst-${index}-tls`, [host], 240_000);
    }
    process.stderr.write(`CA back: all 20 valid after ${Date.now() - resumedAt} ms\n`);
    const attempts = hosts.map((_, index) => jobsOf(jobs!, `shop/burst-${index}-tls`).length);
    process.stderr.write(`attempts per certificate: ${attempts.join(', ')}\n`);
    // 20 s doubling: attempts that each wait 30 s for the frozen CA fit 2 or 3 times in 2 minutes.
    assert.ok(
      attempts.every((count) => count >= 2 && count <= 5),
      `each certificate failed while the CA was frozen, and was retried a bounded number of times: ${attempts.join(', ')}`,
    );
  });
});
