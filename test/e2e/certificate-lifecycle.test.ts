/**
 * End to end, all real parts on loopback: kube-lego installed from manifests/install.yml runs in-cluster
 * (its Deployment's pod, its own ServiceAccount and RBAC), its issuance Jobs run through the real Job
 * controller, Pebble validates through the ingress router, and the garbage collector does its real work.
 */
import assert from 'node:assert/strict';
import { createNamespace, eventually } from '../support/cluster-testing.ts';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import {
  installKubeLego,
  installObjects,
  operatorLogs,
  sandboxSettings,
  startSandbox,
  type Sandbox,
} from '../support/sandbox.ts';
import { ingressManifest, jobsOf, networking, operatorReady, validSecret, watchJobs } from './e2e-harness.ts';
import { readSecret } from '../jobs/issuance-harness.ts';

describe('certificate lifecycle, end to end', () => {
  let sandbox: Sandbox;
  let jobs: Awaited<ReturnType<typeof watchJobs>>;

  before(async () => {
    sandbox = await startSandbox();
    await installKubeLego(
      sandbox,
      await installObjects({ ...sandboxSettings(sandbox), LEGO_CHECK_INTERVAL: '5s', LEGO_JOB_TTL: '3s' }),
    );
    await eventually('the operator pod ready', () => operatorReady(sandbox));
    await createNamespace(sandbox.kube, 'shop');
    jobs = await watchJobs(sandbox.kube);
  });

  after(async (context) => {
    jobs?.stop();
    if (context.signal.aborted || process.exitCode)
      process.stderr.write(`${await operatorLogs(sandbox)}\n${sandbox.logs()}\n`);
    await sandbox?.stop();
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
    const current = await networking(sandbox.kube).readNamespacedIngress({ namespace: 'shop', name: 'shop' });
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

  it('leaves a valid certificate alone: no Job', async () => {
    const count = jobs.jobs.size;
    const runs = (await operatorLogs(sandbox))
      .split('\n')
      .filter((line) => line.includes('"end":"valid"')).length;
    await networking(sandbox.kube).patchNamespacedIngress({
      namespace: 'shop',
      name: 'shop',
      body: [{ op: 'add', path: '/metadata/labels', value: { touched: 'yes' } }],
    });
    await eventually('two more runs ending valid', async () => {
      const now = (await operatorLogs(sandbox))
        .split('\n')
        .filter((line) => line.includes('"end":"valid"')).length;
      return now >= runs + 2;
    });
    assert.equal(jobs.jobs.size, count);
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
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const launched = jobsOf(jobs, 'shop/burst-tls').length;
    assert.ok(launched >= 1 && launched <= 2, `${launched} Jobs`);
  });

  it('does not start a second order when the operator restarts mid-issuance', async () => {
    const core = sandbox.kube.makeApiClient(CoreV1Api);
    await networking(sandbox.kube).createNamespacedIngress({
      namespace: 'shop',
      body: ingressManifest('restart', [{ secretName: 'restart-tls', hosts: ['restart.test'] }]),
    });
    await eventually('the Job launched', async () => jobsOf(jobs, 'shop/restart-tls').length === 1);
    const pods = await core.listNamespacedPod({
      namespace: 'kube-lego',
      labelSelector: 'app.kubernetes.io/name=kube-lego',
    });
    await core.deleteNamespacedPod({ namespace: 'kube-lego', name: pods.items[0]!.metadata!.name! });
    await validSecret(sandbox, 'shop', 'restart-tls', ['restart.test']);
    await eventually('a new operator pod ready', () => operatorReady(sandbox));
    assert.equal(jobsOf(jobs, 'shop/restart-tls').length, 1, 'one Job, adopted by the new operator');
    const jobPods = await core.listNamespacedPod({
      namespace: 'kube-lego',
      labelSelector: `job-name=${jobsOf(jobs, 'shop/restart-tls')[0]!.metadata!.name}`,
    });
    assert.ok(jobPods.items.length <= 1, 'the Job ran one pod: one order');
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
