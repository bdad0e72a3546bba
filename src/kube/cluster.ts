/**
 * What the lifecycle process needs from Kubernetes, as a narrow port. `kubernetes-cluster.ts` implements
 * it with @kubernetes/client-node; unit tests use an in-memory fake.
 */
import type { TlsSecret } from '../certificate/secret.ts';
import type { IssuanceJob } from '../issuance/attempts.ts';
import type { IssuanceObjects } from '../issuance/job-objects.ts';
import type { IssuanceOutcome } from '../issuance/job-contract.ts';

/** The object an Event is about. */
export interface ObjectRef {
  kind: 'Ingress';
  apiVersion: string;
  namespace: string;
  name: string;
  uid: string;
}

/** What launching an issuance found. */
export interface Launched {
  /** A Job of that name existed already. */
  adopted: boolean;
  /** Its outcome, when the adopted Job has finished. */
  outcome?: IssuanceOutcome;
}

/** What recording a finished Job's outcome writes on it (src/issuance/attempts.ts). */
export interface JobRecord {
  /** Annotations to add to the Job. */
  annotations: Record<string, string>;
  /** The Job's new `ttlSecondsAfterFinished`, when it must be kept longer (until its retry is due). */
  keepSeconds?: number;
}

/** Kubernetes as the lifecycle tasks see it. */
export interface Cluster {
  /**
   * A Secret's decoded `tls.crt` and `tls.key` with its annotations, labels and owner references (what says
   * who manages it and what it was issued with), or undefined when it does not exist.
   */
  readTlsSecret(namespace: string, name: string): Promise<TlsSecret | undefined>;
  /** The issuance Job of that name in `namespace`, or undefined when there is none. */
  findIssuanceJob(namespace: string, name: string): Promise<IssuanceJob | undefined>;
  /**
   * Creates the Job, then its solver Service and Ingress owned by it. Idempotent: an existing Job or
   * solver object (409) counts as created, so a relaunch after a restart adopts the running Job; the
   * outcome of an adopted Job that has finished comes back with it.
   */
  launchIssuance(objects: IssuanceObjects): Promise<Launched>;
  /**
   * Deletes the Job of that name (its pods and solver objects go with it) and launches the issuance anew,
   * creating each new object once the garbage collector has removed the old one of its name.
   */
  replaceIssuance(objects: IssuanceObjects): Promise<void>;
  /**
   * The outcome of a finished Job, read from its pod's termination message (else its condition); a Job
   * deleted meanwhile is a `JobDeleted` failure. Throws for a Job that has not finished.
   */
  readJobOutcome(namespace: string, name: string): Promise<IssuanceOutcome>;
  /**
   * Records a finished Job's outcome on it (annotations, a longer TTL) and deletes its solver Service and
   * Ingress at once, so its route does not outlive it by `LEGO_JOB_TTL`. A Job deleted meanwhile is not an
   * error.
   */
  closeIssuance(namespace: string, name: string, record: JobRecord): Promise<void>;
  /** Records a Kubernetes Event on an object. Never throws: an Event is best effort. */
  recordEvent(about: ObjectRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}
