/**
 * A process kubelet: enough of a node for the real controllers to do their real work on loopback, without
 * containers. Modelled on kwok's stages, except that the containers really run, as local processes.
 *
 * It registers a Node (Ready, InternalIP 127.0.0.1, no taints; its status is refreshed every 20 s, though
 * with no node-lifecycle controller nothing watches), binds every unscheduled Pod to itself through the
 * pods/binding subresource (there is no scheduler; pods with scheduling gates wait), serves its containers'
 * logs to the API server (`pods/log`, kubelet-logs.ts), and runs each Pod bound to it (see kubelet-pod.ts
 * for the life of a pod):
 *
 * - the Pod gets its own loopback address 127.0.X.Y (from 127.0.0.2 up, unique among live pods; Linux
 *   routes all of 127.0.0.0/8 to lo), where its processes listen, and reports it as status.podIP
 *   10.244.X.Y, because the API server refuses loopback addresses in EndpointSlices: see
 *   kubelet-network.ts. hostIP is 127.0.0.1; hostNetwork pods get 127.0.0.1 for both (and so cannot be
 *   Service endpoints);
 * - securityContext, resources and liveness/startup probes are not enforced: processes run as the user
 *   running the tests, on the machine's file system;
 * - each container's image is looked up in `imageMap` (exact name, a `*` pattern, or the name without its
 *   tag), which gives the working directory, an optional command prefix (the entrypoint) and image env; the
 *   process is `commandPrefix + command + args` ($(VAR) expanded), run in its own process group, stdout and
 *   stderr appended to `<logDir>/<namespace>_<pod>_<uid8>_<container>.log`. An image not in the map leaves
 *   the container waiting with reason ErrImagePull;
 * - volumes (Secret, ConfigMap, downward API, projected with serviceAccountToken from the TokenRequest API,
 *   emptyDir, hostPath) are written to a temporary directory, and each volumeMount appears as a symbolic
 *   link at `$KUBELET_ROOT<mountPath>` (processes cannot see the real mount paths);
 * - deleting a Pod (deletionTimestamp set) stops its processes (SIGTERM, SIGKILL after the grace period),
 *   reports the final status and deletes the object with gracePeriodSeconds 0.
 *
 * What a process sees in its environment, besides its container's `env` and `envFrom` (resolved, downward
 * API included) and the image's env:
 *
 * | variable | value |
 * | --- | --- |
 * | `PATH` | the directory of the node binary running the tests, `<cwd>/node_modules/.bin`, then this PATH |
 * | `HOME` | a directory of its own (so no ~/.kube/config of the machine is found) |
 * | `HOSTNAME`, `POD_NAME`, `POD_NAMESPACE`, `NODE_NAME` | as named (a container's own `env` wins) |
 * | `POD_IP` | the pod's loopback address 127.0.X.Y, to listen on; `fieldRef: status.podIP` gives the same |
 * | `KUBELET_POD_IP` | the pod's IP as the API shows it, 10.244.X.Y (never dialled) |
 * | `KUBERNETES_SERVICE_HOST`, `KUBERNETES_SERVICE_PORT` | the API server's loopback address and port (never a ClusterIP) |
 * | `KUBELET_ROOT` | the container's root: mounts are at `$KUBELET_ROOT<mountPath>` |
 * | `KUBELET_MOUNT_<PATH>` | each mount's directory, `<PATH>` being the mountPath uppercased, runs of other characters `_`: `/etc/app-secret` → `KUBELET_MOUNT_ETC_APP_SECRET` |
 * | `KUBELET_SA_DIR` | the service account directory (token, ca.crt, namespace), when the pod mounts one |
 * | `KUBELET_KUBECONFIG` | a kubeconfig using that token and CA, with the pod's namespace |
 * | `KUBECONFIG` | the same, unless `kubeconfigEnv: false` |
 * | `KUBELET_TERMINATION_LOG` | the file standing for terminationMessagePath (default /dev/termination-log) |
 *
 * So a client finds the API server as in a pod with `new KubeConfig().loadFromCluster(process.env.KUBELET_ROOT)`
 * (loadFromCluster prefixes /var/run/secrets/kubernetes.io/serviceaccount with its argument), or, unchanged,
 * with `loadFromDefault()` through KUBECONFIG; both authenticate as the pod's service account, so RBAC
 * applies. A server in a pod listens on `$POD_IP` (not 0.0.0.0, which other pods share). A program that
 * writes its termination message to a fixed path can be pointed at the kubelet's file through the image
 * env: `env: { TERMINATION_MESSAGE_PATH: '$(KUBELET_TERMINATION_LOG)' }`, and one that reads the pod's
 * ServiceAccount files itself at the directory the image env names: `SERVICE_ACCOUNT_DIR: '$(KUBELET_SA_DIR)'`.
 */
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { arch, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import {
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import { ExitGuard, killGroup } from './exit-guard.ts';
import type { ConfigSource } from './kubelet-env.ts';
import { PodWorker, type ImageEntry, type PodHost } from './kubelet-pod.ts';
import { claimAddressBlock, podIPOf } from './kubelet-network.ts';
import { inform, type Informer } from './kubelet-watch.ts';
import { startLogEndpoint } from './kubelet-logs.ts';

export type { ImageEntry } from './kubelet-pod.ts';
export { loopbackOf, podIPOf, POD_NETWORK } from './kubelet-network.ts';

/** Options of {@link startProcessKubelet}. */
export interface ProcessKubeletOptions {
  /** Admin access to the cluster (the control plane's kubeConfig()). */
  readonly kubeConfig: KubeConfig;
  /** Name of the Node to register. Default: `process-kubelet`. */
  readonly nodeName?: string;
  /**
   * How each container image runs: by exact image, by pattern with `*` (`kube-lego/kube-lego:*`), or by
   * name without tag (`test/echo` matches `test/echo:1` and `test/echo@sha256:...`).
   */
  readonly imageMap: Readonly<Record<string, ImageEntry>>;
  /** Directory for container logs and the kubelet's own log (`kubelet.log`); must exist. */
  readonly logDir: string;
  /** Environment of every process, under the pod's own. */
  readonly env?: Readonly<Record<string, string>>;
  /** Set KUBECONFIG to the service account kubeconfig in pods that mount a token. Default: true. */
  readonly kubeconfigEnv?: boolean;
}

/** A running process kubelet. */
export interface ProcessKubelet {
  /** The Node it registered. */
  readonly nodeName: string;
  /** Everything the pod's containers wrote so far (init containers first, each under a header when several). */
  podLogs(namespace: string, name: string): string;
  /** Process ids of the pod's containers running now, for tests that kill one (SIGKILL: no chance to react). */
  containerPids(namespace: string, name: string): number[];
  /** The kubelet's own diagnostics so far. */
  logs(): string;
  /** Stops watching and kills every pod's processes (SIGTERM, SIGKILL after 2 s); the API is not touched. */
  stop(): Promise<void>;
}

/** Process groups of containers alive in this process, killed if it exits before the kubelet stops them. */
const groups = new ExitGuard<number>(killGroup);

function track(pid: number, alive: boolean): void {
  if (alive) groups.add(pid);
  else groups.delete(pid);
}

/** The entry of `imageMap` for `image`: exact, then `*` patterns, then the name without tag or digest. */
export function lookUpImage(
  imageMap: Readonly<Record<string, ImageEntry>>,
  image: string,
): ImageEntry | undefined {
  if (Object.hasOwn(imageMap, image)) return imageMap[image];
  for (const [key, entry] of Object.entries(imageMap)) {
    if (!key.includes('*')) continue;
    const pattern = key.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*');
    if (new RegExp(`^${pattern}$`).test(image)) return entry;
    // `name:*` also takes the bare name (the tag `latest` implied).
    if (key.endsWith(':*') && image === key.slice(0, -2)) return entry;
  }
  const name = image.replace(/@.*$/, '').replace(/:[^:/]*$/, '');
  return Object.hasOwn(imageMap, name) ? imageMap[name] : undefined;
}

/** Whether `promise` settled within `ms` (its rejection counts as settled). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const codeOf = (error: unknown) => (error as { code?: unknown } | undefined)?.code;

/** RFC 3339 in seconds, as the API server writes metav1.Time. */
function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Secrets and ConfigMaps of one namespace, read from the API each time (no cache: tests change them). */
function configSource(core: CoreV1Api, namespace: string): ConfigSource {
  const missing = (error: unknown) => {
    if (codeOf(error) === 404) return undefined;
    throw error;
  };
  const decode = (data: Record<string, string> | undefined, base64: boolean) =>
    Object.fromEntries(
      Object.entries(data ?? {}).map(([key, value]) => [key, Buffer.from(value, base64 ? 'base64' : 'utf8')]),
    );
  return {
    secret: (name) =>
      core.readNamespacedSecret({ name, namespace }).then((secret) => decode(secret.data, true), missing),
    configMap: (name) =>
      core
        .readNamespacedConfigMap({ name, namespace })
        .then((map) => ({ ...decode(map.binaryData, true), ...decode(map.data, false) }), missing),
  };
}

/** The Node object this kubelet registers. */
function nodeObject(name: string, logPort: number): V1Node {
  const time = now() as unknown as Date;
  const condition = (type: string, ok: boolean, reason: string, message: string) => ({
    type,
    status: ok ? 'True' : 'False',
    reason,
    message,
    lastHeartbeatTime: time,
    lastTransitionTime: time,
  });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': arch() === 'x64' ? 'amd64' : arch(),
        'node.kubernetes.io/instance-type': 'process-kubelet',
      },
    },
    spec: {},
    status: {
      addresses: [
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: name },
      ],
      // Where the API server reads containers' logs (kubelet-logs.ts).
      daemonEndpoints: { kubeletEndpoint: { Port: logPort } },
      capacity: { cpu: '16', memory: '64Gi', pods: '1000', 'ephemeral-storage': '100Gi' },
      allocatable: { cpu: '16', memory: '64Gi', pods: '1000', 'ephemeral-storage': '100Gi' },
      conditions: [
        condition(
          'MemoryPressure',
          false,
          'KubeletHasSufficientMemory',
          'kubelet has sufficient memory available',
        ),
        condition('DiskPressure', false, 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', false, 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        condition('Ready', true, 'KubeletReady', 'process kubelet is posting ready status'),
      ],
      nodeInfo: {
        architecture: arch() === 'x64' ? 'amd64' : arch(),
        bootID: '',
        containerRuntimeVersion: 'process://1',
        kernelVersion: '',
        kubeProxyVersion: '',
        kubeletVersion: 'v1.37.2',
        machineID: '',
        operatingSystem: 'linux',
        osImage: 'process kubelet',
        systemUUID: '',
      },
    },
  };
}

/** Registers the Node and runs the Pods the cluster gives it, until stopped. */
export async function startProcessKubelet(options: ProcessKubeletOptions): Promise<ProcessKubelet> {
  const nodeName = options.nodeName ?? 'process-kubelet';
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const server = new URL(options.kubeConfig.getCurrentCluster()?.server ?? 'https://127.0.0.1:6443');
  const apiServer = { host: server.hostname.replace(/^\[|\]$/g, ''), port: Number(server.port || 443) };
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  const strategicPatch = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

  // Register the Node; the TaintNodesByCondition admission adds a not-ready taint on create, which only
  // the node-lifecycle controller (not running) would remove: clear it.
  const logFiles = new Map<string, { container: string; path: string }[]>();
  const logEndpoint = await startLogEndpoint((namespace, pod, container) => {
    const file = (logFiles.get(`${namespace}/${pod}`) ?? []).find((each) => each.container === container);
    if (file === undefined) return undefined;
    try {
      return readFileSync(file.path, 'utf8');
    } catch {
      return '';
    }
  });
  const node = nodeObject(nodeName, logEndpoint.port);
  try {
    await core.createNode({ body: node });
  } catch (error) {
    if (codeOf(error) !== 409) throw error;
    await core.patchNodeStatus({ name: nodeName, body: { status: node.status } }, mergePatch);
  }
  await core.patchNode({ name: nodeName, body: { spec: { taints: null, unschedulable: null } } }, mergePatch);

  const podsRoot = await mkdtemp(join(tmpdir(), 'process-kubelet-'));
  const logLines: string[] = [];
  const logStream: WriteStream = createWriteStream(join(options.logDir, 'kubelet.log'), { flags: 'a' });
  const log = (message: string) => {
    const line = `${new Date().toISOString()} ${message}\n`;
    logLines.push(line);
    logStream.write(line);
  };
  const heartbeat = setInterval(() => {
    core
      .patchNodeStatus(
        {
          name: nodeName,
          body: { status: { conditions: nodeObject(nodeName, logEndpoint.port).status?.conditions } },
        },
        strategicPatch,
      )
      .catch((error: unknown) => log(`node heartbeat: ${String(error)}`));
  }, 20_000);
  heartbeat.unref();

  const pool = await claimAddressBlock();
  const workers = new Map<string, PodWorker>();
  const binding = new Set<string>();
  const deleting = new Set<string>();
  const bin = dirname(process.execPath);
  /** Process groups of this kubelet's containers (those of `groups` that are its own). */
  const ownGroups = new Set<number>();
  let stopped = false;

  const host = (cwdBin: string[]): PodHost => ({
    nodeName,
    apiServer,
    baseEnv: {
      PATH: [bin, ...cwdBin, process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'].join(delimiter),
      ...(process.env.LANG ? { LANG: process.env.LANG } : {}),
      ...(process.env.TZ ? { TZ: process.env.TZ } : {}),
      ...options.env,
    },
    logDir: options.logDir,
    kubeconfigEnv: options.kubeconfigEnv ?? true,
    image: (image) => lookUpImage(options.imageMap, image),
    source: (namespace) => configSource(core, namespace),
    async requestToken(pod, audience, expirationSeconds) {
      const answer = await core.createNamespacedServiceAccountToken({
        name: pod.spec?.serviceAccountName || 'default',
        namespace: pod.metadata?.namespace ?? '',
        body: {
          spec: {
            audiences: audience === undefined ? [] : [audience],
            expirationSeconds,
            boundObjectRef: {
              apiVersion: 'v1',
              kind: 'Pod',
              name: pod.metadata?.name,
              uid: pod.metadata?.uid,
            },
          },
        },
      });
      const token = answer.status?.token;
      if (!token) throw new Error('TokenRequest returned no token');
      return {
        token,
        expiresAt: new Date(answer.status?.expirationTimestamp ?? Date.now() + expirationSeconds * 1000),
      };
    },
    async patchStatus(pod, patch) {
      await core.patchNamespacedPodStatus(
        { name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? '', body: patch },
        strategicPatch,
      );
    },
    async deleteNow(pod) {
      await deletePod(pod);
    },
    releaseIP: (ip) => pool.release(ip),
    track(pid, alive) {
      if (alive) ownGroups.add(pid);
      else ownGroups.delete(pid);
      track(pid, alive);
    },
    log,
  });

  /** Deletes the pod object with grace period 0, once per pod. */
  async function deletePod(pod: V1Pod): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    if (deleting.has(uid)) return;
    deleting.add(uid);
    try {
      await core.deleteNamespacedPod({
        name: pod.metadata?.name ?? '',
        namespace: pod.metadata?.namespace ?? '',
        gracePeriodSeconds: 0,
        body: { gracePeriodSeconds: 0, preconditions: { uid } },
      });
    } catch (error) {
      if (codeOf(error) !== 404 && codeOf(error) !== 409) {
        deleting.delete(uid);
        throw error;
      }
    }
  }

  async function bind(pod: V1Pod): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    if (binding.has(uid)) return;
    binding.add(uid);
    const name = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace ?? '';
    try {
      await core.createNamespacedPodBinding({
        name,
        namespace,
        body: { metadata: { name, namespace }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } },
      });
    } catch (error) {
      binding.delete(uid);
      const code = codeOf(error);
      if (code === 404 || code === 409) return;
      log(`bind ${namespace}/${name}: ${String(error)}`);
      setTimeout(() => {
        const current = pods?.store.get(`${namespace}/${name}`);
        if (!stopped && current?.metadata?.uid === uid && !current.spec?.nodeName) void bind(current);
      }, 1000).unref();
    }
  }

  async function startWorker(pod: V1Pod): Promise<void> {
    const { namespace = '', name = '', uid = '' } = pod.metadata ?? {};
    const hostNetwork = pod.spec?.hostNetwork === true;
    const cwdBins: string[] = [];
    for (const container of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      const entry = lookUpImage(options.imageMap, container.image ?? '');
      const candidate = entry && join(entry.cwd, 'node_modules', '.bin');
      if (
        candidate &&
        !cwdBins.includes(candidate) &&
        (await access(candidate).then(
          () => true,
          () => false,
        ))
      ) {
        cwdBins.push(candidate);
      }
    }
    // Stopped while looking: start nothing (stop() has already killed the workers it knew).
    if (stopped) return;
    const ip = hostNetwork ? '127.0.0.1' : pool.take();
    const addresses = { loopback: ip, podIP: hostNetwork ? ip : podIPOf(ip) };
    const dir = join(podsRoot, `${namespace}_${name}_${uid.slice(0, 8)}`);
    const worker = new PodWorker(pod, host(cwdBins), dir, addresses, !hostNetwork);
    workers.set(uid, worker);
    logFiles.set(`${namespace}/${name}`, worker.logFiles);
    log(`pod ${namespace}/${name}: starting on ${ip} (pod IP ${addresses.podIP})`);
    worker.start();
    const latest = pods?.store.get(`${namespace}/${name}`);
    if (latest?.metadata?.uid === uid) {
      worker.update(latest);
    } else if (pods !== undefined) {
      worker.forget();
      workers.delete(uid);
      void worker.kill(2000);
    }
  }

  const starting = new Set<string>();

  function onPod(type: string, pod: V1Pod): void {
    if (stopped) return;
    const uid = pod.metadata?.uid ?? '';
    const worker = workers.get(uid);
    if (type === 'DELETED') {
      if (worker) {
        worker.forget();
        void worker.kill(2000);
        workers.delete(uid);
      }
      deleting.delete(uid);
      return;
    }
    const nodeOfPod = pod.spec?.nodeName;
    if (!nodeOfPod) {
      const gated = (pod.spec?.schedulingGates?.length ?? 0) > 0;
      if (
        !pod.metadata?.deletionTimestamp &&
        !gated &&
        pod.status?.phase !== 'Succeeded' &&
        pod.status?.phase !== 'Failed'
      ) {
        void bind(pod);
      }
      return;
    }
    if (nodeOfPod !== nodeName) return;
    if (worker) {
      worker.update(pod);
      return;
    }
    if (starting.has(uid)) return;
    if (pod.metadata?.deletionTimestamp) {
      deletePod(pod).catch((error: unknown) => log(`delete ${pod.metadata?.name}: ${String(error)}`));
      return;
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    starting.add(uid);
    startWorker(pod)
      .catch((error: unknown) => log(`pod ${pod.metadata?.name}: ${String(error)}`))
      .finally(() => starting.delete(uid));
  }

  let pods: Informer<V1Pod> | undefined;
  pods = inform<V1Pod>(
    options.kubeConfig,
    '/api/v1/pods',
    () => core.listPodForAllNamespaces(),
    (event) => onPod(event.type, event.object),
    (error) => log(`pod watch: ${String(error)}`),
  );
  await pods.synced;
  log(`node ${nodeName} registered, watching pods`);

  return {
    nodeName,
    podLogs(namespace, name) {
      const files = logFiles.get(`${namespace}/${name}`) ?? [];
      const read = (path: string) => {
        try {
          return readFileSync(path, 'utf8');
        } catch {
          return '';
        }
      };
      if (files.length === 1) return read(files[0]!.path);
      return files.map((file) => `==> ${file.container} <==\n${read(file.path)}`).join('\n');
    },
    containerPids(namespace, name) {
      return [...workers.values()]
        .filter((worker) => worker.key === `${namespace}/${name}`)
        .flatMap((worker) => worker.pids);
    },
    logs: () => logLines.join(''),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(heartbeat);
      logEndpoint.server.closeAllConnections();
      logEndpoint.server.close();
      pods?.stop();
      // kill() sends SIGKILL after 2 s and waits at most 1.5 s more for set-up in flight; the bound is a
      // safety net, so that stop() ends whatever state a pod is in.
      const killed = Promise.all([...workers.values()].map((worker) => (worker.forget(), worker.kill(2000))));
      if (!(await within(killed, 6000))) {
        log('stop: pods still stopping after 6 s; killing their process groups');
        for (const pid of ownGroups) killGroup(pid);
      }
      workers.clear();
      await pool.close();
      await within(new Promise<void>((resolve) => logStream.end(resolve)), 2000);
      await rm(podsRoot, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    },
  };
}
