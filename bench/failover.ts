/**
 * Leader failover on the local cluster, with kube-lego installed from manifests/install.yml (two replicas):
 * the time from the leader's death to another replica holding the Lease and ready, over 5 kills with
 * SIGKILL (target under 15 s: the Lease's 10 s plus a round) and 5 graceful stops, `kubectl delete pod`
 * (target under 2 s: the Lease is freed).
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { eventually } from '../test/support/cluster-testing.ts';
import { killLeader, leaseHolder, newLeader, operatorPods, operatorReady } from '../test/e2e/e2e-harness.ts';
import { installKubeLego, startSandbox, type Sandbox } from '../test/support/sandbox.ts';

const RUNS = 5;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Waits until both replicas run and are ready, so each failover has a standby to go to. */
async function twoReady(sandbox: Sandbox): Promise<void> {
  await eventually(
    'two replicas ready',
    async () => {
      const pods = await sandbox.kube
        .makeApiClient(CoreV1Api)
        .listNamespacedPod({ namespace: 'kube-lego', labelSelector: 'app.kubernetes.io/name=kube-lego' });
      const ready = pods.items.filter(
        (pod) =>
          !pod.metadata?.deletionTimestamp &&
          pod.status?.conditions?.some(
            (condition) => condition.type === 'Ready' && condition.status === 'True',
          ),
      );
      return ready.length === 2;
    },
    120_000,
  );
  // The standby's first rounds: it must have seen the Lease before its holder goes.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
}

/** Prints the figures; returns them. */
export async function benchFailover(): Promise<Record<string, number>> {
  const sandbox = await startSandbox();
  try {
    await installKubeLego(sandbox);
    await eventually('the operator pod ready', () => operatorReady(sandbox));
    const killed: number[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      await twoReady(sandbox);
      const { identity, at } = await killLeader(sandbox);
      await newLeader(sandbox, [identity]);
      killed.push(Date.now() - at);
    }
    const stopped: number[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      await twoReady(sandbox);
      const identity = (await leaseHolder(sandbox))!;
      const pod = identity.slice(0, identity.lastIndexOf('_'));
      const at = Date.now();
      await sandbox.kube.makeApiClient(CoreV1Api).deleteNamespacedPod({ namespace: 'kube-lego', name: pod });
      await newLeader(sandbox, [identity, pod]);
      stopped.push(Date.now() - at);
      await eventually('the replaced pod gone', async () => !(await operatorPods(sandbox)).includes(pod));
    }
    const show = (values: number[]) => values.map((ms) => Math.round(ms)).join(', ');
    console.log(
      `failover after SIGKILL of the leader: median ${Math.round(median(killed))} ms over ${RUNS} (${show(killed)}; target under 15000 ms)`,
    );
    console.log(
      `failover after a graceful stop of the leader: median ${Math.round(median(stopped))} ms over ${RUNS} (${show(stopped)}; target under 2000 ms)`,
    );
    return { failover_kill_median_ms: median(killed), failover_stop_median_ms: median(stopped) };
  } finally {
    await sandbox.stop();
  }
}

if (import.meta.main) await benchFailover();
