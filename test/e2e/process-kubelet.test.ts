// The process kubelet against the real control plane: the real Job controller completes and fails Jobs
// whose pods are local processes, the downward API, Secrets, ConfigMaps and the service account token reach
// the process, and deleting a pod kills its process.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { BatchV1Api, CoreV1Api, type V1Container, type V1Job, type V1Pod } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { lookUpImage, startProcessKubelet, type ProcessKubelet } from '../support/kubelet.ts';
import { expandReferences, parseQuantity, sanitizeMountPath } from '../support/kubelet-env.ts';
import { loopbackOf } from '../support/kubelet-network.ts';
import { createNamespace, eventually, isStatus, withDiagnostics } from '../support/cluster-testing.ts';

const FIXTURES = fileURLToPath(new URL('../support/kubelet-fixtures/', import.meta.url));
const IMAGE = 'test/workload:1';
const namespace = 'kubelet-test';

let controlPlane: ControlPlane;
let kubelet: ProcessKubelet;
let core: CoreV1Api;
let batch: BatchV1Api;
let logDir: string;

const diagnostics = () => `--- kubelet\n${kubelet?.logs() ?? ''}\n${controlPlane?.logs(20) ?? ''}`;
const check = <T>(body: () => Promise<T>) => withDiagnostics(diagnostics, body);

before(async () => {
  controlPlane = await startControlPlane();
  logDir = await mkdtemp(join(tmpdir(), 'kubelet-test-logs-'));
  const started = Date.now();
  kubelet = await startProcessKubelet({
    kubeConfig: controlPlane.kubeConfig(),
    imageMap: { 'test/workload': { cwd: FIXTURES, commandPrefix: ['node', 'workload.ts'] } },
    logDir,
  });
  process.stderr.write(`process kubelet started in ${Date.now() - started} ms\n`);
  core = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
  batch = controlPlane.kubeConfig().makeApiClient(BatchV1Api);
  await createNamespace(controlPlane.kubeConfig(), namespace);
});

after(async () => {
  try {
    await kubelet?.stop();
  } finally {
    await controlPlane?.stop();
    if (logDir) await rm(logDir, { recursive: true, force: true });
  }
});

function workload(args: string[], extra: Partial<V1Container> = {}): V1Container {
  return { name: 'main', image: IMAGE, args, ...extra };
}

/** A Job of one pod running `container`, no retries unless the pod restarts it. */
function job(name: string, container: V1Container, restartPolicy = 'Never'): V1Job {
  return {
    metadata: { name },
    spec: { backoffLimit: 0, template: { spec: { restartPolicy, containers: [container] } } },
  };
}

/** Waits for the Job's Complete or Failed condition; returns its type. */
async function jobOutcome(name: string): Promise<string> {
  return eventually(`Job ${name} finished`, async () => {
    const current = await batch.readNamespacedJobStatus({ name, namespace });
    const done = current.status?.conditions?.find(
      (condition) =>
        (condition.type === 'Complete' || condition.type === 'Failed') && condition.status === 'True',
    );
    return done?.type;
  });
}

async function podOfJob(name: string): Promise<V1Pod> {
  const pods = await core.listNamespacedPod({ namespace, labelSelector: `job-name=${name}` });
  assert.equal(pods.items.length, 1, `one pod of Job ${name}`);
  return pods.items[0]!;
}

/** Creates a pod that runs `container` once, and waits for it to end; returns the final pod. */
async function runPod(
  name: string,
  container: V1Container,
  spec: Partial<V1Pod['spec']> = {},
): Promise<V1Pod> {
  await core.createNamespacedPod({
    namespace,
    body: { metadata: { name }, spec: { restartPolicy: 'Never', containers: [container], ...spec } },
  });
  return eventually(`pod ${name} ended`, async () => {
    const pod = await core.readNamespacedPod({ name, namespace });
    const phase = pod.status?.phase;
    return phase === 'Succeeded' || phase === 'Failed' ? pod : undefined;
  });
}

function terminated(pod: V1Pod) {
  const state = pod.status?.containerStatuses?.[0]?.state?.terminated;
  assert.ok(state, `terminated state of ${pod.metadata?.name}: ${JSON.stringify(pod.status)}`);
  return state;
}

describe('pure parts', () => {
  test('$(VAR) references expand as in Kubernetes', () => {
    const env: Record<string, string> = { A: 'a', B: 'b' };
    assert.equal(
      expandReferences('$(A)-$(B)-$(C)-$$(A)-$-$(', (name) => env[name]),
      'a-b-$(C)-$(A)-$-$(',
    );
  });

  test('mount paths become env names, quantities numbers, images entries', () => {
    assert.equal(
      sanitizeMountPath('/var/run/secrets/kubernetes.io/serviceaccount'),
      'VAR_RUN_SECRETS_KUBERNETES_IO_SERVICEACCOUNT',
    );
    assert.equal(sanitizeMountPath('/etc/app-secret/'), 'ETC_APP_SECRET');
    assert.equal(parseQuantity('500m'), 0.5);
    assert.equal(parseQuantity('1Gi'), 2 ** 30);
    const entry = { cwd: '/' };
    const map = { 'kube-lego/kube-lego:*': entry, 'test/echo': entry, exact: entry };
    assert.equal(lookUpImage(map, 'kube-lego/kube-lego:dev'), entry);
    assert.equal(lookUpImage(map, 'kube-lego/kube-lego'), entry);
    assert.equal(lookUpImage(map, 'test/echo:1.2'), entry);
    assert.equal(lookUpImage(map, 'test/echo@sha256:abc'), entry);
    assert.equal(lookUpImage(map, 'exact'), entry);
    assert.equal(lookUpImage(map, 'other:1'), undefined);
  });
});

describe('process kubelet', () => {
  test('registers a Ready Node', () =>
    check(async () => {
      const node = await core.readNode({ name: kubelet.nodeName });
      const ready = node.status?.conditions?.find((condition) => condition.type === 'Ready');
      assert.equal(ready?.status, 'True');
      assert.deepEqual(node.spec?.taints ?? [], []);
      assert.equal(node.status?.addresses?.[0]?.address, '127.0.0.1');
    }));

  test('a Job completes through the real Job controller, its termination message in the pod status', () =>
    check(async () => {
      const started = Date.now();
      await batch.createNamespacedJob({
        namespace,
        body: job('complete', workload(['complete', 'all done: 42'])),
      });
      assert.equal(await jobOutcome('complete'), 'Complete');
      process.stderr.write(`Job create → Complete: ${Date.now() - started} ms\n`);
      const pod = await podOfJob('complete');
      assert.equal(pod.status?.phase, 'Succeeded');
      assert.equal(pod.spec?.nodeName, kubelet.nodeName);
      const state = terminated(pod);
      assert.equal(state.exitCode, 0);
      assert.equal(state.reason, 'Completed');
      assert.equal(state.message, 'all done: 42');
      assert.match(kubelet.podLogs(namespace, pod.metadata!.name!), /completing with all done: 42/);
      const current = await batch.readNamespacedJobStatus({ name: 'complete', namespace });
      assert.equal(current.status?.succeeded, 1);
    }));

  test("serves a container's log through the API server (pods/log, as kubectl logs), its tail on request", () =>
    check(async () => {
      await batch.createNamespacedJob({ namespace, body: job('logged', workload(['complete', 'logged'])) });
      assert.equal(await jobOutcome('logged'), 'Complete');
      const name = (await podOfJob('logged')).metadata!.name!;
      const whole = String(await core.readNamespacedPodLog({ namespace, name, container: 'main' }));
      assert.equal(whole, kubelet.podLogs(namespace, name));
      assert.match(whole, /completing with logged/);
      const last = String(
        await core.readNamespacedPodLog({ namespace, name, container: 'main', tailLines: 1 }),
      );
      assert.equal(last, `${whole.trimEnd().split('\n').at(-1)}\n`);
      await assert.rejects(core.readNamespacedPodLog({ namespace, name, container: 'nonesuch' }));
    }));

  test('a failing container fails its Job, with its exit code and (FallbackToLogsOnError) its last log lines', () =>
    check(async () => {
      const container = workload(['fail', '3', 'the disk is on fire'], {
        terminationMessagePolicy: 'FallbackToLogsOnError',
      });
      await batch.createNamespacedJob({ namespace, body: job('failing', container) });
      assert.equal(await jobOutcome('failing'), 'Failed');
      const pod = await podOfJob('failing');
      assert.equal(pod.status?.phase, 'Failed');
      const state = terminated(pod);
      assert.equal(state.exitCode, 3);
      assert.equal(state.reason, 'Error');
      assert.equal(state.message, 'the disk is on fire');
    }));

  test('restartPolicy OnFailure restarts a failed container, and the Job completes', () =>
    check(async () => {
      const container = workload(['flaky', 'KUBELET_MOUNT_SCRATCH'], {
        volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
      });
      const body = job('flaky', container, 'OnFailure');
      body.spec!.backoffLimit = 2;
      body.spec!.template.spec!.volumes = [{ name: 'scratch', emptyDir: {} }];
      await batch.createNamespacedJob({ namespace, body });
      assert.equal(await jobOutcome('flaky'), 'Complete');
      const pod = await podOfJob('flaky');
      const status = pod.status?.containerStatuses?.[0];
      assert.equal(status?.restartCount, 1);
      assert.equal(status?.lastState?.terminated?.exitCode, 1);
      assert.equal(terminated(pod).message, 'second time lucky');
    }));

  test('env: downward API (podIP, name, namespace, labels), Secret and ConfigMap keys, $(VAR)', () =>
    check(async () => {
      await core.createNamespacedSecret({
        namespace,
        body: { metadata: { name: 'creds' }, stringData: { password: 's3cret' } },
      });
      await core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name: 'settings' }, data: { colour: 'green' } },
      });
      const names = [
        'MY_IP',
        'MY_NAME',
        'MY_NAMESPACE',
        'MY_APP',
        'PASSWORD',
        'COLOUR',
        'GREETING',
        'POD_IP',
        'KUBERNETES_SERVICE_HOST',
        'KUBELET_POD_IP',
      ];
      const container = workload(['env', ...names], {
        env: [
          { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'MY_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'MY_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'MY_APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
          { name: 'COLOUR', valueFrom: { configMapKeyRef: { name: 'settings', key: 'colour' } } },
          { name: 'GREETING', value: 'hello $(MY_NAME)' },
        ],
      });
      await core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name: 'env', labels: { app: 'envy' } },
          spec: { restartPolicy: 'Never', containers: [container] },
        },
      });
      const pod = await eventually('pod env ended', async () => {
        const current = await core.readNamespacedPod({ name: 'env', namespace });
        return current.status?.phase === 'Succeeded' ? current : undefined;
      });
      const seen = JSON.parse(terminated(pod).message ?? '{}') as Record<string, string>;
      // The API shows 10.244.X.Y (EndpointSlices refuse loopback); the process gets its twin 127.0.X.Y.
      assert.match(pod.status?.podIP ?? '', /^10\.244\.\d+\.\d+$/);
      const podIP = loopbackOf(pod.status?.podIP ?? '');
      assert.match(podIP ?? '', /^127\.0\.\d+\.\d+$/);
      assert.notEqual(podIP, '127.0.0.1');
      assert.deepEqual(seen, {
        MY_IP: podIP,
        MY_NAME: 'env',
        MY_NAMESPACE: namespace,
        MY_APP: 'envy',
        PASSWORD: 's3cret',
        COLOUR: 'green',
        GREETING: 'hello env',
        POD_IP: podIP,
        KUBERNETES_SERVICE_HOST: new URL(controlPlane.server).hostname,
        KUBELET_POD_IP: pod.status?.podIP,
      });
      assert.equal(pod.status?.hostIP, '127.0.0.1');
    }));

  test('a Secret volume is readable through KUBELET_MOUNT_<path>', () =>
    check(async () => {
      await core.createNamespacedSecret({
        namespace,
        body: { metadata: { name: 'files' }, stringData: { 'token.txt': 'from a volume' } },
      });
      const pod = await runPod(
        'secret-volume',
        workload(['read', 'KUBELET_MOUNT_ETC_FILES', 'token.txt'], {
          volumeMounts: [{ name: 'files', mountPath: '/etc/files' }],
        }),
        { volumes: [{ name: 'files', secret: { secretName: 'files' } }] },
      );
      assert.equal(pod.status?.phase, 'Succeeded');
      assert.equal(terminated(pod).message, 'from a volume');
    }));

  for (const how of ['cluster', 'default'] as const) {
    test(`the pod's service account token works with ${how === 'cluster' ? 'loadFromCluster($KUBELET_ROOT)' : 'loadFromDefault()'}`, () =>
      check(async () => {
        const pod = await runPod(`whoami-${how}`, workload(['whoami', how]));
        assert.equal(pod.status?.phase, 'Succeeded', kubelet.podLogs(namespace, `whoami-${how}`));
        assert.equal(terminated(pod).message, `system:serviceaccount:${namespace}:default`);
      }));
  }

  test('a pod gets Running, Ready and its own address; deleting it kills its process', () =>
    check(async () => {
      const started = Date.now();
      await core.createNamespacedPod({
        namespace,
        body: { metadata: { name: 'sleeper' }, spec: { containers: [workload(['sleep'])] } },
      });
      const running = await eventually('pod sleeper Running and Ready', async () => {
        const pod = await core.readNamespacedPod({ name: 'sleeper', namespace });
        const ready =
          pod.status?.conditions?.find((condition) => condition.type === 'Ready')?.status === 'True';
        return pod.status?.phase === 'Running' && ready ? pod : undefined;
      });
      process.stderr.write(`pod create → Running and Ready: ${Date.now() - started} ms\n`);
      const pid = Number(
        /^process:\/\/(\d+)$/.exec(running.status?.containerStatuses?.[0]?.containerID ?? '')?.[1],
      );
      assert.ok(pid > 0, 'the container ID names the pid');
      process.kill(pid, 0);
      const deleted = Date.now();
      await core.deleteNamespacedPod({ name: 'sleeper', namespace });
      await eventually('pod sleeper gone', () =>
        core.readNamespacedPod({ name: 'sleeper', namespace }).then(
          () => undefined,
          (error: unknown) => (isStatus(error, 404) ? true : Promise.reject(error)),
        ),
      );
      process.stderr.write(`pod delete → gone: ${Date.now() - deleted} ms\n`);
      assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the process is gone');
    }));

  test('two live pods never share an address', () =>
    check(async () => {
      for (const name of ['twin-a', 'twin-b']) {
        await core.createNamespacedPod({
          namespace,
          body: { metadata: { name }, spec: { containers: [workload(['sleep'])] } },
        });
      }
      const ips = await eventually('both pods have IPs', async () => {
        const found = await Promise.all(
          ['twin-a', 'twin-b'].map(
            async (name) => (await core.readNamespacedPod({ name, namespace })).status?.podIP,
          ),
        );
        return found.every(Boolean) ? found : undefined;
      });
      assert.notEqual(ips[0], ips[1]);
      for (const name of ['twin-a', 'twin-b'])
        await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 1 });
    }));

  test('stop() while a deleted pod is terminating ends within its grace period, leaving the API alone', () =>
    check(async () => {
      // A second kubelet, whose container ignores SIGTERM: the pod's termination (started by the deletion)
      // is still waiting out its 2 s grace period when stop() forgets the pod. This used to leave the
      // status loop's settled promise in place for good, and the termination then spun on it, starving
      // the event loop: stop() never ended, at 100% CPU.
      const second = await startProcessKubelet({
        kubeConfig: controlPlane.kubeConfig(),
        nodeName: 'second-kubelet',
        imageMap: {
          'test/stubborn': {
            cwd: FIXTURES,
            commandPrefix: [
              'node',
              '-e',
              "process.on('SIGTERM', () => console.log('SIGTERM ignored')); console.log('started');" +
                ' setInterval(() => {}, 1000);',
            ],
          },
        },
        logDir,
      });
      let stopped = false;
      try {
        await core.createNamespacedPod({
          namespace,
          body: {
            metadata: { name: 'stubborn' },
            spec: {
              nodeName: second.nodeName,
              terminationGracePeriodSeconds: 2,
              containers: [{ name: 'main', image: 'test/stubborn:1' }],
            },
          },
        });
        await eventually('pod stubborn started', async () =>
          second.podLogs(namespace, 'stubborn').includes('started') ? true : undefined,
        );
        const running = await core.readNamespacedPod({ name: 'stubborn', namespace });
        const pid = Number(
          /^process:\/\/(\d+)$/.exec(running.status?.containerStatuses?.[0]?.containerID ?? '')?.[1],
        );
        await core.deleteNamespacedPod({ name: 'stubborn', namespace });
        await eventually('the kubelet terminating pod stubborn', async () =>
          second.podLogs(namespace, 'stubborn').includes('SIGTERM ignored') ? true : undefined,
        );
        const started = Date.now();
        await second.stop();
        stopped = true;
        const took = Date.now() - started;
        assert.ok(took < 5000, `stop() took ${took} ms`);
        assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the process is gone');
        const pod = await core.readNamespacedPod({ name: 'stubborn', namespace });
        assert.ok(pod.metadata?.deletionTimestamp, 'the stopped kubelet did not delete the pod object');
      } finally {
        if (!stopped) await second.stop();
        await core
          .deleteNamespacedPod({ name: 'stubborn', namespace, gracePeriodSeconds: 0 })
          .catch(() => undefined);
        await core.deleteNode({ name: second.nodeName }).catch(() => undefined);
      }
    }));

  test('an image missing from the imageMap leaves the pod Pending with ErrImagePull', () =>
    check(async () => {
      await core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name: 'unknown-image' },
          spec: { containers: [{ name: 'main', image: 'nowhere/nothing:1' }] },
        },
      });
      const waiting = await eventually('ErrImagePull', async () => {
        const pod = await core.readNamespacedPod({ name: 'unknown-image', namespace });
        const state = pod.status?.containerStatuses?.[0]?.state?.waiting;
        return state?.reason === 'ContainerCreating' ? undefined : state;
      });
      assert.equal(waiting.reason, 'ErrImagePull');
      const pod = await core.readNamespacedPod({ name: 'unknown-image', namespace });
      assert.equal(pod.status?.phase, 'Pending');
    }));
});
