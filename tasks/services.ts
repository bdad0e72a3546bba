/**
 * What the certificate-lifecycle tasks share: the services the host gives every run, and the token type.
 */
import type { RenewalInfoCache } from '../src/acme/renewal-info-cache.ts';
import type { Config } from '../src/config.ts';
import type { RetrySettings } from '../src/issuance/attempts.ts';
import type { JobSlots } from '../src/issuance/job-slots.ts';
import type { CertificateRequest } from '../src/ingress/requests.ts';
import type { Cluster, ObjectRef } from '../src/kube/cluster.ts';
import type { SecretCache } from '../src/kube/secret-cache.ts';
import type { Deduplicator } from '../src/process/deduplicator.ts';
import type { TaskImplementation } from '../src/process/runner.ts';

/** The services of the lifecycle process. */
export interface LifecycleServices {
  config: Config;
  cluster: Cluster;
  deduplicator: Deduplicator;
  /** Milliseconds since the epoch; a fake in tests. */
  now(): number;
  /**
   * Task errors in a row per certificate key (an API server error, say), for their back-off. Kept in memory:
   * they cost the API server a read, not the CA an order, so a restart may start them afresh. The host
   * clears a key when a run of it ends well.
   */
  taskFailures: Map<string, number>;
  /** The slots of the issuance Jobs in flight (`LEGO_MAX_JOBS_IN_FLIGHT`), fed by the host's Job watch. */
  jobSlots: JobSlots;
  /** The CA's renewal windows (ACME Renewal Information); undefined when `LEGO_RENEWAL_INFO=false`. */
  renewalInfo?: RenewalInfoCache;
  /** The certificate Secrets as the Secret watch reported them; undefined without that watch. */
  secretCache?: SecretCache;
}

/** The retries' back-off from the settings. */
export function retrySettings(config: Config): RetrySettings {
  return { initialIntervalMs: config.retryInitialIntervalMs, maxIntervalMs: config.retryMaxIntervalMs };
}

/**
 * A lifecycle token: one certificate request; a "Job finished" token also names the finished issuance Job
 * (in `LEGO_NAMESPACE`) whose outcome it records, why that Job was launched, how many attempts failed in a
 * row before it, and when it ended (its annotations and condition).
 */
export type LifecycleToken = CertificateRequest & {
  job?: string;
  launchedBecause?: { reason: string; message: string };
  previousFailures?: number;
  finishedAt?: number;
};

/** A task of the lifecycle process. */
export type LifecycleTask = TaskImplementation<LifecycleServices, LifecycleToken>;

/** The Ingress a token came from, as the subject of an Event. */
export function ingressRef(token: LifecycleToken): ObjectRef {
  return {
    kind: 'Ingress',
    apiVersion: 'networking.k8s.io/v1',
    namespace: token.namespace,
    name: token.ingress.name,
    uid: token.ingress.uid,
  };
}
