// The local control plane starts on loopback and its controllers do their real work: the serviceaccount
// controller fills a new namespace, the Job controller makes a Pod for a Job (it stays Pending: no kubelet
// here), and the garbage collector deletes what a deleted object owned.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, test } from 'node:test';
import { BatchV1Api, CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { eventually, isStatus, withDiagnostics } from '../support/cluster-testing.ts';
import { PORTS, startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { holdClaim } from '../support/loopback.ts';

let controlPlane: ControlPlane;
let core: CoreV1Api;
let batch: BatchV1Api;
const namespace = 'control-plane-test';

before(async () => {
  controlPlane = await startControlPlane();
  const { timings } = controlPlane;
  const mib = (bytes: number | undefined): string =>
    bytes === undefined ? '?' : `${Math.round(bytes / 2 ** 20)} MiB`;
  const rss = Object.entries(controlPlane.rss()).map(([name, bytes]) => `${name} ${mib(bytes)}`);
  process.stderr.write(
    `control plane started in ${(timings.total / 1000).toFixed(1)} s (pki ${timings.pki} ms, etcd ${timings.etcd} ms, ` +
      `kube-apiserver ${timings.apiServer} ms, kube-controller-manager ${timings.controllerManager} ms); ` +
      `RSS: ${rss.join(', ')}\n`,
  );
  const kc = controlPlane.kubeConfig();
  core = kc.makeApiClient(CoreV1Api);
  batch = kc.makeApiClient(BatchV1Api);
});

after(async () => {
  await controlPlane?.stop();
});

/** Runs `body`, and on failure rethrows with the tail of the control plane's logs appended. */
const withLogs = (body: () => Promise<void>) => withDiagnostics(() => controlPlane.logs(), body);

test('it serves on a loopback address of its own, and the kubeconfig authenticates as a cluster admin', async () => {
  const { hostname, port } = new URL(controlPlane.server);
  assert.match(hostname, /^127\.\d+\.\d+\.\d+$/);
  assert.notEqual(hostname, '127.0.0.1');
  assert.equal(port, String(PORTS.apiServer));
  assert.equal(
    await holdClaim(hostname),
    undefined,
    'the address stays claimed while the control plane runs',
  );
  const cluster = controlPlane.kubeConfig().getCurrentCluster();
  assert.equal(cluster?.server, controlPlane.server);
  const admin = new X509Certificate(controlPlane.adminCertPem);
  assert.match(admin.subject, /O=system:masters/);
  assert.match(admin.subject, /CN=kube-lego-admin/);
  await withLogs(async () => {
    const namespaces = await core.listNamespace();
    const names = namespaces.items.map((n) => n.metadata?.name);
    for (const name of ['default', 'kube-system', 'kube-public']) assert.ok(names.includes(name), name);
  });
});

test('a new namespace gets its default ServiceAccount and kube-root-ca.crt', () =>
  withLogs(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const account = await eventually('ServiceAccount default', () =>
      core.readNamespacedServiceAccount({ name: 'default', namespace }).catch((error: unknown) => {
        if (isStatus(error, 404)) return undefined;
        throw error;
      }),
    );
    assert.equal(account.metadata?.namespace, namespace);
    const rootCa = await eventually('ConfigMap kube-root-ca.crt', () =>
      core.readNamespacedConfigMap({ name: 'kube-root-ca.crt', namespace }).catch((error: unknown) => {
        if (isStatus(error, 404)) return undefined;
        throw error;
      }),
    );
    assert.equal(rootCa.data?.['ca.crt']?.trim(), controlPlane.caPem.trim());
  }));

test('the Job controller creates a Pod for a Job, which stays Pending without a kubelet', () =>
  withLogs(async () => {
    await batch.createNamespacedJob({
      namespace,
      body: {
        metadata: { name: 'hello' },
        spec: {
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [{ name: 'hello', image: 'kube-lego:test', command: ['true'] }],
            },
          },
        },
      },
    });
    const pod = await eventually('a Pod of Job hello', async () => {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: 'job-name=hello' });
      return pods.items[0];
    });
    const owner = pod.metadata?.ownerReferences?.[0];
    assert.equal(owner?.kind, 'Job');
    assert.equal(owner?.name, 'hello');
    assert.equal(pod.status?.phase, 'Pending');
    assert.equal(pod.spec?.nodeName, undefined, 'nothing schedules it');
    assert.equal(pod.spec?.serviceAccountName, 'default', 'ServiceAccount admission ran');
  }));

test('the garbage collector deletes a ConfigMap whose owner is deleted', () =>
  withLogs(async () => {
    const owner = await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'owner' }, data: { role: 'owner' } },
    });
    const uid = owner.metadata?.uid;
    assert.ok(uid);
    const dependent: V1ConfigMap = {
      metadata: {
        name: 'dependent',
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid }],
      },
      data: { role: 'dependent' },
    };
    await core.createNamespacedConfigMap({ namespace, body: dependent });
    await core.deleteNamespacedConfigMap({ name: 'owner', namespace });
    await eventually('the dependent ConfigMap deleted', () =>
      core.readNamespacedConfigMap({ name: 'dependent', namespace }).then(
        () => undefined,
        (error: unknown) => {
          if (isStatus(error, 404)) return true;
          throw error;
        },
      ),
    );
  }));
