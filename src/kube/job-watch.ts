/**
 * The issuance Jobs (label `kube-lego.io/issuance`, in `LEGO_NAMESPACE`), listed then watched, as an
 * Observable: a Job that finishes starts the "Job finished" run of its certificate, so no run waits for a
 * Job. The initial list reports Jobs that finished while the operator was down.
 */
import { BatchV1Api, type KubeConfig, type V1Job } from '@kubernetes/client-node';
import type { Observable } from 'rxjs';
import { readIssuanceJob } from '../issuance/attempts.ts';
import { JOB_LABEL, MANAGED_BY } from '../issuance/job-objects.ts';
import type { ListWatchOptions, WatchEvent } from './list-watch.ts';
import { watchResource } from './resource-watch.ts';

/** Selects kube-lego's issuance Jobs. */
export const ISSUANCE_JOB_SELECTOR = `app.kubernetes.io/managed-by=${MANAGED_BY['app.kubernetes.io/managed-by']},${JOB_LABEL}`;

/** The annotation of an issuance Job naming its certificate (`namespace/secretName`). */
export const CERTIFICATE_ANNOTATION = 'kube-lego.io/certificate';

/** The annotations of an issuance Job saying why it was launched ("Inspect certificate"'s verdict). */
export const REASON_ANNOTATION = 'kube-lego.io/reason';
export const REASON_MESSAGE_ANNOTATION = 'kube-lego.io/reason-message';

/**
 * A finished issuance Job: its name, uid, the certificate it was for, why it was launched, the failures in
 * a row before it, when it ended, and whether its outcome was recorded already (by this operator before a
 * restart, or by another replica).
 */
export interface FinishedJob {
  name: string;
  uid: string;
  certificate: string;
  launchedBecause?: { reason: string; message: string };
  previousFailures: number;
  finishedAt: number;
  outcomeRecorded: boolean;
}

/** The Job as a finished issuance (its Complete or Failed condition True), or undefined. Pure. */
export function finishedJob(job: V1Job): FinishedJob | undefined {
  const attempt = readIssuanceJob(job);
  const certificate = job.metadata?.annotations?.[CERTIFICATE_ANNOTATION];
  if (attempt.finished === undefined || certificate === undefined) return undefined;
  const reason = job.metadata?.annotations?.[REASON_ANNOTATION];
  const message = job.metadata?.annotations?.[REASON_MESSAGE_ANNOTATION] ?? '';
  return {
    name: attempt.name,
    uid: attempt.uid,
    certificate,
    ...(reason !== undefined && { launchedBecause: { reason, message } }),
    previousFailures: attempt.previousFailures,
    finishedAt: attempt.finished.at,
    outcomeRecorded: attempt.outcomeRecorded !== undefined,
  };
}

/** Changes to the issuance Jobs in `namespace`, from a list then a watch. */
export function watchIssuanceJobs(
  config: KubeConfig,
  namespace: string,
  options: ListWatchOptions,
): Observable<WatchEvent<V1Job>> {
  const api = config.makeApiClient(BatchV1Api);
  const labelSelector = ISSUANCE_JOB_SELECTOR;
  return watchResource<V1Job>(
    config,
    {
      path: `/apis/batch/v1/namespaces/${namespace}/jobs`,
      labelSelector,
      list: () => api.listNamespacedJob({ namespace, labelSelector }),
    },
    options,
  );
}
