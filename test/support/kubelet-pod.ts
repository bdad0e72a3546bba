/**
 * One pod of the process kubelet: its volumes, its containers as local processes, its readiness, and the
 * status it reports. The model is a container runtime reduced to a process group per container:
 *
 * - volumes are written once before any container starts (a missing Secret or ConfigMap is retried every
 *   second, the container waiting with reason ContainerCreating); projected service account tokens are
 *   renewed at 80% of their lifetime;
 * - init containers run one after the other, each to a zero exit; then all containers start at once;
 * - a container's process runs in its own process group, so stopping it takes whatever it started too;
 * - the processes share this host's file system, so an env value naming a path inside one of the
 *   container's mounts is rewritten to where that mount is on this host;
 * - restartPolicy Always restarts any exit and OnFailure a non-zero one, after a back-off of 200 ms doubling
 *   up to 5 s (reported as waiting CrashLoopBackOff); Never leaves the container terminated;
 * - the phase is Pending until every container has started once, Running while one runs or will restart,
 *   then Succeeded when every container exited 0, else Failed;
 * - readiness follows the readinessProbe (httpGet, tcpSocket or exec): probed every 100 ms until it first
 *   succeeds, then every periodSeconds, not ready after failureThreshold failures; without a probe, a
 *   container is ready as soon as its process has started. Liveness and startup probes are not run.
 *
 * Status goes to the pods/status subresource as a strategic merge patch, one at a time, the latest state
 * winning: conditions merge by type (PodScheduled, set by the binding, and others' conditions stay), the
 * container status lists are replaced.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import {
  ContainerConfigError,
  containerEnv,
  expandReferences,
  sanitizeMountPath,
  type ConfigSource,
} from './kubelet-env.ts';
import { probeOnce } from './kubelet-probe.ts';
import {
  linkMount,
  renewTokens,
  writeVolumes,
  type IssuedToken,
  type VolumeContext,
} from './kubelet-volumes.ts';

/** How a container image runs here: a command in a directory of this machine. */
export interface ImageEntry {
  /** Working directory of the process. */
  readonly cwd: string;
  /** Put before the container's `command` + `args` (the image's entrypoint, in effect). */
  readonly commandPrefix?: readonly string[];
  /**
   * Environment the image provides (as Dockerfile ENV), under the container's own `env`; `$(VAR)` in a
   * value refers to the kubelet's variables, e.g. `{ TERMINATION_MESSAGE_PATH: '$(KUBELET_TERMINATION_LOG)' }`.
   */
  readonly env?: Readonly<Record<string, string>>;
}

/** Where the service account token, CA and namespace appear under a container's root. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** What a pod needs of the kubelet that runs it. */
export interface PodHost {
  readonly nodeName: string;
  /** The API server as pods reach it: https://host:port. */
  readonly apiServer: { readonly host: string; readonly port: number };
  /** Base environment of every process (PATH, HOME, ...), under everything else. */
  readonly baseEnv: Readonly<Record<string, string>>;
  /** Directory for the container log files. */
  readonly logDir: string;
  /** Whether to point KUBECONFIG at a kubeconfig made of the pod's service account token. */
  readonly kubeconfigEnv: boolean;
  image(image: string): ImageEntry | undefined;
  readonly source: (namespace: string) => ConfigSource;
  requestToken(pod: V1Pod, audience: string | undefined, expirationSeconds: number): Promise<IssuedToken>;
  /** Writes status (a strategic merge patch body); rejects with `code` 404 when the pod is gone. */
  patchStatus(pod: V1Pod, patch: object): Promise<void>;
  /** Deletes the pod object now (gracePeriodSeconds 0, preconditioned on its uid). */
  deleteNow(pod: V1Pod): Promise<void>;
  /** Returns the pod's IP to the pool. */
  releaseIP(ip: string): void;
  /** Tracks the process group of a container, so it is killed if the test process exits first. */
  track(pid: number, alive: boolean): void;
  log(message: string): void;
}

type ContainerState =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | {
      terminated: {
        exitCode: number;
        signal?: number;
        reason: string;
        message?: string;
        startedAt: string;
        finishedAt: string;
        containerID?: string;
      };
    };

/** A container of the pod and what became of it. */
interface Run {
  readonly spec: V1Container;
  readonly init: boolean;
  readonly logPath: string;
  /** Counts process starts, so stale probe loops and exits of an earlier process are ignored. */
  generation: number;
  restartCount: number;
  state: ContainerState;
  lastState: ContainerState | Record<string, never>;
  ready: boolean;
  everStarted: boolean;
  /** Terminated and not going to restart. */
  done: boolean;
  child?: ChildProcess;
  exited?: Promise<void>;
}

const TERMINATION_MESSAGE_MAX = 4096;
const FALLBACK_LOG_LINES = 80;
const FALLBACK_LOG_BYTES = 2048;

/** RFC 3339 in seconds, as the API server writes metav1.Time. */
function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

/** The last lines of a log since `offset`, as the kubelet's FallbackToLogsOnError takes them. */
function logTail(path: string, offset: number): string {
  try {
    const text = readFileSync(path).subarray(offset).toString('utf8');
    const lines = text.replace(/\n$/, '').split('\n').slice(-FALLBACK_LOG_LINES).join('\n');
    const bytes = Buffer.from(lines);
    return bytes.length > FALLBACK_LOG_BYTES ? bytes.subarray(-FALLBACK_LOG_BYTES).toString('utf8') : lines;
  } catch {
    return '';
  }
}

/** A pod bound to this kubelet, from its first sight to its deletion. */
export class PodWorker {
  #pod: V1Pod;
  readonly #host: PodHost;
  readonly #dir: string;
  /** Where the pod's processes listen (127.0.X.Y). */
  readonly #ip: string;
  /** The pod's IP as the API shows it (10.244.X.Y; see kubelet-network.ts). */
  readonly #podIP: string;
  readonly #ownsIP: boolean;
  readonly #inits: Run[];
  readonly #mains: Run[];
  readonly #transitions = new Map<string, { status: string; time: string }>();
  readonly #startTime = now();
  #initialized = false;
  #initFailed = false;
  #stopping = false;
  #terminating?: Promise<void>;
  #released = false;
  #volumes = new Map<string, string>();
  #renewTimer?: NodeJS.Timeout;
  #dirty = false;
  #reporting?: Promise<void>;
  #gone = false;
  #running?: Promise<void>;

  constructor(
    pod: V1Pod,
    host: PodHost,
    dir: string,
    addresses: { readonly loopback: string; readonly podIP: string },
    ownsIP: boolean,
  ) {
    this.#pod = pod;
    this.#host = host;
    this.#dir = dir;
    this.#ip = addresses.loopback;
    this.#podIP = addresses.podIP;
    this.#ownsIP = ownsIP;
    const { namespace = '', name = '', uid = '' } = pod.metadata ?? {};
    const run = (spec: V1Container, init: boolean): Run => ({
      spec,
      init,
      logPath: join(host.logDir, `${namespace}_${name}_${uid.slice(0, 8)}_${spec.name}.log`),
      generation: 0,
      restartCount: 0,
      state: { waiting: { reason: init ? 'PodInitializing' : 'ContainerCreating' } },
      lastState: {},
      ready: false,
      everStarted: false,
      done: false,
    });
    this.#inits = (pod.spec?.initContainers ?? []).map((spec) => run(spec, true));
    this.#mains = (pod.spec?.containers ?? []).map((spec) => run(spec, false));
    this.#initialized = this.#inits.length === 0;
  }

  /** Log files of the pod's containers, init containers first. */
  get logFiles(): { container: string; path: string }[] {
    return [...this.#inits, ...this.#mains].map((run) => ({ container: run.spec.name, path: run.logPath }));
  }

  /** The pod's namespace and name. */
  get key(): string {
    return `${this.#pod.metadata?.namespace}/${this.#pod.metadata?.name}`;
  }

  /** Process ids of the containers running now (fault-injection tests signal them). */
  get pids(): number[] {
    return this.#mains.flatMap((run) => (run.child?.pid === undefined || run.done ? [] : [run.child.pid]));
  }

  /** Whether every process has ended for good. */
  get finished(): boolean {
    return this.#initFailed || (this.#mains.length > 0 && this.#mains.every((run) => run.done));
  }

  get #restartPolicy(): string {
    return this.#pod.spec?.restartPolicy ?? 'Always';
  }

  get #label(): string {
    return `${this.#pod.metadata?.namespace}/${this.#pod.metadata?.name}`;
  }

  /** Sets the pod up and starts its containers; returns at once, the work goes on in the background. */
  start(): void {
    this.#running = this.#run().catch((error: unknown) =>
      this.#host.log(`pod ${this.#label}: ${String(error)}`),
    );
  }

  /** Takes a newer version of the pod object; a deletion timestamp stops the pod and deletes the object. */
  update(pod: V1Pod): void {
    this.#pod = pod;
    if (pod.metadata?.deletionTimestamp) void this.terminate();
  }

  /**
   * Stops the containers (SIGTERM, SIGKILL after the deletion grace period), reports the final status
   * and deletes the pod object with grace period 0.
   */
  terminate(): Promise<void> {
    this.#terminating ??= (async () => {
      const grace =
        this.#pod.metadata?.deletionGracePeriodSeconds ?? this.#pod.spec?.terminationGracePeriodSeconds ?? 30;
      await this.kill(grace * 1000);
      await this.#flush();
      // Forgotten meanwhile: the object is gone, or the kubelet stops and leaves the API alone.
      if (this.#gone) return;
      try {
        await this.#host.deleteNow(this.#pod);
      } catch (error) {
        this.#host.log(`pod ${this.#label}: delete: ${String(error)}`);
      }
    })();
    return this.#terminating;
  }

  /** Stops the containers without touching the API (the pod object is gone, or the kubelet stops). */
  async kill(graceMs: number): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#renewTimer);
    const running = [...this.#inits, ...this.#mains].filter((run) => run.child !== undefined);
    for (const run of running) killGroup(run.child?.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      for (const run of running) killGroup(run.child?.pid, 'SIGKILL');
    }, graceMs);
    await Promise.all(running.map((run) => run.exited));
    clearTimeout(timer);
    // Let set-up in flight (volumes being written, a container being prepared) notice the stop.
    await Promise.race([this.#running, sleep(1500)]);
    for (const run of [...this.#inits, ...this.#mains]) {
      if ('waiting' in run.state) {
        run.state = {
          terminated: {
            exitCode: 137,
            reason: 'ContainerStatusUnknown',
            startedAt: now(),
            finishedAt: now(),
          },
        };
      }
      run.done = true;
    }
    this.#release();
    this.#report();
  }

  /** Marks the pod object gone: no more status reports. */
  forget(): void {
    this.#gone = true;
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    if (this.#ownsIP) this.#host.releaseIP(this.#ip);
  }

  async #run(): Promise<void> {
    this.#report();
    if (!(await this.#setUpVolumes())) return;
    for (const run of this.#inits) {
      for (let attempt = 0; ; attempt += 1) {
        if (this.#stopping) return;
        const exitCode = await this.#runOnce(run);
        if (exitCode === undefined) return;
        if (exitCode === 0) break;
        if (this.#restartPolicy === 'Never') {
          this.#initFailed = true;
          for (const main of this.#mains) main.done = true;
          this.#release();
          this.#report();
          return;
        }
        await this.#backOff(run, attempt);
      }
      run.done = true;
    }
    this.#initialized = true;
    for (const run of this.#inits) run.done = true;
    this.#report();
    await Promise.all(this.#mains.map((run) => this.#supervise(run)));
    if (this.finished) this.#release();
    this.#report();
  }

  /** Writes the volumes, retrying every second while something is missing; false when stopped first. */
  async #setUpVolumes(): Promise<boolean> {
    const context: VolumeContext = {
      pod: this.#pod,
      podIP: this.#ip,
      source: this.#host.source(this.#pod.metadata?.namespace ?? ''),
      requestToken: (audience, seconds) => this.#host.requestToken(this.#pod, audience, seconds),
    };
    const volumesDir = join(this.#dir, 'volumes');
    for (;;) {
      if (this.#stopping) return false;
      try {
        const written = await writeVolumes(context, volumesDir);
        this.#volumes = new Map(written.paths);
        this.#scheduleRenewal(context, volumesDir, written.renewAt);
        return true;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        for (const run of [...this.#inits, ...this.#mains]) {
          run.state = { waiting: { reason: run.init ? 'PodInitializing' : 'ContainerCreating', message } };
        }
        this.#host.log(`pod ${this.#label}: volumes: ${message}`);
        this.#report();
        await sleep(1000);
      }
    }
  }

  #scheduleRenewal(context: VolumeContext, volumesDir: string, at: Date | undefined): void {
    if (at === undefined || this.#stopping) return;
    this.#renewTimer = setTimeout(
      () => {
        renewTokens({ ...context, pod: this.#pod }, volumesDir).then(
          (next) => this.#scheduleRenewal(context, volumesDir, next),
          (error: unknown) => {
            this.#host.log(`pod ${this.#label}: token renewal: ${String(error)}`);
            this.#scheduleRenewal(context, volumesDir, new Date(Date.now() + 10_000));
          },
        );
      },
      Math.max(1000, at.getTime() - Date.now()),
    );
    this.#renewTimer.unref();
  }

  /** Runs a container to the end, restarting it as the restart policy says. */
  async #supervise(run: Run): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      if (this.#stopping) return;
      const exitCode = await this.#runOnce(run);
      if (exitCode === undefined || this.#stopping) return;
      const policy = this.#restartPolicy;
      if (policy === 'Never' || (policy === 'OnFailure' && exitCode === 0)) {
        run.done = true;
        this.#report();
        return;
      }
      await this.#backOff(run, attempt);
    }
  }

  async #backOff(run: Run, attempt: number): Promise<void> {
    const delay = Math.min(5000, 200 * 2 ** attempt);
    run.lastState = run.state;
    run.state = {
      waiting: {
        reason: 'CrashLoopBackOff',
        message: `back-off ${delay}ms restarting failed container ${run.spec.name}`,
      },
    };
    run.restartCount += 1;
    this.#report();
    await sleep(delay);
  }

  /**
   * Starts the container's process and waits for it to exit; returns the exit code, or undefined when it
   * could not start and will not (unknown image, pod stopping).
   */
  async #runOnce(run: Run): Promise<number | undefined> {
    const spec = run.spec;
    const image = this.#host.image(spec.image ?? '');
    if (image === undefined) {
      run.state = {
        waiting: {
          reason: 'ErrImagePull',
          message: `image ${spec.image} is not in the process kubelet's imageMap`,
        },
      };
      this.#host.log(`pod ${this.#label}: no image mapping for ${spec.image}`);
      this.#report();
      return undefined;
    }
    let prepared: { argv: string[]; env: Record<string, string>; terminationLog: string } | undefined;
    while (prepared === undefined) {
      if (this.#stopping) return undefined;
      try {
        prepared = await this.#prepare(run, image);
      } catch (error) {
        if (!(error instanceof ContainerConfigError)) throw error;
        run.state = { waiting: { reason: 'CreateContainerConfigError', message: error.message } };
        this.#report();
        await sleep(1000);
      }
    }
    if (this.#stopping) return undefined;
    const { argv, env, terminationLog } = prepared;
    const logOffset = (() => {
      try {
        return statSync(run.logPath).size;
      } catch {
        return 0;
      }
    })();
    const startedAt = now();
    let markExited: () => void = () => {};
    run.exited = new Promise<void>((resolve) => (markExited = resolve));
    const finish = (exitCode: number, reason: string, message: string, signal?: number) => {
      markExited();
      run.child = undefined;
      run.ready = false;
      const fallback =
        message === '' && exitCode !== 0 && spec.terminationMessagePolicy === 'FallbackToLogsOnError'
          ? logTail(run.logPath, logOffset)
          : message;
      run.state = {
        terminated: {
          exitCode,
          ...(signal === undefined ? {} : { signal }),
          reason,
          ...(fallback === '' ? {} : { message: fallback }),
          startedAt,
          finishedAt: now(),
        },
      };
      this.#report();
      return exitCode;
    };
    const [command, ...args] = argv;
    if (command === undefined)
      return finish(128, 'StartError', 'no command: the container has no command or args');
    const fd = openSync(run.logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(command, args, { cwd: image.cwd, env, stdio: ['ignore', fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    run.generation += 1;
    const generation = run.generation;
    run.child = child;
    const pid = child.pid;
    if (pid !== undefined) this.#host.track(pid, true);
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
      (resolve) => {
        child.once('error', (error) => resolve({ code: null, signal: null, error }));
        child.once('exit', (code, signal) => resolve({ code, signal }));
      },
    );
    if (pid !== undefined) {
      run.everStarted = true;
      run.state = { running: { startedAt } };
      run.ready = spec.readinessProbe === undefined;
      this.#report();
      if (spec.readinessProbe) void this.#probe(run, generation, env, image.cwd);
    }
    const result = await exit;
    if (pid !== undefined) {
      killGroup(pid, 'SIGKILL');
      this.#host.track(pid, false);
    }
    if (result.error !== undefined && pid === undefined) {
      run.everStarted = true;
      return finish(128, 'StartError', `${command}: ${result.error.message}`);
    }
    let message = '';
    try {
      message = readFileSync(terminationLog).subarray(0, TERMINATION_MESSAGE_MAX).toString('utf8');
    } catch {
      // No termination message.
    }
    if (result.signal !== null) {
      const number = constants.signals[result.signal] ?? 9;
      return finish(128 + number, 'Error', message, number);
    }
    const exitCode = result.code ?? 0;
    return finish(exitCode, exitCode === 0 ? 'Completed' : 'Error', message);
  }

  /** The command line and environment of one start of a container, its mounts linked under its root. */
  async #prepare(
    run: Run,
    image: ImageEntry,
  ): Promise<{ argv: string[]; env: Record<string, string>; terminationLog: string }> {
    const spec = run.spec;
    const containerDir = join(this.#dir, 'containers', spec.name);
    const root = join(containerDir, 'root');
    await mkdir(root, { recursive: true });
    const mountEnv: Record<string, string> = { KUBELET_ROOT: root };
    /** Each mount's path in the pod and where it is on this host. */
    const mounted: [inPod: string, onHost: string][] = [];
    for (const mount of spec.volumeMounts ?? []) {
      const volume = this.#volumes.get(mount.name);
      if (volume === undefined) throw new ContainerConfigError(`volume ${mount.name} not found`);
      const target = mount.subPath ? join(volume, normalize(mount.subPath)) : volume;
      const at = await linkMount(root, mount.mountPath, target);
      mounted.push([normalize(mount.mountPath).replace(/\/$/, ''), at]);
      mountEnv[`KUBELET_MOUNT_${sanitizeMountPath(mount.mountPath)}`] = at;
      if (normalize(mount.mountPath).replace(/\/$/, '') === SERVICE_ACCOUNT_DIR) {
        mountEnv.KUBELET_SA_DIR = at;
        const kubeconfig = join(containerDir, 'kubeconfig');
        await writeFile(kubeconfig, this.#kubeconfig(at));
        mountEnv.KUBELET_KUBECONFIG = kubeconfig;
        if (this.#host.kubeconfigEnv) mountEnv.KUBECONFIG = kubeconfig;
      }
    }
    const terminationLog = join(root, normalize(spec.terminationMessagePath || '/dev/termination-log'));
    await mkdir(dirname(terminationLog), { recursive: true });
    await (await open(terminationLog, 'w')).close();
    const { host, port } = this.#host.apiServer;
    const { name = '', namespace = '' } = this.#pod.metadata ?? {};
    const base: Record<string, string> = {
      ...this.#host.baseEnv,
      HOME: containerDir,
      HOSTNAME: name,
      POD_IP: this.#ip,
      KUBELET_POD_IP: this.#podIP,
      POD_NAME: name,
      POD_NAMESPACE: namespace,
      NODE_NAME: this.#host.nodeName,
      KUBERNETES_SERVICE_HOST: host,
      KUBERNETES_SERVICE_PORT: String(port),
      KUBERNETES_SERVICE_PORT_HTTPS: String(port),
      KUBERNETES_PORT: `tcp://${host}:${port}`,
      KUBELET_TERMINATION_LOG: terminationLog,
      ...mountEnv,
    };
    // The image's env may refer to the kubelet's: TERMINATION_MESSAGE_PATH: '$(KUBELET_TERMINATION_LOG)'.
    for (const [key, value] of Object.entries(image.env ?? {})) {
      base[key] = expandReferences(value, (reference) => base[reference]);
    }
    const source = this.#host.source(namespace);
    const env = await containerEnv(this.#pod, spec, this.#ip, source, base);
    // The processes share this host's file system: a setting that names a path in one of the container's
    // mounts (LEGO_CHALLENGE_DIR=/var/run/...) names where that mount is here instead.
    for (const [key, value] of Object.entries(env)) {
      for (const [inPod, onHost] of mounted) {
        if (value === inPod || value.startsWith(`${inPod}/`)) env[key] = onHost + value.slice(inPod.length);
      }
    }
    const expand = (value: string) => expandReferences(value, (key) => env[key]);
    const argv = [
      ...(image.commandPrefix ?? []),
      ...(spec.command ?? []).map(expand),
      ...(spec.args ?? []).map(expand),
    ];
    return { argv, env, terminationLog };
  }

  /** A kubeconfig that authenticates with the pod's service account token, as in-cluster config would. */
  #kubeconfig(saDir: string): string {
    const { host, port } = this.#host.apiServer;
    const namespace = this.#pod.metadata?.namespace ?? 'default';
    return JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'in-cluster',
          cluster: { server: `https://${host}:${port}`, 'certificate-authority': join(saDir, 'ca.crt') },
        },
      ],
      users: [
        {
          name: 'service-account',
          user: { 'auth-provider': { name: 'tokenFile', config: { tokenFile: join(saDir, 'token') } } },
        },
      ],
      contexts: [
        { name: 'in-cluster', context: { cluster: 'in-cluster', user: 'service-account', namespace } },
      ],
      'current-context': 'in-cluster',
    });
  }

  /** Readiness probing of one process, until it exits or the pod stops. */
  async #probe(run: Run, generation: number, env: Record<string, string>, cwd: string): Promise<void> {
    const probe = run.spec.readinessProbe!;
    const current = () => run.generation === generation && run.child !== undefined && !this.#stopping;
    await sleep((probe.initialDelaySeconds ?? 0) * 1000);
    let successes = 0;
    let failures = 0;
    while (current()) {
      const ok = await probeOnce(probe, { podIP: this.#ip, container: run.spec, env, cwd });
      if (!current()) return;
      if (ok) {
        failures = 0;
        successes += 1;
        if (!run.ready && successes >= (probe.successThreshold ?? 1)) {
          run.ready = true;
          this.#report();
        }
      } else {
        successes = 0;
        failures += 1;
        if (run.ready && failures >= (probe.failureThreshold ?? 3)) {
          run.ready = false;
          this.#report();
        }
      }
      await sleep(run.ready ? (probe.periodSeconds ?? 10) * 1000 : 100);
    }
  }

  #phase(): string {
    if (this.#initFailed) return 'Failed';
    if (this.finished) {
      return this.#mains.every((run) => 'terminated' in run.state && run.state.terminated.exitCode === 0)
        ? 'Succeeded'
        : 'Failed';
    }
    if (!this.#initialized || this.#mains.some((run) => !run.everStarted)) return 'Pending';
    return 'Running';
  }

  #condition(type: string, ok: boolean, reason?: string, message?: string): object {
    const status = ok ? 'True' : 'False';
    const previous = this.#transitions.get(type);
    const time = previous?.status === status ? previous.time : now();
    this.#transitions.set(type, { status, time });
    return {
      type,
      status,
      lastProbeTime: null,
      lastTransitionTime: time,
      reason: reason ?? null,
      message: message ?? null,
    };
  }

  #containerStatus(run: Run): object {
    const running = 'running' in run.state;
    return {
      name: run.spec.name,
      image: run.spec.image ?? '',
      imageID: `process-kubelet://${run.spec.image ?? ''}`,
      ...(run.child?.pid === undefined ? {} : { containerID: `process://${run.child.pid}` }),
      ready: run.ready,
      started: running,
      restartCount: run.restartCount,
      state: run.state,
      lastState: run.lastState,
    };
  }

  #status(): object {
    const phase = this.#phase();
    const terminal = phase === 'Succeeded' || phase === 'Failed';
    const unready = this.#mains.filter((run) => !run.ready).map((run) => run.spec.name);
    const containersReady = unready.length === 0 && !terminal;
    const uninitialized = this.#inits.filter((run) => !run.done).map((run) => run.spec.name);
    const notReadyReason = terminal ? 'PodCompleted' : 'ContainersNotReady';
    const notReadyMessage = terminal ? undefined : `containers with unready status: [${unready.join(' ')}]`;
    const conditions = [
      this.#condition('PodReadyToStartContainers', !terminal),
      this.#condition(
        'Initialized',
        this.#initialized || terminal,
        this.#initialized ? undefined : 'ContainersNotInitialized',
        this.#initialized ? undefined : `containers with incomplete status: [${uninitialized.join(' ')}]`,
      ),
      this.#condition(
        'ContainersReady',
        containersReady,
        containersReady ? undefined : notReadyReason,
        containersReady ? undefined : notReadyMessage,
      ),
      this.#condition(
        'Ready',
        containersReady,
        containersReady ? undefined : notReadyReason,
        containersReady ? undefined : notReadyMessage,
      ),
    ];
    const generation = this.#pod.metadata?.generation;
    return {
      status: {
        ...(generation === undefined ? {} : { observedGeneration: generation }),
        phase,
        conditions,
        hostIP: '127.0.0.1',
        hostIPs: [{ ip: '127.0.0.1' }],
        podIP: this.#podIP,
        podIPs: [{ ip: this.#podIP }],
        startTime: this.#startTime,
        ...(this.#inits.length
          ? { initContainerStatuses: this.#inits.map((run) => this.#containerStatus(run)) }
          : {}),
        containerStatuses: this.#mains.map((run) => this.#containerStatus(run)),
      },
    };
  }

  /**
   * Sends the current status, after any patch in flight; the latest state is what arrives. Nothing is sent
   * once the pod is gone (or forgotten). The sending loop must not start then: it would end before its
   * first await, clearing #reporting before the `??=` stores its settled promise there for good, and
   * #flush would spin on that promise without end, starving the event loop.
   */
  #report(): void {
    this.#dirty = true;
    if (this.#gone) return;
    this.#reporting ??= (async () => {
      while (this.#dirty && !this.#gone) {
        this.#dirty = false;
        const body = this.#status();
        try {
          await this.#host.patchStatus(this.#pod, body);
        } catch (error) {
          if ((error as { code?: number }).code === 404) {
            this.#gone = true;
            break;
          }
          this.#host.log(`pod ${this.#label}: status: ${String(error)}`);
          this.#dirty = true;
          await sleep(500);
        }
      }
      this.#reporting = undefined;
    })();
  }

  /** Settles when every status change so far has been sent (or the pod is gone). */
  async #flush(): Promise<void> {
    let reporting = this.#reporting;
    while (reporting !== undefined && !this.#gone) {
      await reporting;
      // A settled promise still in #reporting would be awaited for ever: stop at the second sight of it.
      if (this.#reporting === reporting) return;
      reporting = this.#reporting;
    }
  }
}
