/**
 * Two replicas, one leader, end to end on the local cluster: both pods are ready, one holds the Lease. The
 * leader is killed (SIGKILL, no chance to free the Lease) just after certificates were asked for: the other
 * replica takes over once the Lease has gone unrenewed for its duration, not before, and every certificate
 * is issued with exactly one order. Then the new leader is stopped gracefully (SIGTERM, as `kubectl delete
 * pod`): it frees the Lease and the other takes over well within the Lease's duration. The leader is also
 * killed while an issuance Job runs (the new leader finds it running and launches nothing), and between
 * the Job writing the Secret and the outcome being recorded (the new leader records it, once). Each
 * certificate gets exactly one order. The times are printed; bench/failover.ts measures them against
 * their targets.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchV1Api, CoreV1Api } from '@kubernetes/client-node';
import { eventually } from '../support/cluster-testing.ts';
import { claimAddress, type ClaimedAddress } from '../support/loopback.ts';
import { ordersFor } from '../support/pebble-orders.ts';
import type { Sandbox } from '../support/sandbox.ts';
import {
  ingressManifest,
  jobsOf,
  killLeader,
  leaderPod,
  leaseHolder,
  networking,
  newLeader,
  operatorPods,
  operatorRuns,
  validSecret,
  watchJobs,
} from './e2e-harness.ts';
import { sandboxSuite } from './sandbox-suite.ts';

/** The Lease's duration (src/leader/leader-election.ts's default). */
const LEASE_MS = 10_000;

describe('leader failover, end to end', () => {
  let sandbox: Sandbox;
  let nowhere: ClaimedAddress;
  let jobs: Awaited<ReturnType<typeof watchJobs>>;
  // The self-checks retry long enough for a Job to be held across a failover.
  sandboxSuite({
    settings: {
      LEGO_CHECK_INTERVAL: '1h',
      LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME: '2m',
      LEGO_EXPONENTIAL_BACKOFF_MULTIPLIER: '1.2',
    },
    setUp: async (started) => {
      sandbox = started;
      nowhere = await claimAddress();
      jobs = await watchJobs(started.kube);
    },
    cleanUp: async () => {
      jobs?.stop();
      await nowhere?.release();
    },
  });

  const account = () => ({ kube: sandbox.kube, caPem: sandbox.pebble.caCertPem });

  it('runs two ready replicas, one of them leading', async () => {
    const leader = await eventually('a leader', () => leaderPod(sandbox));
    const pods = await eventually('two replicas ready', async () => {
      const listed = await sandbox.kube
        .makeApiClient(CoreV1Api)
        .listNamespacedPod({ namespace: 'kube-lego', labelSelector: 'app.kubernetes.io/name=kube-lego' });
      const ready = listed.items.filter((pod) =>
        pod.status?.conditions?.some(
          (condition) => condition.type === 'Ready' && condition.status === 'True',
        ),
      );
      return ready.length === 2 ? ready.map((pod) => pod.metadata!.name!) : undefined;
    });
    assert.ok(pods.includes(leader), `the leader ${leader} is one of ${pods.join(', ')}`);
    const standby = pods.find((pod) => pod !== leader)!;
    assert.ok(
      !sandbox.kubelet.podLogs('kube-lego', standby).includes('"msg":"periodic check scheduled"'),
      'the standby does no work',
    );
  });

  it('takes over from a killed leader after the Lease duration, with one order per certificate', async () => {
    const api = networking(sandbox.kube);
    const hosts = ['a.failover.test', 'b.failover.test', 'c.failover.test'];
    for (const [index, host] of hosts.entries()) {
      await api.createNamespacedIngress({
        namespace: 'shop',
        body: ingressManifest(`failover-${index}`, [{ secretName: `failover-${index}-tls`, hosts: [host] }]),
      });
    }
    const { identity: killed, at: killedAt } = await killLeader(sandbox);
    const leader = await newLeader(sandbox, [killed], 60_000);
    const tookMs = Date.now() - killedAt;
    process.stderr.write(`killed leader ${killed} (SIGKILL) replaced by pod ${leader} after ${tookMs} ms\n`);
    // The standby counts the Lease's 10 s from the last renewal it saw, at most a renew period (1 s) and a
    // round before the kill: earlier than 8 s would mean it did not wait for the Lease to expire.
    assert.ok(tookMs >= LEASE_MS - 2_000, `not before the Lease could expire: ${tookMs} ms`);
    for (const [index, host] of hosts.entries()) {
      await validSecret(sandbox, 'shop', `failover-${index}-tls`, [host]);
    }
    for (const host of hosts) {
      const orders = await ordersFor(account(), [host]);
      assert.equal(orders.length, 1, `one order for ${host}: ${JSON.stringify(orders)}`);
    }
  });

  it('hands over at once when the leader stops gracefully and frees the Lease', async () => {
    const old = await eventually('a leader', () => leaderPod(sandbox));
    await eventually('two replicas', async () => (await operatorPods(sandbox)).length === 2);
    const stoppedAt = Date.now();
    await sandbox.kube.makeApiClient(CoreV1Api).deleteNamespacedPod({ namespace: 'kube-lego', name: old });
    const leader = await newLeader(sandbox, [old], 30_000);
    const tookMs = Date.now() - stoppedAt;
    process.stderr.write(`gracefully stopped leader ${old} replaced by ${leader} after ${tookMs} ms\n`);
    assert.ok(tookMs < LEASE_MS, `the freed Lease was taken before it could expire: ${tookMs} ms`);
    assert.match(sandbox.kubelet.podLogs('kube-lego', old), /leader Lease released/);
  });

  it('lets the new leader find the Job a killed leader launched still running, and launch nothing', async () => {
    const host = 'held.failover.test';
    await sandbox.pebble.addARecord(host, nowhere.address);
    await networking(sandbox.kube).createNamespacedIngress({
      namespace: 'shop',
      body: ingressManifest('held', [{ secretName: 'held-tls', hosts: [host] }]),
    });
    const core = sandbox.kube.makeApiClient(CoreV1Api);
    await eventually('the Job pod holding in its self-check', async () => {
      const [job] = jobsOf(jobs, 'shop/held-tls');
      if (job === undefined) return false;
      const pods = await core.listNamespacedPod({
        namespace: 'kube-lego',
        labelSelector: `job-name=${job.metadata!.name!}`,
      });
      return pods.items.some((pod) =>
        sandbox.kubelet.podLogs('kube-lego', pod.metadata!.name!).includes('self-check not yet answered'),
      );
    });
    await eventually('two replicas', async () => (await operatorPods(sandbox)).length === 2);
    const { identity } = await killLeader(sandbox);
    const leader = await newLeader(sandbox, [identity]);
    await eventually('the new leader finding the Job running', async () =>
      (await operatorRuns(sandbox, 'shop/held-tls', leader)).some((run) => run.end === 'adopted'),
    );
    await sandbox.pebble.addARecord(host, sandbox.pebble.challengeAddress);
    await validSecret(sandbox, 'shop', 'held-tls', [host]);
    assert.equal(jobsOf(jobs, 'shop/held-tls').length, 1, 'one Job');
    assert.equal((await ordersFor(account(), [host])).length, 1, 'one order');
  });

  it('lets the new leader record the outcome of a Job the killed leader launched, once', async () => {
    const host = 'unrecorded.failover.test';
    await sandbox.pebble.addARecord(host, nowhere.address);
    await networking(sandbox.kube).createNamespacedIngress({
      namespace: 'shop',
      body: ingressManifest('unrecorded', [{ secretName: 'unrecorded-tls', hosts: [host] }]),
    });
    await eventually('the Job launched', async () => jobsOf(jobs, 'shop/unrecorded-tls').length === 1);
    await eventually('two replicas', async () => (await operatorPods(sandbox)).length === 2);
    const { identity } = await killLeader(sandbox);
    // The Job goes on alone: it writes the Secret and ends while the Lease waits to expire.
    await sandbox.pebble.addARecord(host, sandbox.pebble.challengeAddress);
    await validSecret(sandbox, 'shop', 'unrecorded-tls', [host]);
    const [job] = jobsOf(jobs, 'shop/unrecorded-tls');
    const name = job!.metadata!.name!;
    // Most often the Job ends before the Lease expires, while no one leads; on a loaded machine it may end
    // after the new leader started. Either way its outcome is recorded once, by the new leader.
    const endedLeaderless = (await leaseHolder(sandbox)) === identity;
    process.stderr.write(
      `the Job ended ${endedLeaderless ? 'while no one led' : 'after the new leader started'}\n`,
    );
    await newLeader(sandbox, [identity]);
    // "Record issuance" marks the Job, deletes its solvers, then writes the Event: the Event is its last write.
    const issuedEvents = async () =>
      (
        await sandbox.kube.makeApiClient(CoreV1Api).listNamespacedEvent({
          namespace: 'shop',
          fieldSelector: 'involvedObject.name=unrecorded,reason=CertificateIssued',
        })
      ).items;
    await eventually(
      'the outcome recorded: a CertificateIssued Event',
      async () => (await issuedEvents()).length > 0,
    );
    const current = await sandbox.kube
      .makeApiClient(BatchV1Api)
      .readNamespacedJob({ namespace: 'kube-lego', name });
    assert.equal(current.metadata?.annotations?.['kube-lego.io/outcome-recorded'], 'Issued');
    assert.equal((await issuedEvents()).length, 1, 'recorded once');
    assert.equal(jobsOf(jobs, 'shop/unrecorded-tls').length, 1, 'one Job');
    assert.equal((await ordersFor(account(), [host])).length, 1, 'one order');
  });
});
