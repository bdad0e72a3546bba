/** {@link Cluster} over a real API server, through @kubernetes/client-node. */
import { randomBytes } from 'node:crypto';
import {
  BatchV1Api,
  CoreV1Api,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Ingress,
  type V1Job,
  type V1OwnerReference,
} from '@kubernetes/client-node';
import { tlsSecretOf, type TlsSecret } from '../certificate/secret.ts';
import type { Logger } from '../log.ts';
import { readIssuanceJob, type IssuanceJob } from '../issuance/attempts.ts';
import { parseOutcome, type IssuanceOutcome } from '../issuance/job-contract.ts';
import { addChallengePaths, removeChallengePaths, type PatchOperation } from '../ingress/challenge-paths.ts';
import { CHALLENGE_PATH, EDITED_INGRESS_ANNOTATION, type IssuanceObjects } from '../issuance/job-objects.ts';
import type { IngressIdentity } from './ingress-presence.ts';
import { statusOf } from './api-error.ts';
import type { Cluster, JobRecord, Launched, ObjectRef } from './cluster.ts';

/** Runs a create call; an object that exists already (409) is not an error. Returns whether it existed. */
async function createOrAdopt(create: () => Promise<unknown>): Promise<boolean> {
  try {
    await create();
    return false;
  } catch (error) {
    if (statusOf(error) === 409) return true;
    throw error;
  }
}

/** Runs a delete call; an object already gone (404) is not an error. */
async function deleteIfThere(remove: () => Promise<unknown>): Promise<void> {
  try {
    await remove();
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
  }
}

/** How many times a launch creates its Job when the Job it found is deleted before it can be read. */
const LAUNCH_ATTEMPTS = 3;

/**
 * How many times an edit of a user's Ingress is computed afresh when the API server refuses it because the
 * Ingress changed under it (a failed `test` of the patch, 422, or a write in between, 409).
 */
const EDIT_ATTEMPTS = 5;

/** How long replacing a Job may wait for the old Job and its solver objects to be deleted. */
const REPLACE_TIMEOUT_MS = 10_000;

/**
 * Runs a create call until it succeeds, while an object of that name (being deleted) is still there (409),
 * every 100 ms until `deadline`.
 */
async function createOnceGone(create: () => Promise<unknown>, what: string, deadline: number): Promise<void> {
  while (await createOrAdopt(create)) {
    if (Date.now() >= deadline) {
      throw new Error(`${what} was not deleted within ${REPLACE_TIMEOUT_MS / 1000} s: cannot replace it`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The outcome of a finished Job from its conditions, or undefined while it runs. */
export function jobConditionOutcome(job: V1Job): IssuanceOutcome | undefined {
  const conditions = job.status?.conditions ?? [];
  const done = conditions.find(
    (condition) =>
      (condition.type === 'Complete' || condition.type === 'Failed') && condition.status === 'True',
  );
  if (done === undefined) return undefined;
  return {
    succeeded: done.type === 'Complete',
    reason: done.reason ?? (done.type === 'Complete' ? 'Issued' : 'JobFailed'),
    message: done.message ?? '',
  };
}

/** The lifecycle tasks' view of a real cluster. */
export class KubernetesCluster implements Cluster {
  readonly #core: CoreV1Api;
  readonly #batch: BatchV1Api;
  readonly #networking: NetworkingV1Api;
  readonly #log: Logger;

  constructor(config: KubeConfig, log: Logger) {
    this.#core = config.makeApiClient(CoreV1Api);
    this.#batch = config.makeApiClient(BatchV1Api);
    this.#networking = config.makeApiClient(NetworkingV1Api);
    this.#log = log;
  }

  async readTlsSecret(namespace: string, name: string): Promise<TlsSecret | undefined> {
    try {
      return tlsSecretOf(await this.#core.readNamespacedSecret({ namespace, name }));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async findIssuanceJob(namespace: string, name: string): Promise<IssuanceJob | undefined> {
    try {
      return readIssuanceJob(await this.#batch.readNamespacedJob({ namespace, name }));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async closeIssuance(namespace: string, name: string, record: JobRecord): Promise<void> {
    const body = {
      metadata: { annotations: record.annotations },
      ...(record.keepSeconds !== undefined && { spec: { ttlSecondsAfterFinished: record.keepSeconds } }),
    };
    let recorded: V1Job | undefined;
    await deleteIfThere(async () => {
      recorded = await this.#batch.patchNamespacedJob(
        { namespace, name, body },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    });
    const edited = recorded?.metadata?.annotations?.[EDITED_INGRESS_ANNOTATION];
    if (edited !== undefined) {
      const [ingressNamespace = '', ingressName = ''] = edited.split('/');
      await this.#editIngress({ namespace: ingressNamespace, name: ingressName }, (ingress) =>
        removeChallengePaths(ingress, { service: name, path: CHALLENGE_PATH }),
      );
      await deleteIfThere(() => this.#core.deleteNamespacedService({ namespace: ingressNamespace, name }));
      return;
    }
    // The solver objects bear the Job's name; the garbage collector would take them only with the Job.
    await deleteIfThere(() => this.#core.deleteNamespacedService({ namespace, name }));
    await deleteIfThere(() => this.#networking.deleteNamespacedIngress({ namespace, name }));
  }

  async launchIssuance(objects: IssuanceObjects): Promise<Launched> {
    const { job } = objects;
    const namespace = job.metadata!.namespace!;
    const name = job.metadata!.name!;
    for (let attempt = 1; ; attempt += 1) {
      const adopted = await createOrAdopt(() => this.#batch.createNamespacedJob({ namespace, body: job }));
      let created: V1Job;
      try {
        created = await this.#batch.readNamespacedJob({ namespace, name });
      } catch (error) {
        // The Job of that name (409) was deleted before it could be read (its TTL ran out just then):
        // there is none to adopt, so create it again.
        if (statusOf(error) === 404 && attempt < LAUNCH_ATTEMPTS) continue;
        throw error;
      }
      await this.#createSolvers(objects, created.metadata!.uid!);
      const outcome = adopted ? jobConditionOutcome(created) : undefined;
      return { adopted, ...(outcome !== undefined && { outcome }) };
    }
  }

  async replaceIssuance(objects: IssuanceObjects): Promise<void> {
    const { job } = objects;
    const namespace = job.metadata!.namespace!;
    const name = job.metadata!.name!;
    await deleteIfThere(() =>
      this.#batch.deleteNamespacedJob({ namespace, name, propagationPolicy: 'Background' }),
    );
    // The old Job's solver Service and Ingress bear the new ones' names and go only when the garbage
    // collector gets to them, which on a busy cluster is after the new Job exists: adopting them (409) would
    // leave the new Job without solver objects once they are collected. So each is created once its
    // predecessor is gone.
    const deadline = Date.now() + REPLACE_TIMEOUT_MS;
    await createOnceGone(
      () => this.#batch.createNamespacedJob({ namespace, body: job }),
      `Job ${namespace}/${name}`,
      deadline,
    );
    const created = await this.#batch.readNamespacedJob({ namespace, name });
    await this.#createSolvers(objects, created.metadata!.uid!, deadline);
  }

  async readJobOutcome(namespace: string, name: string): Promise<IssuanceOutcome> {
    let job: V1Job;
    try {
      job = await this.#batch.readNamespacedJob({ namespace, name });
    } catch (error) {
      if (statusOf(error) === 404) {
        return {
          succeeded: false,
          reason: 'JobDeleted',
          message: `Job ${namespace}/${name} was deleted before its outcome was read`,
        };
      }
      throw error;
    }
    const outcome = jobConditionOutcome(job);
    if (outcome === undefined) throw new Error(`Job ${namespace}/${name} has not finished`);
    return (await this.#podOutcome(namespace, name)) ?? outcome;
  }

  async recordEvent(
    about: ObjectRef,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> {
    const now = new Date();
    try {
      await this.#core.createNamespacedEvent({
        namespace: about.namespace,
        body: {
          metadata: { name: `${about.name}.${randomBytes(8).toString('hex')}`, namespace: about.namespace },
          involvedObject: about,
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: 'kube-lego' },
          reportingComponent: 'kube-lego',
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch (error) {
      this.#log.debug(
        { error: (error as Error).message, reason },
        `could not record an Event on ${about.namespace}/${about.name}`,
      );
    }
  }

  /**
   * Creates the solver Service and Ingress of an issuance, owned by its Job, or, edited in place, the
   * Service (owned by the user's Ingress) and the challenge path in that Ingress. Existing ones are kept (a
   * relaunch adopts them with the Job), unless `replacing` gives the deadline by which those of a replaced
   * Job must be gone (an in-place Service outlives its Job, and is kept).
   */
  async #createSolvers(
    { job, service, ingress, inPlace }: IssuanceObjects,
    jobUid: string,
    replacing?: number,
  ): Promise<void> {
    if (inPlace !== undefined) {
      await createOrAdopt(() =>
        this.#core.createNamespacedService({ namespace: inPlace.ingress.namespace, body: service }),
      );
      await this.#editIngress(inPlace.ingress, (found) => addChallengePaths(found, inPlace.route));
      return;
    }
    const namespace = job.metadata!.namespace!;
    const create = (call: () => Promise<unknown>, what: string) =>
      replacing === undefined ? createOrAdopt(call) : createOnceGone(call, what, replacing);
    const owner: V1OwnerReference = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      name: job.metadata!.name!,
      uid: jobUid,
      controller: true,
      blockOwnerDeletion: false,
    };
    await create(
      () =>
        this.#core.createNamespacedService({
          namespace,
          body: { ...service, metadata: { ...service.metadata, ownerReferences: [owner] } },
        }),
      `solver Service ${namespace}/${service.metadata!.name!}`,
    );
    if (ingress === undefined) return;
    await create(
      () =>
        this.#networking.createNamespacedIngress({
          namespace,
          body: { ...ingress, metadata: { ...ingress.metadata, ownerReferences: [owner] } },
        }),
      `solver Ingress ${namespace}/${ingress.metadata!.name!}`,
    );
  }

  /**
   * Patches a user's Ingress with what `change` computes from it, reading it again when the API server
   * refuses the patch because the Ingress changed meanwhile; the owner's change stands and the patch is
   * computed anew. A patch of no operation, or an Ingress that is gone (or was replaced, `uid` given), ends
   * it: there is nothing to route or to take back.
   */
  async #editIngress(
    at: Pick<IngressIdentity, 'namespace' | 'name'> & { uid?: string },
    change: (ingress: V1Ingress) => PatchOperation[],
  ): Promise<void> {
    const { namespace, name } = at;
    for (let attempt = 1; ; attempt += 1) {
      let found: V1Ingress;
      try {
        found = await this.#networking.readNamespacedIngress({ namespace, name });
      } catch (error) {
        if (statusOf(error) === 404) return;
        throw error;
      }
      if (at.uid !== undefined && found.metadata?.uid !== at.uid) return;
      const operations = change(found);
      if (operations.length === 0) return;
      try {
        await this.#networking.patchNamespacedIngress(
          { namespace, name, body: operations },
          setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
        );
        return;
      } catch (error) {
        const status = statusOf(error);
        if (status === 404) return;
        if ((status !== 409 && status !== 422) || attempt >= EDIT_ATTEMPTS) {
          throw new Error(
            `could not edit Ingress ${namespace}/${name} in place (${(error as Error).message}): ` +
              `it changed ${EDIT_ATTEMPTS} times while kube-lego edited it, or refused the edit`,
            { cause: error },
          );
        }
      }
    }
  }

  /** The outcome the `jobs/` program wrote to its termination message, if its pod has one. */
  async #podOutcome(namespace: string, job: string): Promise<IssuanceOutcome | undefined> {
    const pods = await this.#core.listNamespacedPod({ namespace, labelSelector: `job-name=${job}` });
    for (const pod of pods.items) {
      for (const status of pod.status?.containerStatuses ?? []) {
        const outcome = parseOutcome(status.state?.terminated?.message);
        if (outcome !== undefined) return outcome;
      }
    }
    return undefined;
  }
}
