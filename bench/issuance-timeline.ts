/**
 * Where the time of an issuance goes, on the local cluster: watches of the issuance Jobs, their pods and
 * the certificate Secrets stamp when each was first seen in a state, and the Job's own log (the element
 * its token entered, with pino's time) gives the steps inside it. All times are this machine's clock, in
 * epoch ms, so they compare.
 */
import { Watch, type KubeConfig, type V1Job, type V1Pod, type V1Secret } from '@kubernetes/client-node';
import { OUTCOME_RECORDED_ANNOTATION } from '../src/issuance/attempts.ts';
import { STEP_FIELD } from '../src/issuance/job-contract.ts';
import type { ProcessKubelet } from '../test/support/kubelet.ts';

/** The stages of one issuance, in order, as the bench prints them. */
export const STAGES = [
  'job created',
  'pod created',
  'pod running',
  'process ready',
  'order created',
  'challenges valid',
  'certificate issued',
  'secret written',
  'outcome recorded',
] as const;

export type Stage = (typeof STAGES)[number];

/** The element of processes/issue-certificate.bpmn whose entry marks each stage inside the Job. */
const STEP_STAGES: Record<string, Stage> = {
  StartEvent_Order: 'process ready',
  Task_PublishChallenges: 'order created',
  Task_RecheckIngress: 'challenges valid',
  Task_WriteSecret: 'certificate issued',
};

/** The annotation on an issuance Job naming its certificate, `namespace/secretName`. */
const CERTIFICATE_ANNOTATION = 'kube-lego.io/certificate';

/** First-seen times per certificate (`namespace/secretName`) and stage. */
export class IssuanceTimeline {
  readonly #seen = new Map<string, Map<Stage, number>>();
  /** Job name → certificate, to place the Job's pods. */
  readonly #jobs = new Map<string, string>();
  /** Certificate → the names of its Job's pods. */
  readonly #pods = new Map<string, Set<string>>();
  readonly #watches: AbortController[] = [];

  /** Starts watching the Jobs and pods of `jobNamespace` and the Secrets of `secretNamespace`. */
  static async start(
    kube: KubeConfig,
    jobNamespace: string,
    secretNamespace: string,
  ): Promise<IssuanceTimeline> {
    const timeline = new IssuanceTimeline();
    const watch = new Watch(kube);
    const follow = async <T>(path: string, seen: (object: T) => void) => {
      timeline.#watches.push(
        await watch.watch(
          path,
          {},
          (_type, object: T) => seen(object),
          () => undefined,
        ),
      );
    };
    await follow<V1Job>(`/apis/batch/v1/namespaces/${jobNamespace}/jobs`, (job) => timeline.#job(job));
    await follow<V1Pod>(`/api/v1/namespaces/${jobNamespace}/pods`, (pod) => timeline.#pod(pod));
    await follow<V1Secret>(`/api/v1/namespaces/${secretNamespace}/secrets`, (secret) => {
      if (secret.data?.['tls.crt'])
        timeline.#mark(`${secretNamespace}/${secret.metadata?.name}`, 'secret written');
    });
    return timeline;
  }

  /** The Job's own steps, from its pods' logs as the kubelet keeps them; call once its Job has ended. */
  readJobLogs(kubelet: ProcessKubelet, jobNamespace: string): void {
    for (const [certificate, pods] of this.#pods) {
      for (const pod of pods) {
        for (const line of kubelet.podLogs(jobNamespace, pod).split('\n')) {
          if (!line.startsWith('{')) continue;
          const entry = JSON.parse(line) as Record<string, unknown>;
          const stage = STEP_STAGES[String(entry[STEP_FIELD])];
          if (stage !== undefined && typeof entry.time === 'number')
            this.#mark(certificate, stage, entry.time);
        }
      }
    }
  }

  /** When `certificate` reached each stage it reached. */
  stages(certificate: string): ReadonlyMap<Stage, number> {
    return this.#seen.get(certificate) ?? new Map();
  }

  stop(): void {
    for (const watch of this.#watches) watch.abort();
  }

  #job(job: V1Job): void {
    const certificate = job.metadata?.annotations?.[CERTIFICATE_ANNOTATION];
    if (certificate === undefined) return;
    this.#jobs.set(job.metadata?.name ?? '', certificate);
    this.#mark(certificate, 'job created');
    if (job.metadata?.annotations?.[OUTCOME_RECORDED_ANNOTATION] !== undefined) {
      this.#mark(certificate, 'outcome recorded');
    }
  }

  #pod(pod: V1Pod): void {
    const certificate = this.#jobs.get(pod.metadata?.labels?.['batch.kubernetes.io/job-name'] ?? '');
    if (certificate === undefined) return;
    let pods = this.#pods.get(certificate);
    if (pods === undefined) this.#pods.set(certificate, (pods = new Set()));
    pods.add(pod.metadata?.name ?? '');
    this.#mark(certificate, 'pod created');
    if (pod.status?.phase === 'Running' || pod.status?.phase === 'Succeeded')
      this.#mark(certificate, 'pod running');
  }

  /** Keeps the first time only: a later event of the same stage is the same state seen again. */
  #mark(certificate: string, stage: Stage, at = Date.now()): void {
    let stages = this.#seen.get(certificate);
    if (stages === undefined) this.#seen.set(certificate, (stages = new Map()));
    if (!stages.has(stage)) stages.set(stage, at);
  }
}
