/**
 * The certificates' statuses read from the cluster, for `kube-lego status`: what the operator's process
 * view shows, worked out from the objects themselves (the annotated Ingresses, their Secrets, the issuance
 * Jobs and the Events kube-lego wrote) with the settings of the operator's ConfigMap, and the CA's renewal
 * windows (asked as the operator asks them). Needs no operator.
 */
import {
  BatchV1Api,
  CoreV1Api,
  NetworkingV1Api,
  type CoreV1Event,
  type KubeConfig,
  type V1Job,
} from '@kubernetes/client-node';
import { caRenewalInfo } from '../acme/renewal-info.ts';
import { inspectCertificate, issuanceSettingsOf, type PolicyVerdict } from '../certificate/policy.ts';
import { renewalTimeInWindow } from '../certificate/renewal-information.ts';
import { tlsSecretOf } from '../certificate/secret.ts';
import { parseConfig, type Config } from '../config.ts';
import { RequestIndex } from '../ingress/request-index.ts';
import type { CertificateRequest } from '../ingress/requests.ts';
import { jobStanding, readIssuanceJob } from '../issuance/attempts.ts';
import { issuanceJobName } from '../issuance/job-objects.ts';
import { ISSUANCE_JOB_SELECTOR } from '../kube/job-watch.ts';
import {
  describeState,
  nextStatus,
  type CertificateStatus,
  type LastEvent,
  type RunFacts,
} from '../view/certificate-status.ts';

/** A status with its state in words, as `/api/certificates` gives it. */
export type CertificateRow = CertificateStatus & { stateText: string };

/** What a check of one certificate found: its request, the policy's verdict, its Job's standing. */
export interface CertificateFindings {
  request: CertificateRequest;
  verdict: PolicyVerdict;
  job: ReturnType<typeof jobStanding>;
  lastEvent?: LastEvent;
}

/** The status the findings add up to, as the operator's runs would leave it. Pure. */
export function statusOf(findings: CertificateFindings, now: number): CertificateRow {
  const { request, verdict, job } = findings;
  const facts: RunFacts =
    job.state === 'running'
      ? { end: 'launched', verdict }
      : job.state === 'backingOff'
        ? { end: 'backing off', verdict, retryAt: job.retryAt }
        : { end: verdict.foreign ? 'foreign' : verdict.valid ? 'valid' : 'pending', verdict };
  const status = nextStatus(
    undefined,
    {
      namespace: request.namespace,
      secret: request.secretName,
      hosts: request.hosts,
      ingress: `${request.namespace}/${request.ingress.name}`,
    },
    facts,
    now,
  );
  const row = findings.lastEvent === undefined ? status : { ...status, lastEvent: findings.lastEvent };
  return { ...row, stateText: describeState(row) };
}

/** The operator's settings: its ConfigMap's `LEGO_*` over the defaults (what install.yml sets up). */
async function operatorConfig(core: CoreV1Api, namespace: string): Promise<Config> {
  try {
    const configMap = await core.readNamespacedConfigMap({ namespace, name: 'kube-lego' });
    return parseConfig({ LEGO_NAMESPACE: namespace, ...configMap.data });
  } catch {
    return parseConfig({ LEGO_NAMESPACE: namespace });
  }
}

/** The newest Event kube-lego wrote on each Ingress (`namespace/name`). */
function lastEvents(events: CoreV1Event[]): Map<string, LastEvent> {
  const newest = new Map<string, LastEvent>();
  for (const event of events) {
    if (event.source?.component !== 'kube-lego' && event.reportingComponent !== 'kube-lego') continue;
    if (event.involvedObject.kind !== 'Ingress') continue;
    const at = new Date(
      event.lastTimestamp ?? event.eventTime ?? event.metadata.creationTimestamp ?? 0,
    ).getTime();
    const key = `${event.involvedObject.namespace}/${event.involvedObject.name}`;
    if ((newest.get(key)?.at ?? -1) > at) continue;
    newest.set(key, {
      type: event.type === 'Warning' ? 'Warning' : 'Normal',
      reason: event.reason ?? '',
      message: event.message ?? '',
      at,
    });
  }
  return newest;
}

/** Options of {@link certificateStatuses}. */
export interface StatusOptions {
  /** The operator's namespace (its ConfigMap and Jobs); `kube-lego` by default. */
  operatorNamespace?: string;
  /** Only the certificates of this namespace. */
  namespace?: string;
  now?: number;
}

/** Every managed certificate's status, by key. */
export async function certificateStatuses(
  kube: KubeConfig,
  options: StatusOptions = {},
): Promise<CertificateRow[]> {
  const core = kube.makeApiClient(CoreV1Api);
  const networking = kube.makeApiClient(NetworkingV1Api);
  const batch = kube.makeApiClient(BatchV1Api);
  const now = options.now ?? Date.now();
  const config = await operatorConfig(core, options.operatorNamespace ?? 'kube-lego');
  const ingresses =
    options.namespace === undefined
      ? await networking.listIngressForAllNamespaces()
      : await networking.listNamespacedIngress({ namespace: options.namespace });
  const index = new RequestIndex({
    annotation: config.kubeAnnotation,
    supportedClasses: config.supportedIngressClasses,
    defaultClass: config.defaultIngressClass,
    supportedProviders: config.supportedIngressProviders,
    defaultProvider: config.defaultIngressProvider,
  });
  for (const ingress of ingresses.items) index.upsert(ingress);
  const requests = [...index.requests()];
  const jobs = new Map<string, V1Job>();
  for (const job of (
    await batch.listNamespacedJob({ namespace: config.namespace, labelSelector: ISSUANCE_JOB_SELECTOR })
  ).items) {
    jobs.set(job.metadata!.name!, job);
  }
  const namespaces = [...new Set(requests.map((request) => request.namespace))];
  const events = lastEvents(
    (await Promise.all(namespaces.map((namespace) => core.listNamespacedEvent({ namespace })))).flatMap(
      (list) => list.items,
    ),
  );
  const renewalInfo = config.renewalInfo
    ? caRenewalInfo({
        directoryUrl: config.url,
        ...(config.caBundle !== undefined && { caPem: config.caBundle }),
        timeoutMs: 5000,
      })
    : undefined;
  const rows = await Promise.all(
    requests.map(async (request) => {
      const secret = await core
        .readNamespacedSecret({ namespace: request.namespace, name: request.secretName })
        .catch(() => undefined);
      const inspect = (caRenewalTime?: number) =>
        inspectCertificate({
          secret: secret === undefined ? undefined : tlsSecretOf(secret),
          ingressName: request.ingress.name,
          hosts: request.hosts,
          settings: issuanceSettingsOf(config),
          now,
          minimumValidityMs: config.minimumValidityMs,
          ...(caRenewalTime !== undefined && { caRenewalTime: () => caRenewalTime }),
        });
      let verdict = inspect();
      // As the operator does: a valid certificate's renewal time is its point of the CA's window, if any.
      const certificateId = verdict.certificateId;
      if (renewalInfo !== undefined && verdict.valid && certificateId !== undefined) {
        const answer = await renewalInfo.ask(certificateId).catch(() => undefined);
        if (answer !== undefined) verdict = inspect(renewalTimeInWindow(answer.window, certificateId, now));
      }
      const job = jobs.get(issuanceJobName(request, verdict.fingerprint));
      const lastEvent = events.get(`${request.namespace}/${request.ingress.name}`);
      return statusOf(
        {
          request,
          verdict,
          job: jobStanding(job === undefined ? undefined : readIssuanceJob(job), now, {
            initialIntervalMs: config.retryInitialIntervalMs,
            maxIntervalMs: config.retryMaxIntervalMs,
          }),
          ...(lastEvent !== undefined && { lastEvent }),
        },
        now,
      );
    }),
  );
  return rows.sort((a, b) => a.certificate.localeCompare(b.certificate));
}
