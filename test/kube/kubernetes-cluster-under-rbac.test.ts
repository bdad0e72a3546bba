/**
 * src/kube/kubernetes-cluster.ts against a real kube-apiserver (and the real Job and garbage-collector
 * controllers), authenticated as the operator's ServiceAccount under the RBAC of manifests/install.yml:
 * every call the lifecycle tasks make (read a Secret, launch, adopt, replace a stale Job, follow a Job to its
 * outcome, record an Event) does what it says, and the API server's audit log shows the requests each made,
 * none refused. Those requests are exactly the ones the in-memory fake (test/unit/fake-cluster.ts) checks
 * against the manifest, and the fake's reading of the manifest is compared with the server's own decisions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  BatchV1Api,
  CoreV1Api,
  NetworkingV1Api,
  type KubeConfig,
  type V1OwnerReference,
  type V1Pod,
} from '@kubernetes/client-node';
import { parseConfig } from '../../src/config.ts';
import { issuanceJobName, issuanceObjects, type IssuanceObjects } from '../../src/issuance/job-objects.ts';
import type { Cluster, ObjectRef } from '../../src/kube/cluster.ts';
import { KubernetesCluster } from '../../src/kube/kubernetes-cluster.ts';
import { missingPermissions, requiredPermissions } from '../../src/kube/permissions.ts';
import { createLogger } from '../../src/log.ts';
import { createNamespace, eventually, isStatus } from '../support/cluster-testing.ts';
import { installRbac, type ResourceRequest } from '../support/manifest-rbac.ts';
import { request } from '../unit/certificate-request.ts';
import { CLUSTER_REQUESTS } from '../unit/fake-cluster.ts';
import {
  ISSUER,
  LOG_START,
  OPERATOR,
  describeRequest,
  requestKinds,
  startRbacCluster,
  type RbacCluster,
  audited as auditedAs,
} from './rbac-harness.ts';

const config = parseConfig({ LEGO_NAMESPACE: 'kube-lego', LEGO_JOB_TTL: '1h' });

/** The request kinds the fake's table names for `method`, in {@link requestKinds}' form. */
function declared(method: keyof Cluster): string[] {
  return [
    ...new Set(CLUSTER_REQUESTS[method].map((call) => `${call.verb} ${call.group}/${call.resource}`)),
  ].sort();
}

describe('KubernetesCluster as the operator under the manifest RBAC', () => {
  let cluster: RbacCluster;
  let operator: KubeConfig;
  let kube: KubernetesCluster;
  let core: CoreV1Api;
  let batch: BatchV1Api;
  let networking: NetworkingV1Api;
  let ingress: ObjectRef;

  /** Runs `body` as the operator; returns its result and the requests the operator made meanwhile. */
  const audited = <T>(body: () => Promise<T>) => auditedAs(cluster, OPERATOR, operator, body);

  /** The issuance objects of a request for `secretName` from the Ingress shop/shop. */
  function objectsFor(secretName: string): IssuanceObjects {
    const token = request({ secretName, ingress: { name: 'shop', uid: ingress.uid } });
    return issuanceObjects(token, issuanceJobName(token, undefined), config);
  }

  /** The Job's pod, once the Job controller created it. */
  function jobPod(job: string): Promise<V1Pod> {
    return eventually(
      `the pod of Job ${job}`,
      async () =>
        (await core.listNamespacedPod({ namespace: 'kube-lego', labelSelector: `job-name=${job}` })).items[0],
      30_000,
    );
  }

  /** Ends the Job's pod as the process kubelet would: Succeeded, with `message` as its termination message. */
  async function finishPod(pod: V1Pod, message: string): Promise<void> {
    const now = new Date();
    pod.status = {
      ...pod.status,
      phase: 'Succeeded',
      containerStatuses: [
        {
          name: 'issue',
          image: pod.spec!.containers[0]!.image!,
          imageID: '',
          ready: false,
          restartCount: 0,
          started: false,
          state: {
            terminated: { exitCode: 0, reason: 'Completed', message, startedAt: now, finishedAt: now },
          },
        },
      ],
    };
    await core.replaceNamespacedPodStatus({
      namespace: pod.metadata!.namespace!,
      name: pod.metadata!.name!,
      body: pod,
    });
  }

  /** The owner reference of an object of the issuance (Service or Ingress), or undefined when it is gone. */
  async function solverOwners(
    name: string,
  ): Promise<{ service?: V1OwnerReference[]; ingress?: V1OwnerReference[] }> {
    const read = async <T>(get: () => Promise<T>) => {
      try {
        return await get();
      } catch (error) {
        if (isStatus(error, 404)) return undefined;
        throw error;
      }
    };
    const service = await read(() => core.readNamespacedService({ namespace: 'kube-lego', name }));
    const solver = await read(() => networking.readNamespacedIngress({ namespace: 'kube-lego', name }));
    const plain = (references: V1OwnerReference[] | undefined) =>
      (references ?? []).map((each) => ({ ...each }));
    return {
      ...(service && { service: plain(service.metadata?.ownerReferences) }),
      ...(solver && { ingress: plain(solver.metadata?.ownerReferences) }),
    };
  }

  /** Puts a finalizer on the solver Service (so it outlives its deletion), or takes it off. */
  async function holdService(name: string, hold: boolean): Promise<void> {
    const service = await core.readNamespacedService({ namespace: 'kube-lego', name });
    service.metadata!.finalizers = hold ? ['kube-lego.test/hold'] : [];
    await core.replaceNamespacedService({ namespace: 'kube-lego', name, body: service });
  }

  const ownedBy = (job: string, uid: string): V1OwnerReference[] => [
    { apiVersion: 'batch/v1', kind: 'Job', name: job, uid, controller: true, blockOwnerDeletion: false },
  ];

  before(async () => {
    cluster = await startRbacCluster();
    core = cluster.admin.makeApiClient(CoreV1Api);
    batch = cluster.admin.makeApiClient(BatchV1Api);
    networking = cluster.admin.makeApiClient(NetworkingV1Api);
    operator = await cluster.as(OPERATOR);
    kube = new KubernetesCluster(operator, createLogger({ level: 'silent', type: 'json' }));
    await createNamespace(cluster.admin, 'shop');
    const created = await networking.createNamespacedIngress({
      namespace: 'shop',
      body: {
        metadata: { name: 'shop', annotations: { 'kubernetes.io/tls-acme': 'true' } },
        spec: {
          tls: [{ secretName: 'shop-tls', hosts: ['shop.test'] }],
          rules: [
            {
              host: 'shop.test',
              http: {
                paths: [
                  {
                    path: '/',
                    pathType: 'Prefix',
                    backend: { service: { name: 'web', port: { number: 80 } } },
                  },
                ],
              },
            },
          ],
        },
      },
    });
    ingress = {
      kind: 'Ingress',
      apiVersion: 'networking.k8s.io/v1',
      namespace: 'shop',
      name: 'shop',
      uid: created.metadata!.uid!,
    };
  });

  after(async () => {
    await cluster?.stop();
  });

  it('reads a certificate Secret in the Ingress namespace with the metadata that says who manages it, and a missing one as undefined (404, not 403)', async () => {
    await core.createNamespacedSecret({
      namespace: 'shop',
      body: {
        metadata: {
          name: 'shop-tls',
          labels: { 'app.kubernetes.io/managed-by': 'kube-lego' },
          annotations: { 'kube-lego.io/issuer-url': 'https://ca.test/directory' },
          // The real Ingress's uid: with an owner that does not exist, the garbage collector would delete
          // the Secret, possibly before it is read.
          ownerReferences: [
            { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'shop', uid: ingress.uid },
          ],
        },
        type: 'kubernetes.io/tls',
        data: {
          'tls.crt': Buffer.from('CERT').toString('base64'),
          'tls.key': Buffer.from('KEY').toString('base64'),
        },
      },
    });
    const { result, requests } = await audited(async () => [
      await kube.readTlsSecret('shop', 'shop-tls'),
      await kube.readTlsSecret('shop', 'absent-tls'),
    ]);
    assert.deepEqual(result, [
      {
        data: { 'tls.crt': 'CERT', 'tls.key': 'KEY' },
        annotations: { 'kube-lego.io/issuer-url': 'https://ca.test/directory' },
        labels: { 'app.kubernetes.io/managed-by': 'kube-lego' },
        ownerReferences: [{ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'shop' }],
      },
      undefined,
    ]);
    assert.deepEqual(requestKinds(requests), declared('readTlsSecret'));
    assert.deepEqual(requests.map(describeRequest), [
      'get secrets shop/shop-tls → 200',
      'get secrets shop/absent-tls → 404',
    ]);
  });

  it('launches the Job as the issuer, with its solver Service and Ingress owned by it, and adopts it on relaunch', async () => {
    const objects = objectsFor('shop-tls');
    const name = objects.job.metadata!.name!;
    const launch = await audited(() => kube.launchIssuance(objects));
    assert.deepEqual(launch.result, { adopted: false });
    assert.deepEqual(requestKinds(launch.requests), [
      'create /services',
      'create batch/jobs',
      'create networking.k8s.io/ingresses',
      'get batch/jobs',
    ]);
    const job = await batch.readNamespacedJob({ namespace: 'kube-lego', name });
    assert.equal(job.spec?.template.spec?.serviceAccountName, ISSUER.name);
    assert.deepEqual(await solverOwners(name), {
      service: ownedBy(name, job.metadata!.uid!),
      ingress: ownedBy(name, job.metadata!.uid!),
    });

    const relaunch = await audited(() => kube.launchIssuance(objects));
    assert.deepEqual(relaunch.result, { adopted: true }, 'running: no outcome yet');
    assert.deepEqual(
      relaunch.requests.filter((each) => each.verb === 'create').map((each) => each.code),
      [409, 409, 409],
      'Job, Service and Ingress exist already',
    );
    assert.equal(
      (await batch.readNamespacedJob({ namespace: 'kube-lego', name })).metadata?.uid,
      job.metadata?.uid,
    );
  });

  it("reads a finished Job's outcome from its pod's termination message", async () => {
    const name = objectsFor('shop-tls').job.metadata!.name!;
    const pod = await jobPod(name);
    await assert.rejects(kube.readJobOutcome('kube-lego', name), /has not finished/);
    await finishPod(
      pod,
      JSON.stringify({ succeeded: true, reason: 'Issued', message: 'issued for shop.test' }),
    );
    await eventually('the Job complete', async () => {
      const job = await batch.readNamespacedJob({ namespace: 'kube-lego', name });
      return (job.status?.conditions ?? []).some(
        (condition) => condition.type === 'Complete' && condition.status === 'True',
      );
    });
    const { result, requests } = await audited(() => kube.readJobOutcome('kube-lego', name));
    assert.deepEqual(result, { succeeded: true, reason: 'Issued', message: 'issued for shop.test' });
    assert.deepEqual(requestKinds(requests), declared('readJobOutcome'));
  });

  it('replaces the succeeded Job: deletes it, and creates the new Job and its solver objects once the old ones are gone', async () => {
    const objects = objectsFor('shop-tls');
    const name = objects.job.metadata!.name!;
    const stale = await audited(() => kube.launchIssuance(objects));
    assert.equal(stale.result.adopted, true);
    assert.equal(stale.result.outcome?.succeeded, true, 'the adopted Job is known to have succeeded');
    const oldUid = (await batch.readNamespacedJob({ namespace: 'kube-lego', name })).metadata!.uid!;
    const oldPod = (await jobPod(name)).metadata!.uid!;
    assert.deepEqual(await solverOwners(name), {
      service: ownedBy(name, oldUid),
      ingress: ownedBy(name, oldUid),
    });
    // A finalizer keeps the old solver Service after the garbage collector deletes it, as a busy collector
    // would leave it in place a while: the new Job must not adopt it.
    await holdService(name, true);

    const replace = await audited(async () => {
      let settled = false;
      const replacing = kube.replaceIssuance(objects).finally(() => (settled = true));
      await eventually('the old solver Service deleted by the garbage collector (and held)', async () => {
        const service = await core.readNamespacedService({ namespace: 'kube-lego', name });
        return service.metadata?.deletionTimestamp !== undefined;
      });
      await eventually('the new Job', async () => {
        const job = await batch.readNamespacedJob({ namespace: 'kube-lego', name });
        return job.metadata?.uid !== oldUid;
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(settled, false, 'the replace waits while the old solver Service is there');
      await holdService(name, false);
      await replacing;
    });
    assert.deepEqual(
      requestKinds(replace.requests),
      declared('replaceIssuance').filter((kind) => !/^(get|patch) networking/.test(kind)),
      'all but the in-place edit',
    );
    const codes = (verb: string, resource: string) =>
      replace.requests
        .filter((each) => each.verb === verb && each.resource === resource)
        .map((each) => each.code);
    assert.deepEqual(codes('delete', 'jobs'), [200]);
    assert.ok(
      codes('create', 'services').length > 1,
      'the Service was created again until the old one was gone',
    );
    assert.deepEqual(new Set(codes('create', 'services')), new Set([409, 201]));
    const job = await batch.readNamespacedJob({ namespace: 'kube-lego', name });
    const newUid = job.metadata!.uid!;
    assert.equal(job.status?.succeeded ?? 0, 0, 'a new Job, not yet run');
    assert.deepEqual(await solverOwners(name), {
      service: ownedBy(name, newUid),
      ingress: ownedBy(name, newUid),
    });
    // What the old Job owned is collected (its pod); the solver objects stay, the new Job's.
    await eventually(
      'the old Job pod collected',
      async () => {
        const pods = await core.listNamespacedPod({
          namespace: 'kube-lego',
          labelSelector: `job-name=${name}`,
        });
        return !pods.items.some((pod) => pod.metadata?.uid === oldPod);
      },
      30_000,
    );
    assert.deepEqual(await solverOwners(name), {
      service: ownedBy(name, newUid),
      ingress: ownedBy(name, newUid),
    });
  });

  it('finds a Job with its attempt record, records its outcome on it and deletes its solver objects at once', async () => {
    const objects = objectsFor('closed-tls');
    const name = objects.job.metadata!.name!;
    objects.job.metadata!.annotations = {
      ...objects.job.metadata!.annotations,
      'kube-lego.io/previous-failures': '2',
    };
    assert.equal(await kube.findIssuanceJob('kube-lego', name), undefined, 'none yet (404)');
    await kube.launchIssuance(objects);
    const running = await audited(() => kube.findIssuanceJob('kube-lego', name));
    assert.deepEqual(requestKinds(running.requests), declared('findIssuanceJob'));
    assert.equal(running.result?.finished, undefined);
    assert.equal(running.result?.previousFailures, 2);
    await finishPod(
      await jobPod(name),
      JSON.stringify({ succeeded: false, reason: 'SelfCheckFailed', message: 'answered 404' }),
    );
    const finished = await eventually('the Job finished', async () => {
      const found = await kube.findIssuanceJob('kube-lego', name);
      return found?.finished === undefined ? undefined : found;
    });
    assert.equal(finished.finished?.succeeded, true, 'the pod succeeded, so the Job completed');
    const retryAt = new Date(Date.now() + 60_000).toISOString();
    const close = await audited(() =>
      kube.closeIssuance('kube-lego', name, {
        annotations: { 'kube-lego.io/failures': '3', 'kube-lego.io/retry-at': retryAt },
        keepSeconds: 7200,
      }),
    );
    assert.deepEqual(requestKinds(close.requests), [
      'delete /services',
      'delete networking.k8s.io/ingresses',
      'patch batch/jobs',
    ]);
    assert.deepEqual(
      close.requests.map((each) => each.code),
      [200, 200, 200],
    );
    const job = await batch.readNamespacedJob({ namespace: 'kube-lego', name });
    assert.equal(job.spec?.ttlSecondsAfterFinished, 7200);
    const recorded = await kube.findIssuanceJob('kube-lego', name);
    assert.equal(recorded?.failures, 3);
    assert.equal(recorded?.retryAt, Date.parse(retryAt));
    await eventually(
      'the solver objects gone',
      async () => Object.keys(await solverOwners(name)).length === 0,
    );
    // Closing again, or a Job deleted meanwhile, is not an error.
    await batch.deleteNamespacedJob({ namespace: 'kube-lego', name, propagationPolicy: 'Background' });
    await eventually(
      'the Job gone',
      async () => (await kube.findIssuanceJob('kube-lego', name)) === undefined,
    );
    await kube.closeIssuance('kube-lego', name, { annotations: { 'kube-lego.io/outcome-recorded': 'X' } });
  });

  it("edits the Ingress in place: its Service in the Ingress's namespace, the challenge path added, then exactly that taken out, the owner's change made meanwhile kept", async () => {
    const token = request({
      secretName: 'in-place-tls',
      ingress: { name: 'shop', uid: ingress.uid },
      editInPlace: true,
    });
    const objects = issuanceObjects(token, issuanceJobName(token, undefined), config);
    const name = objects.job.metadata!.name!;
    const before = await networking.readNamespacedIngress({ namespace: 'shop', name: 'shop' });
    const launch = await audited(() => kube.launchIssuance(objects));
    const service = await core.readNamespacedService({ namespace: 'shop', name });
    assert.equal(service.spec?.selector, undefined, 'no selector: the Job publishes its endpoint');
    assert.deepEqual(
      service.metadata?.ownerReferences?.map((owner) => [owner.kind, owner.name, owner.uid]),
      [['Ingress', 'shop', ingress.uid]],
    );
    const edited = await networking.readNamespacedIngress({ namespace: 'shop', name: 'shop' });
    assert.deepEqual(
      edited.spec?.rules?.[0]?.http?.paths.map((path) => [path.path, path.backend.service?.name]),
      [
        ['/.well-known/acme-challenge/', name],
        ['/', 'web'],
      ],
    );
    await assert.rejects(
      networking.readNamespacedIngress({ namespace: 'kube-lego', name }),
      (error) => isStatus(error, 404),
      'no solver Ingress',
    );
    const relaunch = await audited(() => kube.launchIssuance(objects));
    assert.deepEqual(relaunch.result, { adopted: true });
    assert.ok(
      relaunch.requests.every((each) => each.verb !== 'patch'),
      'a relaunch finds the path there and patches nothing',
    );
    // The owner changes the Ingress while the Job runs: a path of its own, first.
    edited.spec!.rules![0]!.http!.paths.unshift({
      path: '/api',
      pathType: 'Prefix',
      backend: { service: { name: 'api', port: { number: 80 } } },
    });
    await networking.replaceNamespacedIngress({ namespace: 'shop', name: 'shop', body: edited });
    const close = await audited(() =>
      kube.closeIssuance('kube-lego', name, { annotations: { 'kube-lego.io/outcome-recorded': 'Issued' } }),
    );
    const after = await networking.readNamespacedIngress({ namespace: 'shop', name: 'shop' });
    assert.deepEqual(
      after.spec?.rules?.[0]?.http?.paths.map((path) => [path.path, path.backend.service?.name]),
      [
        ['/api', 'api'],
        ['/', 'web'],
      ],
    );
    assert.deepEqual(after.spec?.tls, before.spec?.tls);
    await assert.rejects(
      core.readNamespacedService({ namespace: 'shop', name }),
      (error) => isStatus(error, 404),
      'the solver Service deleted',
    );
    assert.deepEqual(
      [...new Set([...requestKinds(launch.requests), ...requestKinds([...relaunch.requests])])].sort(),
      declared('launchIssuance').filter((kind) => kind !== 'create networking.k8s.io/ingresses'),
    );
    assert.deepEqual(
      requestKinds(close.requests),
      declared('closeIssuance').filter((kind) => kind !== 'delete networking.k8s.io/ingresses'),
    );
    // The owner's path stays at the next launch and close, which add and remove only kube-lego's.
    await kube.launchIssuance(objects);
    await kube.closeIssuance('kube-lego', name, { annotations: {} });
    const again = await networking.readNamespacedIngress({ namespace: 'shop', name: 'shop' });
    assert.deepEqual(again.spec?.rules, after.spec?.rules);
  });

  it('reports JobDeleted when the Job is gone before its outcome is read', async () => {
    const objects = objectsFor('other-tls');
    const name = objects.job.metadata!.name!;
    await kube.launchIssuance(objects);
    await batch.deleteNamespacedJob({ namespace: 'kube-lego', name, propagationPolicy: 'Background' });
    await eventually('the Job gone', async () => {
      try {
        await batch.readNamespacedJob({ namespace: 'kube-lego', name });
        return false;
      } catch {
        return true;
      }
    });
    const { result, requests } = await audited(() => kube.readJobOutcome('kube-lego', name));
    assert.equal(result.succeeded, false);
    assert.equal(result.reason, 'JobDeleted');
    assert.deepEqual(requestKinds(requests), ['get batch/jobs']);
  });

  it('records an Event on the Ingress in its namespace', async () => {
    const { requests } = await audited(() =>
      kube.recordEvent(ingress, 'Warning', 'SelfCheckFailed', 'host shop.test answered 404'),
    );
    assert.deepEqual(requestKinds(requests), declared('recordEvent'));
    const events = await core.listNamespacedEvent({
      namespace: 'shop',
      fieldSelector: 'involvedObject.name=shop,involvedObject.kind=Ingress',
    });
    assert.deepEqual(
      events.items.map((event) => [
        event.type,
        event.reason,
        event.message,
        event.involvedObject.uid,
        event.source?.component,
      ]),
      [['Warning', 'SelfCheckFailed', 'host shop.test answered 404', ingress.uid, 'kube-lego']],
    );
  });

  it('passes its own start-up permission check, which asks for every request the adapter makes', async () => {
    const required = requiredPermissions(config);
    for (const [method, calls] of Object.entries(CLUSTER_REQUESTS)) {
      for (const call of calls) {
        assert.ok(
          required.some(
            (p) => p.verb === call.verb && p.group === call.group && p.resource === call.resource,
          ),
          `the start-up check asks for ${call.verb} ${call.resource} (${method})`,
        );
      }
    }
    assert.deepEqual(await missingPermissions(operator, required), []);
  });

  it("agrees with the API server on what the manifest allows each identity (the fake's reading)", async () => {
    const rbac = await installRbac();
    const resources: [string, string][] = [
      ['', 'secrets'],
      ['', 'events'],
      ['', 'pods'],
      ['', 'pods/log'],
      ['', 'services'],
      ['', 'configmaps'],
      ['batch', 'jobs'],
      ['batch', 'jobs/status'],
      ['networking.k8s.io', 'ingresses'],
      ['discovery.k8s.io', 'endpointslices'],
      ['apps', 'deployments'],
    ];
    const verbs = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
    const cases: [typeof OPERATOR, ResourceRequest][] = [];
    for (const account of [OPERATOR, ISSUER]) {
      for (const [group, resource] of resources) {
        for (const verb of verbs) {
          for (const namespace of ['kube-lego', 'shop', undefined]) {
            cases.push([account, { verb, group, resource, ...(namespace !== undefined && { namespace }) }]);
          }
        }
      }
    }
    const disagreements: string[] = [];
    let allowed = 0;
    for (let start = 0; start < cases.length; start += 40) {
      await Promise.all(
        cases.slice(start, start + 40).map(async ([account, each]) => {
          const server = await cluster.allows(account, each);
          if (server) allowed += 1;
          if (server !== rbac.allows(account, each)) {
            disagreements.push(
              `${account.name}: ${each.verb} ${each.resource} in ${each.namespace ?? '(all)'}: server ${server}`,
            );
          }
        }),
      );
    }
    assert.deepEqual(disagreements, []);
    assert.ok(allowed > 20, `${allowed} of ${cases.length} allowed`);
  });
});
