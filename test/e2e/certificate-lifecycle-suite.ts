/**
 * The certificate lifecycle end to end, all real parts on loopback: kube-lego installed from
 * manifests/install.yml runs in-cluster (its Deployment's pod, its own ServiceAccount and RBAC), its issuance
 * Jobs run through the real Job controller, Pebble validates through the ingress controller given (the
 * ingress router, or Traefik: certificate-lifecycle.test.ts and certificate-lifecycle-through-traefik.test.ts
 * run it with each), and the garbage collector does its real work.
 */
import assert from 'node:assert/strict';
import { eventually } from '../support/cluster-testing.ts';
import { describe, it } from 'node:test';
import { X509Certificate } from 'node:crypto';
import { BatchV1Api, CoreV1Api, type V1Ingress, type V1Secret } from '@kubernetes/client-node';
import type { Sandbox } from '../support/sandbox.ts';
import {
  ingressManifest,
  jobFinished,
  jobsOf,
  leaderPod,
  networking,
  operatorReady,
  operatorRuns,
  restartOperator,
  throughEdge,
  type OperatorRun,
  validSecret,
  watchJobs,
} from './e2e-harness.ts';
import { sandboxSuite } from './sandbox-suite.ts';
import { readSecret } from '../jobs/issuance-harness.ts';
import { ordersFor } from '../support/pebble-orders.ts';

/** The serial number of the certificate in a tls Secret. */
function serialOf(secret: V1Secret): string {
  return new X509Certificate(Buffer.from(secret.data!['tls.crt']!, 'base64')).serialNumber;
}

/**
 * An Ingress of class nginx, not annotated for kube-lego, that routes the ACME challenge path of `hosts` to
 * the Service `held`, which has no endpoint: the ingress controller answers 503 there for as long as it
 * wins over a solver Ingress. The router prefers the older of two equal paths, then the namespace/name
 * first in order; Traefik the router of the higher priority, which the annotation sets.
 */
function holdChallenges(name: string, hosts: string[]): V1Ingress {
  return {
    metadata: { name, annotations: { 'traefik.ingress.kubernetes.io/router.priority': '1000' } },
    spec: {
      ingressClassName: 'nginx',
      rules: hosts.map((host) => ({
        host,
        http: {
          paths: [
            {
              path: '/.well-known/acme-challenge/',
              pathType: 'Prefix',
              backend: { service: { name: 'held', port: { number: 80 } } },
            },
          ],
        },
      })),
    },
  };
}

/** Registers the lifecycle tests, Pebble validating through `ingressController`. */
export function certificateLifecycleSuite(ingressController: 'router' | 'traefik'): void {
  describe(`certificate lifecycle, end to end, through ${ingressController === 'router' ? 'the ingress router' : 'Traefik'}`, () => {
    let sandbox: Sandbox;
    let jobs: Awaited<ReturnType<typeof watchJobs>>;

    sandboxSuite({
      ingressController,
      settings: {
        LEGO_CHECK_INTERVAL: '5s',
        LEGO_JOB_TTL: '3s',
        // The restart test holds a Job in its self-check while the operator restarts: retry often (each
        // wait 1.2 times the last, from 200 ms) and long enough for the restart.
        LEGO_EXPONENTIAL_BACKOFF_MULTIPLIER: '1.2',
        LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME: '60s',
      },
      setUp: async (started) => {
        sandbox = started;
        jobs = await watchJobs(started.kube);
      },
      cleanUp: async () => {
        jobs?.stop();
      },
    });

    it('issues one valid Secret per tls entry, through completed Jobs whose solver objects are then gone', async () => {
      const ingress = ingressManifest('shop', [
        { secretName: 'shop-tls', hosts: ['shop.test', 'www.shop.test'] },
        { secretName: 'api-tls', hosts: ['api.shop.test'] },
      ]);
      const created = await networking(sandbox.kube).createNamespacedIngress({
        namespace: 'shop',
        body: ingress,
      });
      const [shop, api] = await Promise.all([
        validSecret(sandbox, 'shop', 'shop-tls', ['shop.test', 'www.shop.test']),
        validSecret(sandbox, 'shop', 'api-tls', ['api.shop.test']),
      ]);
      for (const secret of [shop, api]) {
        assert.equal(secret.type, 'kubernetes.io/tls');
        assert.deepEqual(
          secret.metadata?.ownerReferences?.map((owner) => [owner.kind, owner.name, owner.uid]),
          [['Ingress', 'shop', created.metadata!.uid]],
        );
      }
      for (const certificate of ['shop/shop-tls', 'shop/api-tls']) {
        const [job] = jobsOf(jobs, certificate);
        assert.ok(job, `a Job for ${certificate}`);
        await eventually(`Job of ${certificate} complete`, async () =>
          jobsOf(jobs, certificate).some((seen) =>
            seen.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True'),
          ),
        );
      }
      // ttlSecondsAfterFinished removes the Jobs; the garbage collector then removes their solver objects.
      const core = sandbox.kube.makeApiClient(CoreV1Api);
      await eventually('solver Services and Ingresses gone', async () => {
        const [services, ingresses] = await Promise.all([
          core.listNamespacedService({
            namespace: 'kube-lego',
            labelSelector: 'app.kubernetes.io/managed-by=kube-lego',
          }),
          networking(sandbox.kube).listNamespacedIngress({ namespace: 'kube-lego' }),
        ]);
        return services.items.length === 0 && ingresses.items.length === 0;
      });
    });

    it('reissues only the entry whose hosts changed', async () => {
      const before = await readSecret(sandbox.kube, 'shop', 'api-tls');
      const current = await networking(sandbox.kube).readNamespacedIngress({
        namespace: 'shop',
        name: 'shop',
      });
      current.spec!.tls![0]!.hosts!.push('shop-new.test');
      current.spec!.rules!.push({ ...current.spec!.rules![0]!, host: 'shop-new.test' });
      await networking(sandbox.kube).replaceNamespacedIngress({
        namespace: 'shop',
        name: 'shop',
        body: current,
      });
      await validSecret(sandbox, 'shop', 'shop-tls', ['shop.test', 'www.shop.test', 'shop-new.test']);
      const after = await readSecret(sandbox.kube, 'shop', 'api-tls');
      assert.equal(after?.data?.['tls.crt'], before?.data?.['tls.crt'], 'the other entry was not reissued');
      assert.equal(jobsOf(jobs, 'shop/api-tls').length, 1);
    });

    it('reissues a Secret whose certificate is garbage, at the periodic check', async () => {
      const core = sandbox.kube.makeApiClient(CoreV1Api);
      const secret = (await readSecret(sandbox.kube, 'shop', 'api-tls'))!;
      secret.data!['tls.crt'] = Buffer.from('not a certificate').toString('base64');
      await core.replaceNamespacedSecret({ namespace: 'shop', name: 'api-tls', body: secret });
      await validSecret(sandbox, 'shop', 'api-tls', ['api.shop.test']);
      assert.equal(jobsOf(jobs, 'shop/api-tls').length, 2);
    });

    it('leaves a valid certificate alone: no Job and the same Secret, across two periodic checks', async () => {
      const certificates = [
        { key: 'shop/shop-tls', name: 'shop-tls' },
        { key: 'shop/api-tls', name: 'api-tls' },
      ];
      // A Job of an earlier test still running could write its Secret later: start from finished Jobs only.
      await eventually('the Jobs of Ingress shop finished', async () =>
        certificates.every(({ key }) => jobsOf(jobs, key).every(jobFinished)),
      );
      const before = new Map<string, { secret: V1Secret; serial: string; jobs: string[] }>();
      for (const { key, name } of certificates) {
        const secret = (await readSecret(sandbox.kube, 'shop', name))!;
        before.set(key, {
          secret,
          serial: serialOf(secret),
          jobs: jobsOf(jobs, key).map((job) => job.metadata!.uid!),
        });
      }
      const since = Date.now();
      await networking(sandbox.kube).patchNamespacedIngress({
        namespace: 'shop',
        name: 'shop',
        body: [{ op: 'add', path: '/metadata/labels', value: { touched: 'yes' } }],
      });
      // Evidence that the operator looked at each certificate again: the run the update started and two
      // periodic runs that started after it, whatever they ended with (a wrong end is asserted below).
      const runs = new Map<string, OperatorRun[]>();
      await eventually(
        'an Ingress run and two periodic runs of each certificate since the update',
        async () => {
          for (const { key } of certificates) {
            const seen = (await operatorRuns(sandbox, key)).filter((run) => run.startedAt >= since);
            if (!seen.some((run) => run.trigger === 'ingress')) return false;
            if (seen.filter((run) => run.trigger === 'periodic').length < 2) return false;
            runs.set(key, seen);
          }
          return true;
        },
      );
      const batch = sandbox.kube.makeApiClient(BatchV1Api);
      const listed = await batch.listNamespacedJob({ namespace: 'kube-lego' });
      for (const { key, name } of certificates) {
        // A "Job finished" run records a Job of before the update (its event may come late): not a new look.
        const ends = runs
          .get(key)!
          .filter((run) => run.trigger !== 'job')
          .map((run) => `${run.trigger}:${run.end}`);
        assert.ok(
          ends.every((end) => end.endsWith(':valid') || end.endsWith(':collapsed')),
          `${key}: every run since the update ends valid (or collapsed into another): ${ends.join(', ')}`,
        );
        const known = before.get(key)!;
        // Jobs as the watch saw them, and as the API lists them now (a Job created a moment ago, which the
        // watch may not have delivered yet, is still there: LEGO_JOB_TTL is 3 s).
        const uids = new Set(
          [
            ...jobsOf(jobs, key),
            ...jobsOf({ jobs: new Map(listed.items.map((job) => [job.metadata!.uid!, job])) }, key),
          ].map((job) => job.metadata!.uid!),
        );
        const created = [...uids].filter((uid) => !known.jobs.includes(uid));
        assert.deepEqual(created, [], `${key}: no Job since the update`);
        const after = (await readSecret(sandbox.kube, 'shop', name))!;
        assert.equal(serialOf(after), known.serial, `${key}: the same certificate`);
        assert.equal(
          after.metadata?.resourceVersion,
          known.secret.metadata?.resourceVersion,
          `${key}: the Secret was not written`,
        );
      }
    });

    it('launches at most 2 Jobs for 200 rapid updates of one Ingress', async () => {
      const api = networking(sandbox.kube);
      await api.createNamespacedIngress({
        namespace: 'shop',
        body: ingressManifest('burst', [{ secretName: 'burst-tls', hosts: ['burst.test'] }]),
      });
      await Promise.all(
        Array.from({ length: 200 }, (_, index) =>
          api.patchNamespacedIngress({
            namespace: 'shop',
            name: 'burst',
            body: [{ op: 'add', path: '/metadata/annotations/burst', value: String(index) }],
          }),
        ),
      );
      await validSecret(sandbox, 'shop', 'burst-tls', ['burst.test']);
      // Settled: every Job finished, and a periodic run started after that ended valid. The Deduplicate task
      // keeps one run in flight per certificate, so that run started only once every earlier one had ended,
      // and the tokens of the updates still waiting then were replaced by it.
      const settled = await eventually('the Jobs of burst-tls finished', async () => {
        const launched = jobsOf(jobs, 'shop/burst-tls');
        return launched.length > 0 && launched.every(jobFinished) && Date.now();
      });
      await eventually('a periodic run of burst-tls ending valid after its Jobs', async () =>
        (await operatorRuns(sandbox, 'shop/burst-tls')).some(
          (run) => run.trigger === 'periodic' && run.startedAt >= settled && run.end === 'valid',
        ),
      );
      const launched = jobsOf(jobs, 'shop/burst-tls').length;
      assert.ok(launched >= 1 && launched <= 2, `${launched} Jobs`);
    });

    it('does not start a second order when the operator restarts mid-issuance', async () => {
      const core = sandbox.kube.makeApiClient(CoreV1Api);
      const batch = sandbox.kube.makeApiClient(BatchV1Api);
      const hosts = ['restart.test'];
      const account = { kube: sandbox.kube, caPem: sandbox.pebble.caCertPem };
      // Hold the Job in its self-check, after it has created its order: until `hold` is deleted, the router
      // sends restart.test's challenge path to a Service that does not exist (503). The router prefers the
      // older of two equal paths, then the namespace/name first in order: `hold` is created before the Job's
      // solver Ingress, in a namespace that sorts before kube-lego.
      await core.createNamespacedService({
        namespace: 'default',
        body: {
          metadata: { name: 'held' },
          spec: { selector: { app: 'nothing' }, ports: [{ port: 80, targetPort: 80 }] },
        },
      });
      await networking(sandbox.kube).createNamespacedIngress({
        namespace: 'default',
        body: holdChallenges('restart-hold', hosts),
      });
      await eventually(
        'the ingress controller sends the challenges of restart.test to the hold',
        async () => {
          const answer = await throughEdge(sandbox, 'restart.test', '/.well-known/acme-challenge/probe');
          return answer.status === 503;
        },
      );
      await networking(sandbox.kube).createNamespacedIngress({
        namespace: 'shop',
        body: ingressManifest('restart', [{ secretName: 'restart-tls', hosts }]),
      });
      const jobName = await eventually('the Job launched', async () => {
        const [job, ...more] = jobsOf(jobs, 'shop/restart-tls');
        return more.length === 0 && job?.metadata?.name;
      });
      await eventually('the Job pod retrying its self-check', async () => {
        const pods = await core.listNamespacedPod({
          namespace: 'kube-lego',
          labelSelector: `job-name=${jobName}`,
        });
        return pods.items.some((pod) =>
          sandbox.kubelet.podLogs('kube-lego', pod.metadata!.name!).includes('self-check not yet answered'),
        );
      });
      assert.equal((await ordersFor(account, hosts)).length, 1, 'one order before the restart');

      const old = await eventually('a leader', () => leaderPod(sandbox));
      const leaving = restartOperator(sandbox);
      // The Job was running when the leader was stopped (a finished Job does not run again).
      const running = await batch.readNamespacedJob({ namespace: 'kube-lego', name: jobName });
      assert.ok(
        (running.status?.active ?? 0) > 0,
        `Job ${jobName} active: ${JSON.stringify(running.status)}`,
      );
      assert.equal(running.status?.succeeded ?? 0, 0, 'no pod of the Job succeeded yet');
      assert.equal(running.status?.completionTime, undefined, 'the Job not complete yet');
      assert.equal(await readSecret(sandbox.kube, 'shop', 'restart-tls'), undefined, 'no Secret yet');
      const replacement = await leaving;
      assert.notEqual(replacement, old);

      // The new leader finds the Job of the certificate it wants still running: its run ends "adopted".
      await eventually('the new leader finding the running Job', async () =>
        (await operatorRuns(sandbox, 'shop/restart-tls', replacement)).some((run) => run.end === 'adopted'),
      );
      await networking(sandbox.kube).deleteNamespacedIngress({ namespace: 'default', name: 'restart-hold' });
      await validSecret(sandbox, 'shop', 'restart-tls', hosts);
      await eventually('the new operator pod ready', () => operatorReady(sandbox));

      assert.equal(
        jobsOf(jobs, 'shop/restart-tls').length,
        1,
        `one Job, adopted by the new leader ${replacement}`,
      );
      const orders = await ordersFor(account, hosts);
      assert.equal(orders.length, 1, `one order for ${hosts.join(', ')}: ${JSON.stringify(orders)}`);
      assert.equal(orders[0]!.status, 'valid');
    });

    it('deletes the Secrets of a deleted Ingress through the garbage collector', async () => {
      await networking(sandbox.kube).deleteNamespacedIngress({ namespace: 'shop', name: 'shop' });
      await eventually('Secrets of Ingress shop deleted', async () => {
        const [shop, api] = await Promise.all([
          readSecret(sandbox.kube, 'shop', 'shop-tls'),
          readSecret(sandbox.kube, 'shop', 'api-tls'),
        ]);
        return shop === undefined && api === undefined;
      });
      assert.ok(await readSecret(sandbox.kube, 'shop', 'burst-tls'), 'other Ingresses keep theirs');
    });
  });
}
