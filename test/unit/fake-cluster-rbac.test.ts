/**
 * The in-memory cluster refuses what the API server would refuse the operator under the RBAC of
 * manifests/install.yml: with one rule taken out of the manifest, the lifecycle process meets the same 403
 * (or, for Events, the same silent drop) it would meet in a cluster; with the manifest as shipped, nothing is
 * refused. Whether the fake's reading of the manifest matches a real API server is checked in
 * test/kube/kubernetes-cluster-under-rbac.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubernetesObject, V1ClusterRole, V1Role } from '@kubernetes/client-node';
import { parseConfig } from '../../src/config.ts';
import { issuanceObjects } from '../../src/issuance/job-objects.ts';
import { installRbac, type ManifestRbac } from '../support/manifest-rbac.ts';
import { request } from './certificate-request.ts';
import { FakeCluster } from './fake-cluster.ts';
import { lifecycleHarness, runThrough } from './lifecycle-harness.ts';

/** install.yml's RBAC without the verb `verb` on `resource` in the role `kind` kube-lego. */
async function without(kind: 'Role' | 'ClusterRole', resource: string, verb: string): Promise<ManifestRbac> {
  return (await installRbac()).edited((objects: KubernetesObject[]) => {
    const role = objects.find((object) => object.kind === kind && object.metadata?.name === 'kube-lego') as
      V1Role | V1ClusterRole;
    let found = false;
    for (const rule of role.rules!) {
      if (rule.resources?.includes(resource) !== true || !rule.verbs.includes(verb)) continue;
      found = true;
      rule.verbs = rule.verbs.filter((each) => each !== verb);
    }
    role.rules = role.rules!.filter((rule) => rule.verbs.length > 0);
    assert.ok(found, `install.yml's ${kind} grants ${verb} on ${resource}`);
  });
}

const config = parseConfig({ LEGO_NAMESPACE: 'kube-lego' });

describe('in-memory cluster under the manifest RBAC', () => {
  it('refuses nothing the lifecycle process does, with the manifest as shipped', async () => {
    const { runner, cluster } = await lifecycleHarness(undefined, config);
    cluster.outcome = () => ({ succeeded: true, reason: 'Issued', message: '' });
    assert.equal(
      (await runThrough(runner, cluster, { start: 'message', token: request(), key: 'shop/shop-tls' })).end,
      'issued',
    );
    // The Secret is still missing: the succeeded Job is stale and replaced (delete, then create).
    assert.equal(
      (await runThrough(runner, cluster, { start: 'timer', token: request(), key: 'shop/shop-tls' })).end,
      'issued',
    );
    assert.equal(cluster.replacements, 1);
    assert.deepEqual(cluster.refused, []);
  });

  it('fails the stale-Job replace with the API server 403 when the Role lacks delete on jobs', async () => {
    const { runner, cluster } = await lifecycleHarness(
      undefined,
      config,
      await without('Role', 'jobs', 'delete'),
    );
    cluster.outcome = () => ({ succeeded: true, reason: 'Issued', message: '' });
    assert.equal(
      (await runThrough(runner, cluster, { start: 'message', token: request(), key: 'shop/shop-tls' })).end,
      'issued',
    );
    const again = await runThrough(runner, cluster, {
      start: 'timer',
      token: request(),
      key: 'shop/shop-tls',
    });
    assert.equal(again.end, 'failed');
    assert.equal(cluster.replacements, 0);
    assert.equal(cluster.refused.length, 1);
    assert.match(
      cluster.refused[0]!,
      /^jobs\.batch "kube-lego-shop-tls-[0-9a-f]+" is forbidden: User "system:serviceaccount:kube-lego:kube-lego" cannot delete resource "jobs" in API group "batch" in the namespace "kube-lego"$/,
    );
    assert.match(cluster.events.at(-1)!.message, /Replace issuance Job: .*cannot delete resource "jobs"/);
  });

  it('fails the certificate inspection when the ClusterRole lacks get on secrets', async () => {
    const { runner, cluster } = await lifecycleHarness(
      undefined,
      config,
      await without('ClusterRole', 'secrets', 'get'),
    );
    const result = await runThrough(runner, cluster, {
      start: 'message',
      token: request(),
      key: 'shop/shop-tls',
    });
    assert.equal(result.end, 'failed');
    assert.match(
      cluster.refused[0]!,
      /cannot get resource "secrets" in API group "" in the namespace "shop"/,
    );
    assert.equal(cluster.launches.length, 0);
  });

  it('drops Events without failing the run when the ClusterRole lacks create on events', async () => {
    const { runner, cluster } = await lifecycleHarness(
      undefined,
      config,
      await without('ClusterRole', 'events', 'create'),
    );
    cluster.outcome = () => ({ succeeded: true, reason: 'Issued', message: '' });
    assert.equal(
      (await runThrough(runner, cluster, { start: 'message', token: request(), key: 'shop/shop-tls' })).end,
      'issued',
    );
    assert.deepEqual(cluster.events, []);
    assert.match(
      cluster.refused[0]!,
      /cannot create resource "events" in API group "" in the namespace "shop"/,
    );
  });

  it('grants the Role only in the operator namespace: a Job elsewhere is refused', async () => {
    const cluster = new FakeCluster({ namespace: 'kube-lego' });
    const elsewhere = issuanceObjects(
      request(),
      'kube-lego-shop-tls-0123456789',
      parseConfig({ LEGO_NAMESPACE: 'shop' }),
    );
    await assert.rejects(cluster.launchIssuance(elsewhere), (error: Error & { code?: number }) => {
      assert.equal(error.code, 403);
      assert.match(
        error.message,
        /cannot create resource "jobs" in API group "batch" in the namespace "shop"/,
      );
      return true;
    });
    assert.equal(cluster.jobs.size, 0, 'nothing created before the refusal');
    const home = issuanceObjects(request(), 'kube-lego-shop-tls-0123456789', config);
    assert.deepEqual(await cluster.launchIssuance(home), { adopted: false });
  });

  it('reads the manifest as installed in LEGO_NAMESPACE, as kustomize would move it', async () => {
    const moved = parseConfig({ LEGO_NAMESPACE: 'certs' });
    const cluster = new FakeCluster({ namespace: 'certs' });
    const objects = issuanceObjects(request(), 'kube-lego-shop-tls-0123456789', moved);
    assert.deepEqual(await cluster.launchIssuance(objects), { adopted: false });
    await cluster.replaceIssuance(objects);
    assert.deepEqual(cluster.refused, []);
  });
});
