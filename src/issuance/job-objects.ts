/**
 * The Kubernetes objects of one issuance: the Job, and the solver Service and solver Ingress that route
 * `/.well-known/acme-challenge/` of the entry's hosts to the Job's pod. Pure: request and settings in,
 * manifests out.
 *
 * Edited in place (`kube-lego.io/edit-in-place`), there is no solver Ingress: the challenge path goes into
 * the user's Ingress (src/ingress/challenge-paths.ts), which can route only to Services of its own
 * namespace, so the solver Service is made there, without a selector (it cannot select a pod of another
 * namespace) and owned by that Ingress; the Job publishes its pod's address as the Service's EndpointSlice.
 *
 * The Job name is derived from the certificate key, its hosts, the Ingress's uid and the certificate it
 * replaces, so a relaunch for the same need (after an operator restart, or by a second token) names the
 * same Job and the API server's 409 makes it a no-op; a new need (hosts changed, a certificate written
 * since, an Ingress deleted and created again under the same name) names a new Job.
 */
import { createHash } from 'node:crypto';
import type { V1Ingress, V1Job, V1Service } from '@kubernetes/client-node';
import type { Config } from '../config.ts';
import { challengePath, type ChallengeRoute } from '../ingress/challenge-paths.ts';
import { INGRESS_CLASS_ANNOTATION, type CertificateRequest } from '../ingress/requests.ts';
import type { IngressIdentity } from '../kube/ingress-presence.ts';
import { orderToEnv } from './job-contract.ts';

/** Labels on everything kube-lego creates. */
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'kube-lego' } as const;
/** The label that ties the solver Service to the Job's pod. */
export const JOB_LABEL = 'kube-lego.io/issuance';
/** The path prefix ACME HTTP-01 validation requests use. */
export const CHALLENGE_PATH = '/.well-known/acme-challenge/';
/** The ServiceAccount issuance Jobs run as (manifests/install.yml creates it). */
export const ISSUER_SERVICE_ACCOUNT = 'kube-lego-issuer';

/** On a Job whose challenge path was added to the user's Ingress: that Ingress, `namespace/name`. */
export const EDITED_INGRESS_ANNOTATION = 'kube-lego.io/edited-ingress';

/** Where the Job's two containers share the challenge responses (an in-memory emptyDir). */
export const CHALLENGE_DIR = '/var/run/kube-lego/challenges';

/** Where Kubernetes mounts a ServiceAccount's token; here into the `issue` container only. */
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The container settings both containers of the Job share: non-root, read-only, no privileges. */
const LOCKED_DOWN = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

/**
 * Deterministic Job name, `kube-lego-<secret name, cut to 30>-<hash>`, at most 51 characters (a label value,
 * as the solver Service selects the Job's pod by it, may have 63; the Job's pods add 6): the hash
 * (40 bits of SHA-256) is of the certificate key, its hosts, the Ingress's uid and the certificate it
 * replaces. With the uid, an Ingress deleted and created again under the same name never adopts the Job
 * of its predecessor, whose checks of the Ingress fail with `IngressGone`.
 */
export function issuanceJobName(
  request: CertificateRequest,
  replacedFingerprint: string | undefined,
): string {
  const digest = createHash('sha256')
    .update(
      [request.key, request.hosts.join(','), request.ingress.uid, replacedFingerprint ?? 'none'].join('\n'),
    )
    .digest('hex')
    .slice(0, 10);
  const readable = request.secretName
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 30)
    .replace(/-+$/, '');
  return `kube-lego-${readable}-${digest}`;
}

/** The manifests of one issuance. */
export interface IssuanceObjects {
  job: V1Job;
  /**
   * The Service that reaches the Job's pod: beside the Job, selecting its pod; or, edited in place, in the
   * Ingress's namespace, without a selector, owned by the Ingress.
   */
  service: V1Service;
  /** The solver Ingress, unless the user's Ingress is edited in place. */
  ingress?: V1Ingress;
  /** Edited in place: the user's Ingress and the route to add to it. */
  inPlace?: { ingress: IngressIdentity; route: ChallengeRoute };
}

/**
 * Builds the Job and its solver objects; the solver objects get their ownerReference once the Job exists.
 * `replaces` is the ARI identifier of the certificate the new one replaces (src/acme/certificate-id.ts).
 */
export function issuanceObjects(
  request: CertificateRequest,
  jobName: string,
  config: Config,
  replaces?: string,
): IssuanceObjects {
  const namespace = config.namespace;
  const labels = { ...MANAGED_BY, [JOB_LABEL]: jobName };
  const inPlace = request.editInPlace === true;
  const job: V1Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName,
      namespace,
      labels,
      annotations: {
        'kube-lego.io/certificate': request.key,
        'kube-lego.io/hosts': request.hosts.join(','),
        'kube-lego.io/ingress': `${request.namespace}/${request.ingress.name}`,
        ...(inPlace && { [EDITED_INGRESS_ANNOTATION]: `${request.namespace}/${request.ingress.name}` }),
      },
    },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: Math.ceil(config.backoffMaxElapsedMs / 1000) + 300,
      ttlSecondsAfterFinished: config.jobTtlSeconds,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          serviceAccountName: ISSUER_SERVICE_ACCOUNT,
          // The token is mounted into the `issue` container alone (volume kube-api-access below), never into
          // `respond`, which answers the internet (docs/threat-model.md).
          automountServiceAccountToken: false,
          volumes: [
            { name: 'challenges', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
            {
              name: 'kube-api-access',
              projected: {
                defaultMode: 0o444,
                sources: [
                  { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
                  { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
                  {
                    downwardAPI: {
                      items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }],
                    },
                  },
                ],
              },
            },
          ],
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              // Talks to the CA and the API server; reachable from nowhere (it listens on no port).
              name: 'issue',
              image: config.jobImage,
              command: ['node', 'dist/issue.mjs'],
              terminationMessagePolicy: 'FallbackToLogsOnError',
              securityContext: LOCKED_DOWN,
              volumeMounts: [
                { name: 'challenges', mountPath: CHALLENGE_DIR },
                { name: 'kube-api-access', mountPath: SERVICE_ACCOUNT_DIR, readOnly: true },
              ],
              // About 115 MiB resident at its peak, measured (bench/burst.ts): Node 24 and the bundle.
              resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } },
              env: [
                { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                { name: 'LEGO_URL', value: config.url },
                ...(config.email === undefined ? [] : [{ name: 'LEGO_EMAIL', value: config.email }]),
                { name: 'LEGO_NAMESPACE', value: namespace },
                { name: 'LEGO_SECRET_NAME', value: config.secretName },
                { name: 'LEGO_RSA_KEYSIZE', value: String(config.rsaKeySize) },
                { name: 'LEGO_LOG_LEVEL', value: config.logLevel },
                { name: 'LEGO_LOG_TYPE', value: config.logType },
                {
                  name: 'LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME',
                  value: `${config.backoffMaxElapsedMs}ms`,
                },
                {
                  name: 'LEGO_EXPONENTIAL_BACKOFF_INITIAL_INTERVAL',
                  value: `${config.backoffInitialIntervalMs}ms`,
                },
                { name: 'LEGO_EXPONENTIAL_BACKOFF_MULTIPLIER', value: String(config.backoffMultiplier) },
                { name: 'LEGO_HTTP01_PORT', value: String(config.http01Port) },
                { name: 'LEGO_CHALLENGE_DIR', value: CHALLENGE_DIR },
                { name: 'LEGO_KEY_TYPE', value: config.keyType },
                { name: 'LEGO_SELF_CHECK', value: String(config.selfCheck) },
                { name: 'LEGO_SELF_CHECK_PORT', value: String(config.selfCheckPort) },
                ...(config.selfCheckDns === undefined
                  ? []
                  : [{ name: 'LEGO_SELF_CHECK_DNS', value: config.selfCheckDns.join(',') }]),
                ...(config.acmeProfile === undefined
                  ? []
                  : [{ name: 'LEGO_ACME_PROFILE', value: config.acmeProfile }]),
                ...(config.caBundle === undefined
                  ? []
                  : [{ name: 'LEGO_CA_BUNDLE', value: config.caBundle }]),
                ...orderToEnv({
                  namespace: request.namespace,
                  secretName: request.secretName,
                  hosts: request.hosts,
                  ingressName: request.ingress.name,
                  ingressUid: request.ingress.uid,
                  ...(replaces !== undefined && { replaces }),
                  ...(inPlace && { solverService: jobName }),
                }),
              ],
            },
            {
              // Answers the CA's HTTP-01 requests from the responses `issue` hands it: no token, no key,
              // no setting but its address, port and the shared directory (jobs/respond.ts).
              name: 'respond',
              image: config.jobImage,
              command: ['node', 'dist/respond.mjs'],
              ports: [{ name: 'http01', containerPort: config.http01Port, protocol: 'TCP' }],
              securityContext: LOCKED_DOWN,
              volumeMounts: [{ name: 'challenges', mountPath: CHALLENGE_DIR, readOnly: true }],
              resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '128Mi' } },
              env: [
                { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                { name: 'LEGO_HTTP01_PORT', value: String(config.http01Port) },
                { name: 'LEGO_CHALLENGE_DIR', value: CHALLENGE_DIR },
              ],
            },
          ],
        },
      },
    },
  };
  const port = { name: 'http01', port: 80, protocol: 'TCP' };
  const route = { hosts: request.hosts, service: jobName, port: port.name, path: CHALLENGE_PATH };
  const serviceType = request.provider === 'gce' ? 'NodePort' : 'ClusterIP';
  if (inPlace) {
    const service: V1Service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: jobName,
        namespace: request.namespace,
        labels,
        ownerReferences: [
          {
            apiVersion: 'networking.k8s.io/v1',
            kind: 'Ingress',
            name: request.ingress.name,
            uid: request.ingress.uid,
            blockOwnerDeletion: false,
          },
        ],
      },
      spec: { type: serviceType, ports: [{ ...port, targetPort: config.http01Port }] },
    };
    const ingress = { namespace: request.namespace, name: request.ingress.name, uid: request.ingress.uid };
    return { job, service, inPlace: { ingress, route } };
  }
  const service: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: jobName, namespace, labels },
    spec: {
      type: serviceType,
      selector: { [JOB_LABEL]: jobName },
      ports: [{ ...port, targetPort: 'http01' }],
    },
  };
  const byAnnotation = request.ingressClassFrom !== 'field';
  const ingress: V1Ingress = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: jobName,
      namespace,
      labels,
      ...(byAnnotation && { annotations: { [INGRESS_CLASS_ANNOTATION]: request.ingressClass } }),
    },
    spec: {
      ...(!byAnnotation && { ingressClassName: request.ingressClass }),
      rules: request.hosts.map((host) => ({ host, http: { paths: [challengePath(route)] } })),
    },
  };
  return { job, service, ingress };
}
