/** Helpers of the end-to-end tests: Ingresses, Secrets and Jobs of the sandbox cluster, observed for real. */
import {
  AppsV1Api,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  NetworkingV1Api,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type KubeConfig,
  type V1Ingress,
  type V1Job,
  type V1Secret,
} from '@kubernetes/client-node';
import { get as httpGet, type IncomingHttpHeaders } from 'node:http';
import { readSecret, verifyTlsSecret } from '../jobs/issuance-harness.ts';
import { eventually } from '../support/cluster-testing.ts';
import { operatorLogs, type Sandbox } from '../support/sandbox.ts';

/** An Ingress of class nginx with the given tls entries, each host routed to a Service `web`. */
export function ingressManifest(name: string, tls: { secretName: string; hosts: string[] }[]): V1Ingress {
  const hosts = [...new Set(tls.flatMap((entry) => entry.hosts))];
  return {
    metadata: { name, annotations: { 'kubernetes.io/tls-acme': 'true' } },
    spec: {
      ingressClassName: 'nginx',
      tls,
      rules: hosts.map((host) => ({
        host,
        http: {
          paths: [
            { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } },
          ],
        },
      })),
    },
  };
}

/** Waits until the Secret holds a certificate for exactly `hosts` that verifies against Pebble's root. */
export async function validSecret(
  sandbox: Sandbox,
  namespace: string,
  name: string,
  hosts: string[],
  ms = 60_000,
) {
  const root = await sandbox.pebble.issuingRootPem();
  return eventually(
    `Secret ${namespace}/${name} valid for ${hosts.join(', ')}`,
    async () => {
      const secret = await readSecret(sandbox.kube, namespace, name);
      if (!secret?.data?.['tls.crt']) return undefined;
      try {
        verifyTlsSecret(secret, root, hosts);
        return secret;
      } catch {
        return undefined;
      }
    },
    ms,
  );
}

/** Every issuance Job created in the kube-lego namespace while it runs, by uid, as a watch sees them. */
export async function watchJobs(kube: KubeConfig): Promise<{ jobs: Map<string, V1Job>; stop(): void }> {
  const jobs = new Map<string, V1Job>();
  const list = await kube.makeApiClient(BatchV1Api).listNamespacedJob({ namespace: 'kube-lego' });
  for (const job of list.items) {
    jobs.set(job.metadata!.uid!, job);
  }
  const controller = await new Watch(kube).watch(
    '/apis/batch/v1/namespaces/kube-lego/jobs',
    { resourceVersion: list.metadata?.resourceVersion },
    (_type, job: V1Job) => {
      jobs.set(job.metadata!.uid!, job);
    },
    () => undefined,
  );
  return { jobs, stop: () => controller.abort() };
}

/** The issuance Jobs (seen by `seen`) of one certificate, one per uid: a Job replaced under its name counts twice. */
export function jobsOf(seen: { jobs: Map<string, V1Job> }, certificate: string): V1Job[] {
  return [...seen.jobs.values()].filter(
    (job) => job.metadata?.annotations?.['kube-lego.io/certificate'] === certificate,
  );
}

/** Whether a Job has finished: its Complete or Failed condition is True. */
export function jobFinished(job: V1Job): boolean {
  return (
    job.status?.conditions?.some(
      (condition) =>
        (condition.type === 'Complete' || condition.type === 'Failed') && condition.status === 'True',
    ) ?? false
  );
}

/** One run of the lifecycle diagram for a certificate, as the operator logs its end. */
export interface OperatorRun {
  certificate: string;
  /** What started it: an Ingress event, a certificate Secret deleted or changed, or the periodic check. */
  trigger: 'ingress' | 'secret' | 'job' | 'recheck' | 'retry' | 'slot' | 'periodic';
  /** The end event it reached: `valid`, `collapsed`, `issued`, ... */
  end: string;
  /** Epoch milliseconds, from the log line's time less the run's duration. */
  startedAt: number;
  endedAt: number;
}

const TRIGGERS: readonly OperatorRun['trigger'][] = [
  'ingress',
  'secret',
  'job',
  'recheck',
  'retry',
  'slot',
  'periodic',
];

/**
 * The runs for `certificate` that the current operator pod(s) logged as ended, oldest first; with `pod`, those
 * that operator pod (of the kube-lego namespace) logged.
 */
export async function operatorRuns(
  sandbox: Sandbox,
  certificate: string,
  pod?: string,
): Promise<OperatorRun[]> {
  const runs: OperatorRun[] = [];
  const log = pod === undefined ? await operatorLogs(sandbox) : sandbox.kubelet.podLogs('kube-lego', pod);
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    // The operator's line for a finished run; the runner's own lines (activities, failures) name no trigger.
    const trigger = entry['trigger'];
    if (entry['certificate'] !== certificate || typeof entry['end'] !== 'string') continue;
    if (!TRIGGERS.includes(trigger as OperatorRun['trigger'])) continue;
    const endedAt = Number(entry['time']);
    runs.push({
      certificate,
      trigger: trigger as OperatorRun['trigger'],
      end: entry['end'],
      startedAt: endedAt - Number(entry['durationMs'] ?? 0),
      endedAt,
    });
  }
  return runs.sort((a, b) => a.endedAt - b.endedAt);
}

/** The networking API. */
export function networking(kube: KubeConfig): NetworkingV1Api {
  return kube.makeApiClient(NetworkingV1Api);
}

/** The operator pod's readiness. */
export async function operatorReady(sandbox: Sandbox): Promise<boolean> {
  const pods = await sandbox.kube
    .makeApiClient(CoreV1Api)
    .listNamespacedPod({ namespace: 'kube-lego', labelSelector: 'app.kubernetes.io/name=kube-lego' });
  return pods.items.some(
    (pod) =>
      !pod.metadata?.deletionTimestamp &&
      pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True'),
  );
}

/** The JSON lines an operator pod logged. */
export function logEntries(sandbox: Sandbox, pod: string): Record<string, unknown>[] {
  const entries: Record<string, unknown>[] = [];
  for (const line of sandbox.kubelet.podLogs('kube-lego', pod).split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      entries.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut short by a read while it was written
    }
  }
  return entries;
}

/** The names of the operator pods that are not being deleted. */
export async function operatorPods(sandbox: Sandbox): Promise<string[]> {
  const pods = await sandbox.kube
    .makeApiClient(CoreV1Api)
    .listNamespacedPod({ namespace: 'kube-lego', labelSelector: 'app.kubernetes.io/name=kube-lego' });
  return pods.items.filter((pod) => !pod.metadata?.deletionTimestamp).map((pod) => pod.metadata!.name!);
}

/** The identity holding the leader Lease now (`<pod>_<random>`, one per process), if any. */
export async function leaseHolder(sandbox: Sandbox): Promise<string | undefined> {
  try {
    const lease = await sandbox.kube
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ namespace: 'kube-lego', name: 'kube-lego' });
    return lease.spec?.holderIdentity || undefined;
  } catch {
    return undefined;
  }
}

/** The pod of a leader identity. */
const podOf = (identity: string) => identity.slice(0, identity.lastIndexOf('_'));

/** The operator pod holding the leader Lease now, if any. */
export async function leaderPod(sandbox: Sandbox): Promise<string | undefined> {
  const holder = await leaseHolder(sandbox);
  return holder === undefined ? undefined : podOf(holder);
}

/** Whether the pod `name` of the kube-lego namespace is Ready and not being deleted. */
async function podReady(sandbox: Sandbox, name: string): Promise<boolean> {
  const pods = await sandbox.kube
    .makeApiClient(CoreV1Api)
    .listNamespacedPod({ namespace: 'kube-lego', labelSelector: 'app.kubernetes.io/name=kube-lego' });
  return pods.items.some(
    (pod) =>
      pod.metadata?.name === name &&
      !pod.metadata.deletionTimestamp &&
      pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True'),
  );
}

/**
 * Waits for a leader other than the pods (or process identities) in `not`, ready; returns its pod name.
 */
export function newLeader(sandbox: Sandbox, not: readonly string[], ms = 60_000): Promise<string> {
  return eventually(
    `a leader other than ${not.join(', ')}`,
    async () => {
      const holder = await leaseHolder(sandbox);
      if (holder === undefined || not.includes(holder) || not.includes(podOf(holder))) return undefined;
      return (await podReady(sandbox, podOf(holder))) ? podOf(holder) : undefined;
    },
    ms,
  );
}

/**
 * Kills the leader's process with SIGKILL (no chance to free the Lease; the kubelet restarts the container,
 * which comes back as a standby); returns its pod and when it was killed.
 */
export async function killLeader(sandbox: Sandbox): Promise<{ identity: string; pod: string; at: number }> {
  const identity = await eventually('a leader', () => leaseHolder(sandbox));
  const pod = podOf(identity);
  const [pid] = sandbox.kubelet.containerPids('kube-lego', pod);
  if (pid === undefined) throw new Error(`no process of the leader pod ${pod}`);
  const at = Date.now();
  process.kill(pid, 'SIGKILL');
  return { identity, pod, at };
}

/**
 * Restarts the leader as `kubectl delete pod` does (SIGTERM: it frees the Lease): deletes the leader's pod
 * and waits for another replica to lead; returns the new leader's pod name.
 */
export async function restartOperator(sandbox: Sandbox): Promise<string> {
  const old = await eventually('a leader', () => leaderPod(sandbox));
  await sandbox.kube.makeApiClient(CoreV1Api).deleteNamespacedPod({ namespace: 'kube-lego', name: old });
  return newLeader(sandbox, [old]);
}

/**
 * Restarts every replica as `kubectl rollout restart` does (so all read a changed ConfigMap): waits until
 * no pod of before is left and a new one leads; returns the new leader's pod name.
 */
export async function rolloutRestart(sandbox: Sandbox): Promise<string> {
  const before = await operatorPods(sandbox);
  await sandbox.kube.makeApiClient(AppsV1Api).patchNamespacedDeployment(
    {
      namespace: 'kube-lego',
      name: 'kube-lego',
      body: {
        spec: {
          template: {
            metadata: { annotations: { 'kube-lego.test/restarted-at': new Date().toISOString() } },
          },
        },
      },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  await eventually(
    'every replica replaced',
    async () => (await operatorPods(sandbox)).every((name) => !before.includes(name)),
    120_000,
  );
  return newLeader(sandbox, before);
}

/**
 * The status and headers of `GET path` sent to the sandbox's ingress controller with `Host: host`, as a
 * validation request arrives (fetch cannot set Host).
 */
export function throughEdge(
  sandbox: Sandbox,
  host: string,
  path: string,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpGet(
      { host: sandbox.edge.address, port: sandbox.edge.port, path, headers: { host }, agent: false },
      (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
        );
      },
    );
    request.on('error', reject);
  });
}
