/**
 * An in-memory {@link Cluster} for unit tests: Secrets in a map as the API server holds them (read through
 * the real adapter's conversion), launched Jobs recorded, Job outcomes delivered by the test, Events
 * collected.
 *
 * It refuses what the API server would refuse the operator under manifests/install.yml: each method names
 * the API requests the real adapter (src/kube/kubernetes-cluster.ts) makes ({@link CLUSTER_REQUESTS}), and a
 * call whose requests the manifest's RBAC does not all allow the operator's ServiceAccount fails with a 403
 * like the API server's, before it changes anything (the real adapter may fail midway). `recordEvent`
 * drops a refused Event without throwing, as the real one does.
 * test/kube/kubernetes-cluster-under-rbac.test.ts checks, against a real API server, that the table lists
 * exactly the requests the real adapter makes and that this reading of the manifest agrees with the
 * server's RBAC.
 */
import type { V1Job, V1Secret } from '@kubernetes/client-node';
import { Subject } from 'rxjs';
import { tlsSecretOf, type TlsSecret } from '../../src/certificate/secret.ts';
import { readIssuanceJob, type IssuanceJob } from '../../src/issuance/attempts.ts';
import type { IssuanceOutcome } from '../../src/issuance/job-contract.ts';
import type { IssuanceObjects } from '../../src/issuance/job-objects.ts';
import type { Cluster, JobRecord, Launched, ObjectRef } from '../../src/kube/cluster.ts';
import type { WatchEvent } from '../../src/kube/list-watch.ts';
import { mergeTlsSecret, type IssuedCertificate } from '../../src/kube/tls-secret-writer.ts';
import {
  forbiddenMessage,
  installRbac,
  type ManifestRbac,
  type ResourceRequest,
  type ServiceAccountRef,
} from '../support/manifest-rbac.ts';

/** One kind of API request: a verb on a resource (the namespace is the call's). */
export type ApiCall = Pick<ResourceRequest, 'verb' | 'group' | 'resource'>;

const call = (verb: string, group: string, resource: string): ApiCall => ({ verb, group, resource });

/**
 * The API requests the real adapter makes in each method, in the namespace the call is about (the Secret's,
 * the Job's, the Ingress's). Some happen only on some paths (readJobOutcome lists pods only for a Job that
 * still exists; an Ingress is read and patched only when edited in place, its solver Service then created
 * and deleted in the Ingress's namespace, and no solver Ingress).
 */
export const CLUSTER_REQUESTS: { readonly [M in keyof Cluster]: readonly ApiCall[] } = {
  readTlsSecret: [call('get', '', 'secrets')],
  findIssuanceJob: [call('get', 'batch', 'jobs')],
  launchIssuance: [
    call('create', 'batch', 'jobs'),
    call('get', 'batch', 'jobs'),
    call('create', '', 'services'),
    call('create', 'networking.k8s.io', 'ingresses'),
    call('get', 'networking.k8s.io', 'ingresses'),
    call('patch', 'networking.k8s.io', 'ingresses'),
  ],
  replaceIssuance: [
    call('delete', 'batch', 'jobs'),
    call('create', 'batch', 'jobs'),
    call('get', 'batch', 'jobs'),
    call('create', '', 'services'),
    call('create', 'networking.k8s.io', 'ingresses'),
    call('get', 'networking.k8s.io', 'ingresses'),
    call('patch', 'networking.k8s.io', 'ingresses'),
  ],
  readJobOutcome: [call('get', 'batch', 'jobs'), call('list', '', 'pods')],
  closeIssuance: [
    call('patch', 'batch', 'jobs'),
    call('delete', '', 'services'),
    call('delete', 'networking.k8s.io', 'ingresses'),
    call('get', 'networking.k8s.io', 'ingresses'),
    call('patch', 'networking.k8s.io', 'ingresses'),
  ],
  recordEvent: [call('create', '', 'events')],
};

/** The operator's ServiceAccount name in manifests/install.yml (its namespace is the operator's). */
export const OPERATOR_SERVICE_ACCOUNT = 'kube-lego';
/** The namespace manifests/install.yml installs into. */
export const MANIFEST_NAMESPACE = 'kube-lego';

const INSTALL_RBAC = await installRbac();

/** Options of {@link FakeCluster}. */
export interface FakeClusterOptions {
  /**
   * The operator's namespace (`LEGO_NAMESPACE`): the manifest is read as installed there. Default
   * `default`, as LEGO_NAMESPACE's.
   */
  namespace?: string;
  /** The RBAC to enforce; default manifests/install.yml's. */
  rbac?: ManifestRbac;
}

/** A recorded Event. */
export interface RecordedEvent {
  about: ObjectRef;
  type: string;
  reason: string;
  message: string;
}

/**
 * The fake; `outcome` decides how launched Jobs end (default: they stay running until `finish`). Like the
 * real one, a relaunch adopts the existing Job and reports its outcome once it finished. `jobEvents` is
 * what the operator's watch of the issuance Jobs would see: a launched Job is ADDED, a finished one
 * MODIFIED with its condition, a replaced one DELETED.
 */
export class FakeCluster implements Cluster {
  /** Secrets by `namespace/name`, as the API server returns them (data base64). */
  readonly secrets = new Map<string, V1Secret>();
  readonly jobs = new Map<string, IssuanceObjects>();
  /** Every launch call, including adoptions. */
  readonly launches: string[] = [];
  readonly events: RecordedEvent[] = [];
  /** How many times a Job was replaced. */
  replacements = 0;
  /** Names of the Jobs whose solver Service and Ingress were deleted (closeIssuance). */
  readonly closedSolvers = new Set<string>();
  /** When each Job finished (the fake clock's time when given, else the wall clock's). */
  readonly #finishedAt = new Map<string, number>();
  /** Reads the time for {@link finish}; the test's fake clock when set. */
  now: () => number = () => Date.now();
  readonly #finished = new Map<string, IssuanceOutcome>();
  /** The Job watch's events, as the API server would send them. */
  readonly jobEvents = new Subject<WatchEvent<V1Job>>();
  #generation = 0;
  readonly #uids = new Map<string, string>();
  /** When set, a launched Job finishes at once with this outcome. */
  outcome: ((objects: IssuanceObjects) => IssuanceOutcome) | undefined;
  /** When set, reading a Secret fails with this error. */
  readError: Error | undefined;
  /** The message of every request refused by RBAC, in order. */
  readonly refused: string[] = [];
  readonly #rbac: ManifestRbac;
  readonly #account: ServiceAccountRef;

  constructor(options: FakeClusterOptions = {}) {
    const namespace = options.namespace ?? 'default';
    this.#rbac = (options.rbac ?? INSTALL_RBAC).relocated(MANIFEST_NAMESPACE, namespace);
    this.#account = { namespace, name: OPERATOR_SERVICE_ACCOUNT };
  }

  /** Throws the API server's 403 for the first request of `method` that the RBAC does not allow. */
  #authorize(method: keyof Cluster, namespace: string, name: string): void {
    for (const request of CLUSTER_REQUESTS[method]) {
      const named = ['get', 'update', 'patch', 'delete'].includes(request.verb);
      const full: ResourceRequest = { ...request, namespace, ...(named && { name }) };
      if (this.#rbac.allows(this.#account, full)) continue;
      const message = forbiddenMessage(this.#account, full);
      this.refused.push(message);
      throw Object.assign(new Error(message), { code: 403 });
    }
  }

  async readTlsSecret(namespace: string, name: string): Promise<TlsSecret | undefined> {
    this.#authorize('readTlsSecret', namespace, name);
    if (this.readError) throw this.readError;
    const secret = this.secrets.get(`${namespace}/${name}`);
    return secret === undefined ? undefined : tlsSecretOf(secret);
  }

  /**
   * Stores a certificate as the issuance Job's writer would (src/kube/tls-secret-writer.ts's merge over the
   * Secret there is; the writer's Ingress check and API requests are the Job's, not the operator's).
   */
  writeCertificate(certificate: IssuedCertificate): void {
    const key = `${certificate.namespace}/${certificate.secretName}`;
    this.secrets.set(key, mergeTlsSecret(this.secrets.get(key), certificate));
  }

  async findIssuanceJob(namespace: string, name: string): Promise<IssuanceJob | undefined> {
    this.#authorize('findIssuanceJob', namespace, name);
    return this.jobs.has(name) ? readIssuanceJob(this.jobObject(name)) : undefined;
  }

  async closeIssuance(namespace: string, name: string, record: JobRecord): Promise<void> {
    this.#authorize('closeIssuance', namespace, name);
    const objects = this.jobs.get(name);
    if (objects === undefined) return;
    const { job } = objects;
    job.metadata!.annotations = { ...job.metadata!.annotations, ...record.annotations };
    if (record.keepSeconds !== undefined) job.spec!.ttlSecondsAfterFinished = record.keepSeconds;
    this.closedSolvers.add(name);
    this.jobEvents.next({ type: 'MODIFIED', object: this.jobObject(name) });
  }

  async launchIssuance(objects: IssuanceObjects): Promise<Launched> {
    const name = objects.job.metadata!.name!;
    this.#authorize('launchIssuance', objects.job.metadata!.namespace!, name);
    this.launches.push(name);
    if (this.jobs.has(name)) {
      const outcome = this.#finished.get(name);
      return { adopted: true, ...(outcome !== undefined && { outcome }) };
    }
    this.jobs.set(name, objects);
    this.#generation += 1;
    this.#uids.set(name, `uid-${name}-${this.#generation}`);
    this.jobEvents.next({ type: 'ADDED', object: this.jobObject(name) });
    if (this.outcome) this.finish(name, this.outcome(objects));
    return { adopted: false };
  }

  async replaceIssuance(objects: IssuanceObjects): Promise<void> {
    const name = objects.job.metadata!.name!;
    this.#authorize('replaceIssuance', objects.job.metadata!.namespace!, name);
    this.replacements += 1;
    if (this.jobs.has(name)) this.jobEvents.next({ type: 'DELETED', object: this.jobObject(name) });
    this.jobs.delete(name);
    this.#finished.delete(name);
    this.#finishedAt.delete(name);
    this.closedSolvers.delete(name);
    await this.launchIssuance(objects);
  }

  async readJobOutcome(namespace: string, name: string): Promise<IssuanceOutcome> {
    this.#authorize('readJobOutcome', namespace, name);
    if (!this.jobs.has(name)) {
      return { succeeded: false, reason: 'JobDeleted', message: `Job ${namespace}/${name} was deleted` };
    }
    const done = this.#finished.get(name);
    if (done === undefined) throw new Error(`Job ${namespace}/${name} has not finished`);
    return done;
  }

  /** The Job as the API server would return it: its manifest, a uid, and its condition once finished. */
  jobObject(name: string): V1Job {
    const { job } = this.jobs.get(name)!;
    const outcome = this.#finished.get(name);
    return {
      ...job,
      metadata: { ...job.metadata, uid: this.#uids.get(name) ?? `uid-${name}` },
      status:
        outcome === undefined
          ? {}
          : {
              conditions: [
                {
                  type: outcome.succeeded ? 'Complete' : 'Failed',
                  status: 'True',
                  reason: outcome.reason,
                  lastTransitionTime: new Date(this.#finishedAt.get(name) ?? 0),
                },
              ],
            },
    };
  }

  /** Ends a Job with an outcome; the Job watch sees it (unless `quietly`: it ended while no one watched). */
  finish(name: string, outcome: IssuanceOutcome, quietly = false): void {
    this.#finished.set(name, outcome);
    this.#finishedAt.set(name, this.now());
    if (!quietly && this.jobs.has(name)) {
      this.jobEvents.next({ type: 'MODIFIED', object: this.jobObject(name) });
    }
  }

  async recordEvent(
    about: ObjectRef,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> {
    try {
      this.#authorize('recordEvent', about.namespace, about.name);
    } catch {
      return; // Best effort, as the real one: a refused Event is dropped (the real one logs it at debug).
    }
    this.events.push({ about, type, reason, message });
  }
}
