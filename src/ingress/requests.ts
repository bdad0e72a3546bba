/**
 * From annotated Ingresses to certificate requests, one per `spec.tls` entry. Pure: the Ingresses in,
 * the requests and the problems (each naming the Ingress and the fix) out.
 *
 * Decisions (README, "Bad input"):
 * - an entry without `secretName` or without `hosts` is skipped; hosts are not guessed from the rules,
 *   since a TLS entry without hosts is how controllers mark a default certificate;
 * - an entry with a wildcard, an IP address, a name that is not a DNS name, or more than 100 names is
 *   skipped whole: a certificate without some of the entry's hosts would not serve the entry;
 * - when two Ingresses of a namespace name the same Secret with different hosts, the older Ingress
 *   keeps it and the newer one's entry is skipped; within one Ingress, the first entry naming a Secret
 *   keeps it (a later entry with the same hosts is a harmless repeat and is dropped silently).
 */
import type { V1Ingress } from '@kubernetes/client-node';
import { normalizeHost } from '../certificate/policy.ts';

/** The ingress class annotation kube-lego read; `spec.ingressClassName` is its successor. */
export const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
/** The provider annotation kube-lego read (`nginx` or `gce`). */
export const INGRESS_PROVIDER_ANNOTATION = 'kubernetes.io/ingress.provider';
/**
 * Asks for edit-in-place (src/ingress/challenge-paths.ts): "true" or "false"; absent, it is on for the
 * provider `gce`, whose Ingresses each get their own load balancer, and off otherwise.
 */
export const EDIT_IN_PLACE_ANNOTATION = 'kube-lego.io/edit-in-place';
/** Let's Encrypt's limit of names in one certificate. */
export const MAX_NAMES = 100;

/** One certificate to keep: a `spec.tls` entry of an annotated Ingress. */
export interface CertificateRequest {
  /** `namespace/secretName`: what deduplication and Job names key on. */
  key: string;
  namespace: string;
  secretName: string;
  /** Normalized (lower case, no trailing dot), unique, sorted. */
  hosts: string[];
  ingress: { name: string; uid: string };
  ingressClass: string;
  /** Where the class came from, so the solver Ingress names it the same way. */
  ingressClassFrom: 'annotation' | 'field' | 'default';
  provider: string;
  /**
   * Present when validation is routed through the Ingress itself (its challenge path added for the Job's
   * life), not through a solver Ingress of its own.
   */
  editInPlace?: true;
}

/** Something wrong with an Ingress, for a warning log line and a Kubernetes Event on it. */
export interface IngressProblem {
  namespace: string;
  ingress: string;
  uid: string;
  reason: string;
  message: string;
}

/** The settings the mapping needs. */
export interface RequestSettings {
  annotation: string;
  supportedClasses: string[];
  defaultClass: string;
  supportedProviders: string[];
  defaultProvider: string;
}

/** Whether the annotation asks for certificates: "true" yes, "false" or absent no, else a problem. */
export function annotationState(ingress: V1Ingress, annotation: string): 'on' | 'off' | 'malformed' {
  const value = ingress.metadata?.annotations?.[annotation];
  if (value === undefined) return 'off';
  const normalized = value.trim().toLowerCase();
  if (normalized === 'true') return 'on';
  if (normalized === 'false' || normalized === '') return 'off';
  return 'malformed';
}

const dnsName = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;
const ipv4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Why a host cannot be validated with HTTP-01, or undefined when it can. */
export function hostProblem(host: string): string | undefined {
  if (host.includes('*'))
    return `"${host}" is a wildcard, which HTTP-01 cannot validate: list the hosts instead`;
  if (ipv4.test(host) || host.includes(':')) return `"${host}" is an IP address: use a DNS name`;
  if (!dnsName.test(host)) return `"${host}" is not a valid DNS name`;
  return undefined;
}

function ingressClass(
  ingress: V1Ingress,
  settings: RequestSettings,
): { name: string; from: CertificateRequest['ingressClassFrom'] } {
  // An empty annotation (say, a chart rendering an unset value) names no class: the field or default rules.
  const annotated = ingress.metadata?.annotations?.[INGRESS_CLASS_ANNOTATION]?.trim();
  if (annotated !== undefined && annotated !== '') return { name: annotated, from: 'annotation' };
  const field = ingress.spec?.ingressClassName;
  if (field !== undefined) return { name: field, from: 'field' };
  return { name: settings.defaultClass, from: 'default' };
}

/** Requests and problems found in Ingresses. */
export interface Mapped {
  requests: CertificateRequest[];
  problems: IngressProblem[];
}

/** The requests and problems of one Ingress, ignoring conflicts with other Ingresses. */
export function requestsOfIngress(ingress: V1Ingress, settings: RequestSettings): Mapped {
  const namespace = ingress.metadata?.namespace ?? 'default';
  const name = ingress.metadata?.name ?? '';
  const uid = ingress.metadata?.uid ?? '';
  const problem = (reason: string, message: string): IngressProblem => ({
    namespace,
    ingress: name,
    uid,
    reason,
    message,
  });
  /** The Ingress is skipped whole, for one reason. */
  const ignored = (reason: string, message: string): Mapped => ({
    requests: [],
    problems: [problem(reason, message)],
  });
  const state = annotationState(ingress, settings.annotation);
  if (state === 'off') return { requests: [], problems: [] };
  if (state === 'malformed') {
    const value = ingress.metadata?.annotations?.[settings.annotation];
    return ignored(
      'BadAnnotation',
      `annotation ${settings.annotation}=${JSON.stringify(value)}: set it to "true" or "false"`,
    );
  }
  const { name: ingressClassName, from: ingressClassFrom } = ingressClass(ingress, settings);
  if (!settings.supportedClasses.includes(ingressClassName)) {
    return ignored(
      'UnsupportedIngressClass',
      `ingress class "${ingressClassName}" is not supported: use one of ${settings.supportedClasses.join(', ')} or add it to LEGO_SUPPORTED_INGRESS_CLASS`,
    );
  }
  const provider = ingress.metadata?.annotations?.[INGRESS_PROVIDER_ANNOTATION] ?? settings.defaultProvider;
  if (!settings.supportedProviders.includes(provider)) {
    return ignored(
      'UnsupportedIngressProvider',
      `ingress provider "${provider}" is not supported: use one of ${settings.supportedProviders.join(', ')}`,
    );
  }
  const editInPlaceValue = ingress.metadata?.annotations?.[EDIT_IN_PLACE_ANNOTATION]?.trim().toLowerCase();
  if (editInPlaceValue !== undefined && editInPlaceValue !== 'true' && editInPlaceValue !== 'false') {
    return ignored(
      'BadAnnotation',
      `annotation ${EDIT_IN_PLACE_ANNOTATION}=${JSON.stringify(ingress.metadata?.annotations?.[EDIT_IN_PLACE_ANNOTATION])}: set it to "true" or "false"`,
    );
  }
  const editInPlace = (editInPlaceValue ?? (provider === 'gce' ? 'true' : 'false')) === 'true';
  const requests: CertificateRequest[] = [];
  const problems: IngressProblem[] = [];
  (ingress.spec?.tls ?? []).forEach((entry, index) => {
    const where = `spec.tls[${index}]`;
    if (!entry.secretName) {
      problems.push(
        problem(
          'MissingSecretName',
          `${where} has no secretName: name the Secret to keep the certificate in`,
        ),
      );
      return;
    }
    const hosts = [...new Set((entry.hosts ?? []).map(normalizeHost))].sort();
    if (hosts.length === 0) {
      problems.push(
        problem(
          'MissingHosts',
          `${where} (secret ${entry.secretName}) has no hosts: list the hosts to certify`,
        ),
      );
      return;
    }
    if (hosts.length > MAX_NAMES) {
      problems.push(
        problem(
          'TooManyHosts',
          `${where} (secret ${entry.secretName}) has ${hosts.length} hosts, more than the CA's ${MAX_NAMES}: split it into several tls entries`,
        ),
      );
      return;
    }
    const bad = hosts.map(hostProblem).filter((message) => message !== undefined);
    if (bad.length > 0) {
      problems.push(problem('BadHost', `${where} (secret ${entry.secretName}): ${bad.join('; ')}`));
      return;
    }
    const earlier = requests.find((request) => request.secretName === entry.secretName);
    if (earlier !== undefined) {
      if (earlier.hosts.join(',') !== hosts.join(',')) {
        problems.push(
          problem(
            'SecretConflict',
            `${where} names Secret ${entry.secretName}, which an earlier tls entry uses for hosts ` +
              `${earlier.hosts.join(', ')}: use another secretName or merge the entries`,
          ),
        );
      }
      return;
    }
    requests.push({
      key: `${namespace}/${entry.secretName}`,
      namespace,
      secretName: entry.secretName,
      hosts,
      ingress: { name, uid },
      ingressClass: ingressClassName,
      ingressClassFrom,
      provider,
      ...(editInPlace && { editInPlace: true as const }),
    });
  });
  return { requests, problems };
}
