/**
 * Where each running issuance Job stands on processes/issue-certificate.bpmn, for the process view: the
 * last step (`STEP_FIELD`) its `issue` container logged. Read on demand (while someone views the page), one
 * log tail per running Job, through the API server's `pods/log`.
 */
import { BatchV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { STEP_FIELD } from '../issuance/job-contract.ts';
import { ISSUANCE_JOB_SELECTOR } from './job-watch.ts';

/** A running issuance Job and its step. */
export interface RunningIssuance {
  job: string;
  /** The certificate it issues, `namespace/secret`. */
  certificate: string;
  /** Epoch ms the Job was created. */
  since: number;
  /** The element of the issue-certificate diagram its token last entered; undefined before its first. */
  step?: string;
}

/** The last step a Job's log names, reading its lines from the end; undefined when none does. */
export function lastStep(log: string): string | undefined {
  const lines = log.split('\n');
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    const line = lines[i]!.trim();
    if (!line.startsWith('{')) continue;
    try {
      const step = (JSON.parse(line) as Record<string, unknown>)[STEP_FIELD];
      if (typeof step === 'string') return step;
    } catch {
      // a line cut short
    }
  }
  return undefined;
}

/** Reads the running issuance Jobs of `namespace` and their steps. */
export type IssuanceSteps = () => Promise<RunningIssuance[]>;

/** The running issuance Jobs of `namespace` in the cluster, with their steps. */
export function clusterIssuanceSteps(kube: KubeConfig, namespace: string): IssuanceSteps {
  const batch = kube.makeApiClient(BatchV1Api);
  const core = kube.makeApiClient(CoreV1Api);
  return async () => {
    const jobs = await batch.listNamespacedJob({ namespace, labelSelector: ISSUANCE_JOB_SELECTOR });
    const running = jobs.items.filter(
      (job) =>
        !(job.status?.conditions ?? []).some(
          (condition) =>
            (condition.type === 'Complete' || condition.type === 'Failed') && condition.status === 'True',
        ),
    );
    return Promise.all(
      running.map(async (job): Promise<RunningIssuance> => {
        const name = job.metadata!.name!;
        const base = {
          job: name,
          certificate: job.metadata?.annotations?.['kube-lego.io/certificate'] ?? '',
          since: new Date(job.metadata?.creationTimestamp ?? Date.now()).getTime(),
        };
        const pods = await core.listNamespacedPod({ namespace, labelSelector: `job-name=${name}` });
        const pod = pods.items.find((each) => each.status?.phase === 'Running');
        if (pod === undefined) return base;
        try {
          const log = await core.readNamespacedPodLog({
            namespace,
            name: pod.metadata!.name!,
            container: 'issue',
            tailLines: 40,
          });
          const step = lastStep(String(log));
          return step === undefined ? base : { ...base, step };
        } catch {
          return base;
        }
      }),
    );
  };
}
