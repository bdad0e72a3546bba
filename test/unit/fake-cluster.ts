/**
 * An in-memory {@link Cluster} for unit tests: Secrets in a map, launched Jobs recorded, Job outcomes
 * delivered by the test, Events collected.
 */
import type { TlsSecretData } from '../../src/certificate/policy.ts';
import type { IssuanceOutcome } from '../../src/issuance/job-contract.ts';
import type { IssuanceObjects } from '../../src/issuance/job-objects.ts';
import type { Cluster, Launched, ObjectRef } from '../../src/kube/cluster.ts';

/** A recorded Event. */
export interface RecordedEvent {
  about: ObjectRef;
  type: string;
  reason: string;
  message: string;
}

/**
 * The fake; `outcome` decides how launched Jobs end (default: they stay running until `finish`). Like the
 * real one, a relaunch adopts the existing Job and reports its outcome once it finished.
 */
export class FakeCluster implements Cluster {
  readonly secrets = new Map<string, TlsSecretData>();
  readonly jobs = new Map<string, IssuanceObjects>();
  /** Every launch call, including adoptions. */
  readonly launches: string[] = [];
  readonly events: RecordedEvent[] = [];
  /** How many times a Job was replaced. */
  replacements = 0;
  readonly #waiters = new Map<string, ((outcome: IssuanceOutcome) => void)[]>();
  readonly #finished = new Map<string, IssuanceOutcome>();
  /** When set, a launched Job finishes at once with this outcome. */
  outcome: ((objects: IssuanceObjects) => IssuanceOutcome) | undefined;
  /** When set, reading a Secret fails with this error. */
  readError: Error | undefined;

  async readTlsSecret(namespace: string, name: string): Promise<TlsSecretData | undefined> {
    if (this.readError) throw this.readError;
    return this.secrets.get(`${namespace}/${name}`);
  }

  async launchIssuance(objects: IssuanceObjects): Promise<Launched> {
    const name = objects.job.metadata!.name!;
    this.launches.push(name);
    if (this.jobs.has(name)) {
      const outcome = this.#finished.get(name);
      return { adopted: true, ...(outcome !== undefined && { outcome }) };
    }
    this.jobs.set(name, objects);
    if (this.outcome) this.finish(name, this.outcome(objects));
    return { adopted: false };
  }

  async replaceIssuance(objects: IssuanceObjects): Promise<void> {
    const name = objects.job.metadata!.name!;
    this.replacements += 1;
    this.jobs.delete(name);
    this.#finished.delete(name);
    await this.launchIssuance(objects);
  }

  awaitJob(_namespace: string, name: string, signal: AbortSignal): Promise<IssuanceOutcome> {
    const done = this.#finished.get(name);
    if (done) return Promise.resolve(done);
    return new Promise((resolve, reject) => {
      const waiters = this.#waiters.get(name) ?? [];
      waiters.push(resolve);
      this.#waiters.set(name, waiters);
      signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true });
    });
  }

  /** Ends a Job with an outcome, waking its waiters. */
  finish(name: string, outcome: IssuanceOutcome): void {
    this.#finished.set(name, outcome);
    for (const resolve of this.#waiters.get(name) ?? []) resolve(outcome);
    this.#waiters.delete(name);
  }

  async recordEvent(
    about: ObjectRef,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> {
    this.events.push({ about, type, reason, message });
  }
}
