/**
 * Traefik v3, a real ingress controller, for the end-to-end tests that prove the real edge: built from the
 * Go module proxy (test/tools/traefik, binaries.ts), run with its Kubernetes Ingress provider against the
 * local cluster's API server, its `web` entry point on a loopback address where Pebble validates.
 *
 * - It authenticates as a ServiceAccount `traefik` of its own (a TokenRequest token) with the read access
 *   its provider needs. Its client prefers `KUBERNETES_SERVICE_HOST`/`_PORT` over the endpoint flag, so
 *   those are taken out of its environment.
 * - It serves the IngressClass `nginx`, made here with Traefik's controller name, and Ingresses naming that
 *   class by annotation, which is how the tests' Ingresses and kube-lego's solver Ingresses name it.
 * - It reaches pods through the pod-network proxy (pod-network-proxy.ts, SOCKS5) given as `HTTP_PROXY`,
 *   since EndpointSlices hold 10.244 pod IPs and every connection stays on loopback.
 * - Its file provider holds the middleware `redirect-https@file` (HTTP → HTTPS, permanent), which an
 *   Ingress names with `traefik.ingress.kubernetes.io/router.middlewares`.
 * - No version check, no usage report: it would dial the internet.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { ensureBinary } from './binaries.ts';
import { eventually } from './cluster-testing.ts';
import { claimAddress } from './loopback.ts';
import { applyObjects } from './manifests.ts';
import { startPodNetworkProxy } from './pod-network-proxy.ts';
import { startProcess } from './processes.ts';

/** The middleware of the file provider that redirects HTTP to HTTPS. */
export const REDIRECT_HTTPS_MIDDLEWARE = 'redirect-https@file';
/** The annotation naming an Ingress's Traefik middlewares. */
export const MIDDLEWARES_ANNOTATION = 'traefik.ingress.kubernetes.io/router.middlewares';

const NAMESPACE = 'kube-system';

/** The fields of an access log entry (JSON) the tests read. */
export interface AccessLogEntry {
  RequestHost: string;
  RequestPath: string;
  DownstreamStatus: number;
  /** The Traefik router that took the request, `<namespace>-<ingress>-<host>-<path>@kubernetes`. */
  RouterName?: string;
  /** The endpoint it went to, `http://<pod IP>:<port>`. */
  ServiceURL?: string;
}

/** Traefik as the sandbox's ingress controller. */
export interface Traefik {
  readonly address: string;
  readonly port: number;
  readonly url: string;
  /** Traefik's own log, its access log (one line per request: router, backend, status), the proxy's. */
  logs(): string;
  /** The access log's entries so far. */
  accessLog(): Promise<AccessLogEntry[]>;
  stop(): Promise<void>;
}

/** Options of {@link startTraefik}. */
export interface TraefikOptions {
  /** Admin access to the cluster. */
  kubeConfig: KubeConfig;
  /** The API server's URL and CA (the control plane's). */
  server: string;
  caPem: string;
  /** Where the `web` entry point listens (claimed by the caller). */
  address: string;
  port: number;
}

/** The ServiceAccount, its read access and the IngressClass Traefik serves. */
function traefikObjects(): KubernetesObject[] {
  const read = ['get', 'list', 'watch'];
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'traefik', namespace: NAMESPACE } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'traefik' },
      rules: [
        { apiGroups: [''], resources: ['services', 'secrets', 'nodes'], verbs: read },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: read },
        { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'ingressclasses'], verbs: read },
        { apiGroups: ['networking.k8s.io'], resources: ['ingresses/status'], verbs: ['update'] },
      ],
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'traefik' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'traefik' },
      subjects: [{ kind: 'ServiceAccount', name: 'traefik', namespace: NAMESPACE }],
    } as KubernetesObject,
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: 'nginx' },
      spec: { controller: 'traefik.io/ingress-controller' },
    } as KubernetesObject,
  ];
}

/** The file provider's dynamic configuration. */
const DYNAMIC_CONFIGURATION = `http:
  middlewares:
    redirect-https:
      redirectScheme:
        scheme: https
        permanent: true
`;

/** Starts Traefik; resolves once it answers its ping. */
export async function startTraefik(options: TraefikOptions): Promise<Traefik> {
  const binary = await ensureBinary('traefik');
  const dir = await mkdtemp(join(tmpdir(), 'kube-lego-traefik-'));
  const pingAddress = await claimAddress();
  const proxy = await startPodNetworkProxy();
  const stopFirst: (() => Promise<unknown>)[] = [() => proxy.stop(), () => pingAddress.release()];
  try {
    await applyObjects(options.kubeConfig, traefikObjects());
    const token = await options.kubeConfig.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
      namespace: NAMESPACE,
      name: 'traefik',
      body: { spec: { audiences: [], expirationSeconds: 24 * 3600 } },
    });
    await writeFile(join(dir, 'ca.crt'), options.caPem);
    await writeFile(join(dir, 'dynamic.yml'), DYNAMIC_CONFIGURATION);
    const accessLog = join(dir, 'access.log');
    const traefik = startProcess(
      'traefik',
      'env',
      [
        ...['-u', 'KUBERNETES_SERVICE_HOST', '-u', 'KUBERNETES_SERVICE_PORT'],
        binary,
        `--entrypoints.web.address=${options.address}:${options.port}`,
        `--entrypoints.traefik.address=${pingAddress.address}:8080`,
        '--ping=true',
        '--ping.entrypoint=traefik',
        '--providers.kubernetesingress=true',
        `--providers.kubernetesingress.endpoint=${options.server}`,
        `--providers.kubernetesingress.token=${token.status!.token}`,
        `--providers.kubernetesingress.certauthfilepath=${join(dir, 'ca.crt')}`,
        '--providers.kubernetesingress.ingressclass=nginx',
        // A Service without a ready endpoint answers 503, as the ingress router's does, instead of its path
        // being left out of the routes.
        '--providers.kubernetesingress.allowemptyservices=true',
        `--providers.file.filename=${join(dir, 'dynamic.yml')}`,
        '--accesslog=true',
        '--accesslog.format=json',
        `--accesslog.filepath=${accessLog}`,
        '--log.level=INFO',
        '--log.nocolor=true',
        '--global.checknewversion=false',
        '--global.sendanonymoususage=false',
      ],
      { HTTP_PROXY: proxy.url, HOME: dir },
    );
    stopFirst.unshift(() => traefik.stop());
    let exited = false;
    void traefik.exited.then(() => (exited = true));
    await eventually(
      'Traefik answering its ping',
      async () => {
        if (exited) throw new Error(`Traefik exited: ${traefik.output().slice(-3000)}`);
        const answer = await fetch(`http://${pingAddress.address}:8080/ping`).catch(() => undefined);
        return answer?.ok === true ? true : undefined;
      },
      60_000,
    );
    const readAccessLog = () => readFile(accessLog, 'utf8').catch(() => '');
    let lastAccessLog = '';
    return {
      address: options.address,
      port: options.port,
      url: `http://${options.address}:${options.port}`,
      logs: () =>
        `${traefik.output().slice(-4000)}\n--- traefik access log\n${lastAccessLog.slice(-4000)}\n` +
        `--- pod network proxy\n${proxy.logs().slice(-2000)}`,
      accessLog: async () => {
        lastAccessLog = await readAccessLog();
        return lastAccessLog
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as AccessLogEntry);
      },
      async stop() {
        lastAccessLog = await readAccessLog();
        for (const stop of stopFirst) await stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    for (const stop of stopFirst) await stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
