/**
 * A real Kubernetes control plane on loopback for the end-to-end tests and the demo: etcd, kube-apiserver
 * (RBAC on) and kube-controller-manager, built from source by test/support/binaries.ts, on a loopback
 * address of their own (claimed through loopback.ts) at their usual ports, with its own PKI and an admin
 * kubeconfig. There is no kubelet and no kube-proxy: Pods
 * stay Pending until test/support/kubelet.ts binds them, and nothing ever dials a ClusterIP (the service
 * range exists only in kube-apiserver's memory).
 *
 * Everything lives in one temporary directory: `logs/` (one file per component, kept after stop for a
 * post-mortem), `pki/`, `etcd/` (the data) and the kubeconfigs. stop() removes all of it but `logs/`; a
 * failed start keeps everything and names the directory in its error, with the tail of every log.
 *
 * Start-up waits for each component in turn: etcd `/health`, kube-apiserver `/readyz`, then
 * kube-controller-manager `/healthz`, the `default` ServiceAccount and `kube-root-ca.crt` of `default` (proof
 * that the controllers run). Measured on 2 cores with the binaries cached: about 5 s in all, 3.5 s of it
 * kube-apiserver; RSS then: etcd 43 MiB, kube-apiserver 280 MiB, kube-controller-manager 95 MiB.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ensureBinaries } from './binaries.ts';
import { startLoggedProcess, tailOfFile, type LoggedProcess } from './control-plane-process.ts';
import {
  createControlPlanePki,
  issueClientCertificate,
  type ClientSubject,
  type ControlPlanePki,
  type KeyPair,
} from './control-plane-pki.ts';
import { claimAddress } from './loopback.ts';

export type { ClientSubject, KeyPair } from './control-plane-pki.ts';

/** The processes of the control plane, in start order. */
export type ComponentName = 'etcd' | 'kube-apiserver' | 'kube-controller-manager';

/**
 * The kube-controller-manager controllers the control plane runs (names as v1.37 spells them; see
 * `kube-controller-manager --help`, `--controllers`). clusterrole-aggregation keeps the aggregated
 * `admin`, `edit` and `view` ClusterRoles filled, which RoleBindings to them rely on.
 */
export const CONTROLLERS: readonly string[] = [
  'job-controller',
  'garbage-collector-controller',
  'endpointslice-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'root-ca-certificate-publisher-controller',
  'namespace-controller',
  'ttl-after-finished-controller',
  'replicaset-controller',
  'deployment-controller',
  'clusterrole-aggregation-controller',
];

/** Service ClusterIP range: only a range in kube-apiserver's memory, nothing ever dials it. */
export const SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/16';
/** The `kubernetes` Service's ClusterIP, the first address of SERVICE_CLUSTER_IP_RANGE. */
const KUBERNETES_SERVICE_IP = '10.96.0.1';
/** The `iss` of service-account tokens (and their default audience). */
export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/** Options of startControlPlane. */
export interface ControlPlaneOptions {
  /** Extra kube-apiserver flags, after (so overriding) the defaults. */
  readonly apiServerArgs?: readonly string[];
  /** Extra kube-controller-manager flags, after (so overriding) the defaults. */
  readonly controllerManagerArgs?: readonly string[];
  /** How long each component may take to become ready. Default: 60 s for etcd and kube-controller-manager, 120 s for kube-apiserver. */
  readonly startTimeoutMs?: number;
}

/** How long each phase of start-up took, in milliseconds. */
export interface StartupTimings {
  readonly pki: number;
  readonly etcd: number;
  readonly apiServer: number;
  readonly controllerManager: number;
  /** From the call to startControlPlane to its resolution. */
  readonly total: number;
}

/** A running control plane. */
export interface ControlPlane {
  /** Path of a kubeconfig for the admin (CN=kube-lego-admin, O=system:masters), with the data embedded. */
  readonly kubeconfigPath: string;
  /** kube-apiserver's URL, https://<its loopback address>:6443. */
  readonly server: string;
  /** PEM of the CA that signed kube-apiserver's serving certificate (the cluster CA; Pods get it as `kube-root-ca.crt`). */
  readonly caPem: string;
  /** PEM of the admin's client certificate and key. */
  readonly adminCertPem: string;
  readonly adminKeyPem: string;
  /** Directory of the components' log files (`<component>.log`); kept after stop. */
  readonly logsDir: string;
  /** The temporary directory everything lives in. */
  readonly dir: string;
  /** How long start-up took. */
  readonly timings: StartupTimings;
  /** The tail of each component's log, with a header naming it (and its exit, if it has exited). */
  logs(maxLinesEach?: number): string;
  /** A KubeConfig (from @kubernetes/client-node) for the admin, loaded from kubeconfigPath's content. */
  kubeConfig(): KubeConfig;
  /**
   * Issues a client certificate kube-apiserver accepts, for user `commonName` in groups `organizations`
   * (e.g. `system:node:<name>` in `system:nodes` for a kubelet, which the Node authorizer then governs).
   */
  issueClientCertificate(subject: ClientSubject): Promise<KeyPair>;
  /** Resident set size of each component in bytes (undefined once exited). */
  rss(): Record<ComponentName, number | undefined>;
  /**
   * Stops one component (SIGTERM, SIGKILL after 10 s) and starts it again after `downMs`, on the same
   * address, data and certificates; resolves once it is ready again. For fault-injection tests.
   */
  restart(component: ComponentName, options?: { downMs?: number }): Promise<void>;
  /** Stops kube-controller-manager, kube-apiserver and etcd in turn (SIGTERM, SIGKILL after 10 s each) and removes all but the logs. */
  stop(): Promise<void>;
}

/**
 * The components' ports on the control plane's own address: their usual ones, fixed, since no other
 * component shares the address (loopback.ts).
 */
export const PORTS = { etcdClient: 2379, etcdPeer: 2380, apiServer: 6443, controllerManager: 10257 } as const;

/** A started component. */
interface Component {
  readonly name: ComponentName;
  readonly logFile: string;
  process: LoggedProcess | undefined;
}

/** TLS material of an HTTPS probe. */
interface Tls {
  readonly ca: string;
  readonly cert?: string;
  readonly key?: string;
}

/** GETs `url` (http: or https: trusting `tls.ca`) with a 5 s timeout; resolves with status and body. */
function get(url: string, tls?: Tls): Promise<{ status: number; body: string }> {
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: 'GET', timeout: 5000, ...(tls ?? {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** GETs `url` and rejects unless the answer is 200 (and, with `expect`, its body matches). */
async function getOk(url: string, tls?: Tls, expect?: RegExp): Promise<void> {
  const { status, body } = await get(url, tls);
  if (status !== 200 || (expect && !expect.test(body)))
    throw new Error(`GET ${url}: HTTP ${status}: ${body.slice(0, 500)}`);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The environment of the components: this process's, without proxies or a KUBECONFIG that could mislead them. */
function componentEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(https?_proxy|all_proxy|no_proxy|kubeconfig)$/i.test(name)) delete env[name];
  }
  return env;
}

/** A kubeconfig with one cluster, one user (client certificate) and one context, all data embedded. */
function kubeconfigYaml(server: string, caPem: string, user: string, client: KeyPair): string {
  const b64 = (pem: string): string => Buffer.from(pem).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: kube-lego-test',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(caPem)}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    client-certificate-data: ${b64(client.certPem)}`,
    `    client-key-data: ${b64(client.keyPem)}`,
    'contexts:',
    '- name: kube-lego-test',
    '  context:',
    '    cluster: kube-lego-test',
    `    user: ${user}`,
    'current-context: kube-lego-test',
    '',
  ].join('\n');
}

/** How to start one component and tell when it is ready. */
interface ComponentSpec {
  readonly component: Component;
  readonly command: string;
  readonly args: readonly string[];
  /** Resolves once the component is ready; called every 200 ms until then. */
  readonly probe: () => Promise<void>;
  readonly timeoutMs: number;
}

/**
 * Starts a component and resolves once its probe passes. An exit before that, or the timeout, rejects
 * with `describe(component)` (the logs). Its ports are fixed on the control plane's own address, so a
 * port in use is a real error (someone else's process on our claimed address), not a race to retry.
 */
async function startComponent(
  spec: ComponentSpec,
  env: NodeJS.ProcessEnv,
  describe: (failing: Component) => string,
): Promise<void> {
  const { component } = spec;
  const child = startLoggedProcess(component.name, spec.command, spec.args, component.logFile, env);
  component.process = child;
  const deadline = Date.now() + spec.timeoutMs;
  let lastError: unknown;
  while (!child.hasExited()) {
    try {
      await spec.probe();
      return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${component.name} not ready after ${spec.timeoutMs / 1000} s (${String(lastError)})\n${describe(component)}`,
      );
    }
    await Promise.race([sleep(200), child.exited]);
  }
  const exit = await child.exited;
  const how = exit.signal ?? `exit code ${exit.code}`;
  throw new Error(`${component.name} exited (${how}) before it was ready\n${describe(component)}`);
}

/**
 * Starts etcd, kube-apiserver and kube-controller-manager on a loopback address of their own, at
 * {@link PORTS} (building the binaries first if the cache lacks them), and resolves once the controllers
 * run. A failed start stops what it started, gives the address up and rejects with the tail of every log.
 */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const started = Date.now();
  const bin = await ensureBinaries(['etcd', 'kube-apiserver', 'kube-controller-manager']);
  const dir = await mkdtemp(join(tmpdir(), 'kube-lego-control-plane-'));
  const logsDir = join(dir, 'logs');
  const pkiDir = join(dir, 'pki');
  await mkdir(logsDir);
  await mkdir(pkiDir, { mode: 0o700 });
  const env = componentEnv();
  const claim = await claimAddress();
  const { address } = claim;

  const component = (name: ComponentName): Component => ({
    name,
    logFile: join(logsDir, `${name}.log`),
    process: undefined,
  });
  const etcd = component('etcd');
  const apiServer = component('kube-apiserver');
  const controllerManager = component('kube-controller-manager');
  const components = [etcd, apiServer, controllerManager];

  const logOf = (c: Component, maxLines: number): string => {
    const exit = c.process?.hasExited() ? ' (exited)' : '';
    return `--- ${c.name}${exit}: ${c.logFile}\n${tailOfFile(c.logFile, maxLines)}\n`;
  };
  const logs = (maxLinesEach = 40): string =>
    components
      .filter((c) => c.process)
      .map((c) => logOf(c, maxLinesEach))
      .join('');
  // The failing component's log first, and longer; then the others'.
  const describe = (failing: Component): string =>
    [
      `control plane directory (kept): ${dir}\n`,
      logOf(failing, 60),
      ...components.filter((c) => c.process && c !== failing).map((c) => logOf(c, 20)),
    ].join('');

  let stopping: Promise<void> | undefined;
  const stopProcesses = async (): Promise<void> => {
    for (const c of [...components].reverse()) await c.process?.stop(10_000);
  };
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await stopProcesses();
      await claim.release();
      for (const entry of await readdir(dir)) {
        if (entry !== 'logs') await rm(join(dir, entry), { recursive: true, force: true });
      }
    })());

  /** Each component's spec, kept for {@link ControlPlane.restart}. */
  const specs = new Map<ComponentName, ComponentSpec>();
  const start = (spec: ComponentSpec): Promise<void> => {
    specs.set(spec.component.name, spec);
    return startComponent(spec, env, describe);
  };

  try {
    const write = (name: string, content: string): Promise<string> => {
      const path = join(pkiDir, name);
      return writeFile(path, content, { mode: 0o600 }).then(() => path);
    };
    let mark = Date.now();
    const pki: ControlPlanePki = await createControlPlanePki(address, KUBERNETES_SERVICE_IP);
    const files = {
      clusterCa: await write('cluster-ca.pem', pki.clusterCa.certPem),
      clientCa: await write('client-ca.pem', pki.clientCa.certPem),
      apiServerCert: await write('kube-apiserver.pem', pki.apiServer.certPem),
      apiServerKey: await write('kube-apiserver-key.pem', pki.apiServer.keyPem),
      controllerManagerCert: await write('kube-controller-manager.pem', pki.controllerManagerServing.certPem),
      controllerManagerKey: await write(
        'kube-controller-manager-key.pem',
        pki.controllerManagerServing.keyPem,
      ),
      serviceAccountPublic: await write('service-account.pub', pki.serviceAccount.publicKeyPem),
      serviceAccountPrivate: await write('service-account-key.pem', pki.serviceAccount.privateKeyPem),
    };
    const pkiMs = Date.now() - mark;

    // etcd: plain HTTP on loopback; no fsync, since the data is thrown away (it makes writes fast on slow disks).
    mark = Date.now();
    const etcdClient = `http://${address}:${PORTS.etcdClient}`;
    const etcdPeer = `http://${address}:${PORTS.etcdPeer}`;
    await start({
      component: etcd,
      command: bin.etcd,
      args: [
        '--name=default',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdClient}`,
        `--advertise-client-urls=${etcdClient}`,
        `--listen-peer-urls=${etcdPeer}`,
        `--initial-advertise-peer-urls=${etcdPeer}`,
        `--initial-cluster=default=${etcdPeer}`,
        '--initial-cluster-state=new',
        '--unsafe-no-fsync',
      ],
      probe: () => getOk(`${etcdClient}/health`, undefined, /"health":\s*"true"/),
      timeoutMs: options.startTimeoutMs ?? 60_000,
    });
    const etcdMs = Date.now() - mark;

    mark = Date.now();
    const adminTls: Tls = { ca: pki.clusterCa.certPem, cert: pki.admin.certPem, key: pki.admin.keyPem };
    const server = `https://${address}:${PORTS.apiServer}`;
    await start({
      component: apiServer,
      command: bin['kube-apiserver'],
      args: [
        `--etcd-servers=${etcdClient}`,
        `--bind-address=${address}`,
        `--advertise-address=${address}`,
        `--secure-port=${PORTS.apiServer}`,
        `--cert-dir=${pkiDir}`,
        `--tls-cert-file=${files.apiServerCert}`,
        `--tls-private-key-file=${files.apiServerKey}`,
        `--client-ca-file=${files.clientCa}`,
        '--authorization-mode=Node,RBAC',
        `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
        `--service-account-key-file=${files.serviceAccountPublic}`,
        `--service-account-signing-key-file=${files.serviceAccountPrivate}`,
        `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
        // No reconciler writes the `kubernetes` Service's endpoints (they would name 127.0.0.1).
        '--endpoint-reconciler-type=none',
        '--allow-privileged=true',
        '--profiling=false',
        // The process kubelet serves logs on the Node's InternalIP (127.0.0.1); never a host name to resolve.
        '--kubelet-preferred-address-types=InternalIP',
        ...(options.apiServerArgs ?? []),
      ],
      probe: () => getOk(`${server}/readyz`, adminTls),
      timeoutMs: options.startTimeoutMs ?? 120_000,
    });
    const apiServerMs = Date.now() - mark;

    mark = Date.now();
    const kubeconfigPath = join(dir, 'admin.kubeconfig');
    const adminKubeconfig = kubeconfigYaml(server, pki.clusterCa.certPem, 'kube-lego-admin', pki.admin);
    await writeFile(kubeconfigPath, adminKubeconfig, { mode: 0o600 });
    const controllerManagerKubeconfig = join(pkiDir, 'kube-controller-manager.kubeconfig');
    await writeFile(
      controllerManagerKubeconfig,
      kubeconfigYaml(server, pki.clusterCa.certPem, 'system:kube-controller-manager', pki.controllerManager),
      { mode: 0o600 },
    );
    const defaultNamespace = `${server}/api/v1/namespaces/default`;
    await start({
      component: controllerManager,
      command: bin['kube-controller-manager'],
      args: [
        `--kubeconfig=${controllerManagerKubeconfig}`,
        '--leader-elect=false',
        `--controllers=${CONTROLLERS.join(',')}`,
        `--service-account-private-key-file=${files.serviceAccountPrivate}`,
        `--root-ca-file=${files.clusterCa}`,
        // Each controller acts as its own ServiceAccount (kube-system/<name>-controller) with the bootstrap
        // RBAC role made for it, as in a real cluster. With `false` every controller would act as
        // system:kube-controller-manager, whose role lacks most of what they do (the root-ca publisher
        // cannot create ConfigMaps, the aggregator cannot patch ClusterRoles).
        '--use-service-account-credentials=true',
        `--bind-address=${address}`,
        `--secure-port=${PORTS.controllerManager}`,
        `--cert-dir=${pkiDir}`,
        `--tls-cert-file=${files.controllerManagerCert}`,
        `--tls-private-key-file=${files.controllerManagerKey}`,
        '--profiling=false',
        ...(options.controllerManagerArgs ?? []),
      ],
      // Healthy, and the controllers Pods depend on have done their work in namespace `default`: the
      // serviceaccount controller made ServiceAccount `default`, the publisher ConfigMap `kube-root-ca.crt`.
      probe: async () => {
        await getOk(`https://${address}:${PORTS.controllerManager}/healthz`, { ca: pki.clusterCa.certPem });
        await getOk(`${defaultNamespace}/serviceaccounts/default`, adminTls);
        await getOk(`${defaultNamespace}/configmaps/kube-root-ca.crt`, adminTls);
      },
      timeoutMs: options.startTimeoutMs ?? 60_000,
    });
    const controllerManagerMs = Date.now() - mark;

    const timings: StartupTimings = {
      pki: pkiMs,
      etcd: etcdMs,
      apiServer: apiServerMs,
      controllerManager: controllerManagerMs,
      total: Date.now() - started,
    };
    return {
      kubeconfigPath,
      server,
      caPem: pki.clusterCa.certPem,
      adminCertPem: pki.admin.certPem,
      adminKeyPem: pki.admin.keyPem,
      logsDir,
      dir,
      timings,
      logs,
      kubeConfig() {
        const kc = new KubeConfig();
        kc.loadFromString(adminKubeconfig);
        return kc;
      },
      issueClientCertificate: (subject) => issueClientCertificate(pki.clientCa, subject),
      rss: () => ({
        etcd: etcd.process?.rssBytes(),
        'kube-apiserver': apiServer.process?.rssBytes(),
        'kube-controller-manager': controllerManager.process?.rssBytes(),
      }),
      async restart(name, { downMs = 0 } = {}) {
        const spec = specs.get(name)!;
        await spec.component.process?.stop(10_000);
        await sleep(downMs);
        await startComponent(spec, env, describe);
      },
      stop,
    };
  } catch (error) {
    await stopProcesses();
    await claim.release();
    throw error;
  }
}
