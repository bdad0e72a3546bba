/**
 * What the lifecycle process needs from Kubernetes, as a narrow port. `kubernetes-cluster.ts` implements
 * it with @kubernetes/client-node; unit tests use an in-memory fake.
 */
import type { TlsSecretData } from '../certificate/policy.ts';
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

/** Kubernetes as the lifecycle tasks see it. */
export interface Cluster {
  /** The decoded data of a Secret, or undefined when it does not exist. */
  readTlsSecret(namespace: string, name: string): Promise<TlsSecretData | undefined>;
  /**
   * Creates the Job, then its solver Service and Ingress owned by it. Idempotent: an existing Job or
   * solver object (409) counts as created, so a relaunch after a restart adopts the running Job. An
   * existing Job that already succeeded is stale (its certificate was found missing or bad since) and is
   * replaced; a failed one is adopted, so its outcome stands until it expires (LEGO_JOB_TTL).
   */
  launchIssuance(objects: IssuanceObjects): Promise<{ adopted: boolean }>;
  /** Waits until the Job finishes; its outcome is read from the pod's termination message. */
  awaitJob(namespace: string, name: string, signal: AbortSignal): Promise<IssuanceOutcome>;
  /** Records a Kubernetes Event on an object. Never throws: an Event is best effort. */
  recordEvent(about: ObjectRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}
