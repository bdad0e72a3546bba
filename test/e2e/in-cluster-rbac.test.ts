/**
 * The operator installed from manifests/install.yml runs in-cluster under its own ServiceAccount (a token
 * from the TokenRequest API, where in-cluster config expects it), so the API server enforces the manifest's
 * RBAC; a copy of the manifest missing one rule makes the start-up check name exactly that permission.
 */
import assert from 'node:assert/strict';
import { createNamespace, eventually } from '../support/cluster-testing.ts';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, type V1ClusterRole, type V1Pod } from '@kubernetes/client-node';
import {
  installKubeLego,
  installObjects,
  operatorLogs,
  sandboxSettings,
  startSandbox,
  type Sandbox,
} from '../support/sandbox.ts';
import { ingressManifest, networking, operatorReady, validSecret } from './e2e-harness.ts';

async function operatorPod(sandbox: Sandbox): Promise<V1Pod | undefined> {
  const pods = await sandbox.kube
    .makeApiClient(CoreV1Api)
    .listNamespacedPod({ namespace: 'kube-lego', labelSelector: 'app.kubernetes.io/name=kube-lego' });
  return pods.items.find((pod) => !pod.metadata?.deletionTimestamp);
}

describe('in-cluster run under the manifest RBAC', () => {
  let sandbox: Sandbox;

  before(async () => {
    sandbox = await startSandbox();
  });

  after(async () => {
    await sandbox?.stop();
  });

  it('names exactly the permission a manifest without the events rule lacks, and does not start', async () => {
    const objects = await installObjects(sandboxSettings(sandbox));
    const role = objects.find(
      (object) => object.kind === 'ClusterRole' && object.metadata?.name === 'kube-lego',
    ) as V1ClusterRole;
    role.rules = role.rules!.filter((rule) => !rule.resources?.includes('events'));
    await installKubeLego(sandbox, objects);
    // Each replica checks at each start (and restarts after its exit): whatever they logged names that one
    // permission, and no other.
    const lines = await eventually('the start-up check', async () => {
      const logged = (await operatorLogs(sandbox))
        .split('\n')
        .filter((text) => text.includes('missing permission'));
      return logged.length > 0 && logged;
    });
    for (const line of lines) {
      assert.match(line, /missing permission: create events in all namespaces \(to report on Ingresses\)/);
    }
    const pod = await eventually('the operator container to exit', async () => {
      const current = await operatorPod(sandbox);
      return (
        current?.status?.containerStatuses?.[0]?.lastState?.terminated ??
        current?.status?.containerStatuses?.[0]?.state?.terminated
      );
    });
    assert.equal(pod.exitCode, 2);
  });

  it('with the manifest as shipped, gets a certificate through the Job it launches', async () => {
    await installKubeLego(sandbox);
    const core = sandbox.kube.makeApiClient(CoreV1Api);
    const stale = await operatorPod(sandbox);
    if (stale) await core.deleteNamespacedPod({ namespace: 'kube-lego', name: stale.metadata!.name! });
    await eventually('the operator pod ready', () => operatorReady(sandbox));
    const pod = (await operatorPod(sandbox))!;
    assert.equal(pod.spec?.serviceAccountName, 'kube-lego');
    assert.ok(
      pod.spec?.volumes?.some((volume) =>
        volume.projected?.sources?.some((source) => source.serviceAccountToken),
      ),
      'a projected ServiceAccount token, from the TokenRequest API',
    );
    await createNamespace(sandbox.kube, 'rbac');
    await networking(sandbox.kube).createNamespacedIngress({
      namespace: 'rbac',
      body: ingressManifest('site', [{ secretName: 'site-tls', hosts: ['site.rbac.test'] }]),
    });
    await validSecret(sandbox, 'rbac', 'site-tls', ['site.rbac.test']);
    assert.doesNotMatch(await operatorLogs(sandbox), /forbidden/i);
  });
});
