/**
 * The local cluster of the end-to-end tests, the demo and the benchmarks, all real parts on loopback: etcd,
 * kube-apiserver and kube-controller-manager (control-plane.ts), Pebble and its DNS (pebble.ts), the
 * process kubelet (kubelet.ts) and the ingress router (ingress-router.ts) that Pebble validates through.
 *
 * `installKubeLego` applies manifests/install.yml as users do, with the ConfigMap pointed at Pebble: the
 * operator then runs in-cluster, as its Deployment's pod, under its own ServiceAccount and RBAC, and its
 * issuance Jobs run as pods of the process kubelet. The image `kube-lego/kube-lego:*` is this checkout.
 */
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, type KubeConfig, type KubernetesObject, type V1ConfigMap } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from './control-plane.ts';
import { startIngressRouter, type IngressRouter } from './ingress-router.ts';
import { HTTP01_PORT } from './pebble.ts';
import { startTraefik, type Traefik } from './traefik.ts';
import { startProcessKubelet, type ProcessKubelet } from './kubelet.ts';
import { applyObjects, readManifest } from './manifests.ts';
import { DEFAULT_PROFILE_ONLY, startPebble, type Pebble } from './pebble.ts';
import { claimAddress } from './loopback.ts';
import { allStarted, stopAll, type Stoppable } from './start-all.ts';
import { buildPrograms } from '../../scripts/build.ts';

/** This checkout: what the image `kube-lego/kube-lego` stands for. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The install manifest users apply. */
export const INSTALL_MANIFEST = new URL('../../manifests/install.yml', import.meta.url);

/** The running sandbox. */
export interface Sandbox {
  controlPlane: ControlPlane;
  pebble: Pebble;
  /**
   * The ingress router. Where every name resolves and Pebble validates, unless Traefik is the ingress
   * controller; it then runs on an address of its own, and `route()` still tells where a request would go.
   */
  router: IngressRouter;
  /** Traefik, when it is the ingress controller (option `ingressController`). */
  traefik?: Traefik;
  /** The ingress controller Pebble validates through: the router or Traefik. */
  edge: { readonly address: string; readonly port: number; readonly url: string };
  kubelet: ProcessKubelet;
  /** Admin access. */
  kube: KubeConfig;
  /** Where every component's logs are. */
  logDir: string;
  /** Logs of every component, for a failing test's report. */
  logs(): string;
  stop(): Promise<void>;
}

/** Options of {@link startSandbox}. */
export interface SandboxOptions {
  /** Seconds Pebble asks clients to wait; 0 for benchmarks. Default 1. */
  retryAfterSeconds?: number;
  /**
   * The loopback address of the ingress router, where every name resolves, claimed by the caller (who
   * gives it up). Default: one the sandbox claims and gives up when it stops.
   */
  routerAddress?: string;
  /**
   * The ingress controller where every name resolves: the ingress router (default, fast) or Traefik (the
   * real edge; its first build takes about 10 minutes).
   */
  ingressController?: 'router' | 'traefik';
}

/**
 * Starts everything; resolves once all of it answers. Each server has a loopback address of its own
 * (loopback.ts), so no two can be handed one port. If any part fails to start, every part already
 * started is stopped (each stop is bounded) before the error, which names the failing part, is thrown.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const logDir = await mkdtemp(join(tmpdir(), 'kube-lego-sandbox-'));
  // The router's address is where every name resolves, so Pebble needs it before the router starts.
  const routerAddress =
    options.routerAddress === undefined
      ? await claimAddress()
      : { address: options.routerAddress, release: async (): Promise<void> => {} };
  const started: Stoppable[] = [{ stop: routerAddress.release }];
  try {
    // The image is this checkout: its programs are the bundles of the sources as they are now.
    const [controlPlane, pebble] = await allStarted<[ControlPlane, Pebble]>([
      buildPrograms().then(() => startControlPlane()),
      startPebble({
        challengeAddress: routerAddress.address,
        authzReuse: false,
        retryAfterSeconds: options.retryAfterSeconds ?? 1,
        profiles: DEFAULT_PROFILE_ONLY,
      }),
    ]);
    started.push(controlPlane, pebble);
    const kube = controlPlane.kubeConfig();
    const compileCache = join(tmpdir(), 'kube-lego-node-compile-cache');
    await mkdir(compileCache, { recursive: true });
    const withTraefik = options.ingressController === 'traefik';
    const [router, kubelet] = await allStarted<[IngressRouter, ProcessKubelet]>([
      startIngressRouter({
        kubeConfig: kube,
        ...(!withTraefik && { address: routerAddress.address }),
        ingressClass: ['nginx'],
      }),
      startProcessKubelet({
        kubeConfig: kube,
        logDir,
        imageMap: {
          'kube-lego/kube-lego:*': {
            cwd: REPO_ROOT,
            // Programs of the image find the pod's files where this kubelet keeps them: the termination
            // message, the ServiceAccount directory of the issuance Job's small API client, and the pod IP
            // the API shows, which the Job publishes as its endpoint when edited in place.
            env: {
              TERMINATION_MESSAGE_PATH: '$(KUBELET_TERMINATION_LOG)',
              SERVICE_ACCOUNT_DIR: '$(KUBELET_SA_DIR)',
              ENDPOINT_IP: '$(KUBELET_POD_IP)',
              NODE_COMPILE_CACHE: compileCache,
            },
          },
        },
      }),
    ]);
    started.push(router, kubelet);
    const traefik = withTraefik
      ? await startTraefik({
          kubeConfig: kube,
          server: controlPlane.server,
          caPem: controlPlane.caPem,
          address: routerAddress.address,
          port: HTTP01_PORT,
        })
      : undefined;
    if (traefik !== undefined) started.push(traefik);
    return {
      controlPlane,
      pebble,
      router,
      ...(traefik !== undefined && { traefik }),
      edge: traefik ?? router,
      kubelet,
      kube,
      logDir,
      logs: () =>
        [
          controlPlane.logs(),
          `--- pebble\n${pebble.logs().slice(-3000)}`,
          `--- router\n${router.logs().slice(-3000)}`,
          ...(traefik === undefined ? [] : [`--- traefik\n${traefik.logs()}`]),
          `--- kubelet\n${kubelet.logs().slice(-3000)}`,
        ].join('\n'),
      stop: () => stopAll(started),
    };
  } catch (error) {
    await stopAll(started);
    throw error;
  }
}

/** The ConfigMap settings that point an installed kube-lego at the sandbox's Pebble. */
export function sandboxSettings(sandbox: Sandbox): Record<string, string> {
  return {
    LEGO_EMAIL: 'ops@kube-lego.test',
    LEGO_URL: sandbox.pebble.directoryUrl,
    LEGO_CA_BUNDLE: sandbox.pebble.caCertPem,
    LEGO_SELF_CHECK_DNS: sandbox.pebble.dnsServer,
    LEGO_SELF_CHECK_PORT: String(sandbox.edge.port),
    LEGO_EXPONENTIAL_BACKOFF_INITIAL_INTERVAL: '200ms',
    LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME: '20s',
    LEGO_JOB_TTL: '30s',
    LEGO_LOG_LEVEL: 'debug',
  };
}

/** install.yml's objects with the ConfigMap's data replaced by `settings` (merged over the file's). */
export async function installObjects(settings: Record<string, string>): Promise<KubernetesObject[]> {
  const objects = await readManifest(INSTALL_MANIFEST);
  for (const object of objects) {
    if (object.kind === 'ConfigMap') {
      const configMap = object as V1ConfigMap;
      configMap.data = { ...configMap.data, ...settings };
    }
  }
  return objects;
}

/**
 * Applies install.yml with the sandbox's settings: its Namespace first (a dry run of objects in a namespace
 * that does not exist yet fails, with kubectl too), then a server-side dry run of everything, then for real.
 */
export async function installKubeLego(sandbox: Sandbox, objects?: KubernetesObject[]): Promise<void> {
  const manifest = objects ?? (await installObjects(sandboxSettings(sandbox)));
  await applyObjects(
    sandbox.kube,
    manifest.filter((object) => object.kind === 'Namespace'),
  );
  await applyObjects(sandbox.kube, manifest, true);
  await applyObjects(sandbox.kube, manifest);
}

/** The operator pod's log (the Deployment's current pod). */
export async function operatorLogs(sandbox: Sandbox): Promise<string> {
  const pods = await sandbox.kube
    .makeApiClient(CoreV1Api)
    .listNamespacedPod({ namespace: 'kube-lego', labelSelector: 'app.kubernetes.io/name=kube-lego' });
  return pods.items.map((pod) => sandbox.kubelet.podLogs('kube-lego', pod.metadata!.name!)).join('\n');
}
