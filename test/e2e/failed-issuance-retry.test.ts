/**
 * A failed issuance is retried by its back-off, end to end on the local cluster, with the periodic check an
 * hour away: the host first resolves to an address where nothing answers, so the Job's self-check fails and
 * the Job fails; the operator records the failure on the Job (failures 1, the retry time) and is restarted
 * before the retry is due; the new operator finds the back-off (no Job at start, the failure not recorded
 * again), and retries when it runs out; the host now answers and the certificate is issued. And a fault:
 * the Job's pod killed (SIGKILL) in the middle of its order is a failed attempt like any other, retried by
 * the back-off, with one valid order in the end.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchV1Api, CoreV1Api, type CoreV1Event } from '@kubernetes/client-node';
import { eventually } from '../support/cluster-testing.ts';
import { ordersFor } from '../support/pebble-orders.ts';
import { claimAddress, type ClaimedAddress } from '../support/loopback.ts';
import type { Sandbox } from '../support/sandbox.ts';
import {
  ingressManifest,
  jobFinished,
  jobsOf,
  networking,
  operatorRuns,
  restartOperator,
  validSecret,
  watchJobs,
} from './e2e-harness.ts';
import { sandboxSuite } from './sandbox-suite.ts';

/** The back-off's first wait: long enough for a restart to fall inside it. */
const RETRY_AFTER_MS = 20_000;

describe('retry of a failed issuance, end to end', () => {
  let sandbox: Sandbox;
  let jobs: Awaited<ReturnType<typeof watchJobs>>;
  let nowhere: ClaimedAddress;
  sandboxSuite({
    settings: {
      LEGO_CHECK_INTERVAL: '1h',
      LEGO_RETRY_INITIAL_INTERVAL: `${RETRY_AFTER_MS / 1000}s`,
      LEGO_RETRY_MAX_INTERVAL: '10m',
      LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME: '2s',
    },
    setUp: async (started) => {
      sandbox = started;
      // An address of our own where nothing listens: connections to it are refused at once.
      nowhere = await claimAddress();
      jobs = await watchJobs(started.kube);
    },
    cleanUp: async () => {
      jobs?.stop();
      await nowhere?.release();
    },
  });

  it('retries when the back-off runs out, not at a restart, and issues', async () => {
    const host = 'flaky.shop.test';
    await sandbox.pebble.addARecord(host, nowhere.address);
    await networking(sandbox.kube).createNamespacedIngress({
      namespace: 'shop',
      body: ingressManifest('flaky', [{ secretName: 'flaky-tls', hosts: [host] }]),
    });
    const batch = sandbox.kube.makeApiClient(BatchV1Api);
    const first = await eventually(
      'the first Job failed and its failure recorded on it',
      async () => {
        const [job] = jobsOf(jobs, 'shop/flaky-tls');
        if (job === undefined || !jobFinished(job)) return undefined;
        const current = await batch.readNamespacedJob({ namespace: 'kube-lego', name: job.metadata!.name! });
        return current.metadata?.annotations?.['kube-lego.io/retry-at'] === undefined ? undefined : current;
      },
      60_000,
    );
    const annotations = first.metadata!.annotations!;
    assert.equal(annotations['kube-lego.io/failures'], '1');
    assert.equal(annotations['kube-lego.io/outcome-recorded'], 'SelfCheckFailed');
    const retryAt = Date.parse(annotations['kube-lego.io/retry-at']!);
    // The Warning Event names the next attempt (recorded just after the Job's annotations).
    const warning = await eventually('the Warning Event on the Ingress', async () => {
      const events = await sandbox.kube.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: 'shop' });
      return events.items.find((event: CoreV1Event) => event.reason === 'SelfCheckFailed');
    });
    assert.match(
      warning.message ?? '',
      new RegExp(`next attempt at ${annotations['kube-lego.io/retry-at']}`),
    );

    // The host answers from now on; the operator restarts before the retry is due.
    await sandbox.pebble.addARecord(host, sandbox.pebble.challengeAddress);
    const pod = await restartOperator(sandbox);
    const restartedAt = Date.now();
    assert.ok(restartedAt < retryAt, `restarted ${retryAt - restartedAt} ms before the retry is due`);
    const secret = await validSecret(sandbox, 'shop', 'flaky-tls', [host]);
    const attempts = jobsOf(jobs, 'shop/flaky-tls');
    assert.equal(attempts.length, 2, 'one retry: a second Job under the same name');
    const retry = attempts.find((job) => job.metadata?.uid !== first.metadata?.uid)!;
    const retriedAt = new Date(retry.metadata!.creationTimestamp!).getTime();
    process.stderr.write(
      `restart ${retryAt - restartedAt} ms before the retry time; retry Job created ${retriedAt - retryAt} ms after it\n`,
    );
    // creationTimestamp has whole seconds.
    assert.ok(retriedAt >= retryAt - 1000, 'not retried before its back-off ran out, restart or not');
    assert.equal(retry.metadata?.annotations?.['kube-lego.io/previous-failures'], '1');
    assert.ok(secret.data?.['tls.crt']);

    const runs = await eventually('the new operator recorded the retry issued', async () => {
      const logged = await operatorRuns(sandbox, 'shop/flaky-tls', pod);
      return logged.some((run) => run.end === 'issued') ? logged : undefined;
    });
    const described = runs.map((run) => `${run.trigger}:${run.end}`).join(', ');
    assert.equal(
      runs[0]?.end,
      'backing off',
      `the new operator's first look finds the back-off: ${described}`,
    );
    assert.ok(
      runs.some((run) => run.trigger === 'retry' && run.end === 'launched'),
      `the retry launched when due: ${described}`,
    );
    assert.ok(!runs.some((run) => run.end === 'failed'), `the failure not recorded again: ${described}`);
  });

  it("retries an issuance whose Job's pod was killed in the middle of its order", async () => {
    const host = 'killed.shop.test';
    // The self-check cannot reach the host: the Job holds in its retries, its order created and pending.
    await sandbox.pebble.addARecord(host, nowhere.address);
    await networking(sandbox.kube).createNamespacedIngress({
      namespace: 'shop',
      body: ingressManifest('killed', [{ secretName: 'killed-tls', hosts: [host] }]),
    });
    const core = sandbox.kube.makeApiClient(CoreV1Api);
    const pod = await eventually('the Job pod retrying its self-check', async () => {
      const [job] = jobsOf(jobs, 'shop/killed-tls');
      if (job === undefined) return undefined;
      const pods = await core.listNamespacedPod({
        namespace: 'kube-lego',
        labelSelector: `job-name=${job.metadata!.name!}`,
      });
      return pods.items
        .map((item) => item.metadata!.name!)
        .find((name) => sandbox.kubelet.podLogs('kube-lego', name).includes('self-check not yet answered'));
    });
    const account = { kube: sandbox.kube, caPem: sandbox.pebble.caCertPem };
    assert.equal((await ordersFor(account, [host])).length, 1, 'its order created before the kill');
    const [pid] = sandbox.kubelet.containerPids('kube-lego', pod);
    assert.ok(pid !== undefined, `a process of pod ${pod}`);
    process.kill(pid, 'SIGKILL');
    await sandbox.pebble.addARecord(host, sandbox.pebble.challengeAddress);

    // The killed issuer stops beating; its `respond` container gives up after 30 s, the Job fails, and the
    // back-off (20 s) retries it.
    await validSecret(sandbox, 'shop', 'killed-tls', [host], 120_000);
    const attempts = jobsOf(jobs, 'shop/killed-tls');
    assert.equal(attempts.length, 2, 'the killed attempt and one retry');
    const orders = await ordersFor(account, [host]);
    assert.deepEqual(
      orders.map((order) => order.status).sort(),
      ['pending', 'valid'],
      `the killed attempt's order abandoned, one valid: ${JSON.stringify(orders)}`,
    );
    const runs = await operatorRuns(sandbox, 'shop/killed-tls');
    const described = runs.map((run) => `${run.trigger}:${run.end}`).join(', ');
    assert.equal(runs.filter((run) => run.end === 'failed').length, 1, `one failure recorded: ${described}`);
    assert.ok(
      runs.some((run) => run.trigger === 'retry' && run.end === 'launched'),
      described,
    );
  });
});
