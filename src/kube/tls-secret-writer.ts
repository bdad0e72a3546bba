/**
 * Writes an issued certificate to its `kubernetes.io/tls` Secret, owned by the Ingress it serves.
 *
 * - The Ingress is read first and its uid compared with the one the Job was started for: when the
 *   Ingress was deleted or replaced meanwhile, nothing is written (a Secret owned by a uid that no longer
 *   exists would be garbage-collected at once, or worse, serve a new Ingress that did not ask for it).
 * - A Secret another controller manages (owned by another object, labelled as managed by another tool, or
 *   annotated by cert-manager: src/certificate/secret.ts) is never written over. The operator does not
 *   launch a Job for one; this refusal is the second line of defence, for one that became foreign since.
 * - An existing Secret is updated, not replaced: labels and annotations that users or other tools put on it
 *   are kept; only `tls.crt`, `tls.key`, kube-lego's own annotations and label, and the owner change.
 * - Updates are guarded by resourceVersion and retried on conflict, so a concurrent edit is not lost.
 */
import type { V1Ingress, V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import {
  MANAGED_BY_KUBE_LEGO,
  MANAGED_BY_LABEL,
  SECRET_ANNOTATIONS,
  foreignManager,
} from '../certificate/secret.ts';
import { statusOf } from './api-error.ts';
import { objectPath, type KubeRest } from './rest-client.ts';

/** What to write. */
export interface IssuedCertificate {
  namespace: string;
  secretName: string;
  ingressName: string;
  ingressUid: string;
  hosts: string[];
  /** Leaf then chain, PEM. */
  chainPem: string;
  keyPem: string;
  /** The ACME directory URL (`LEGO_URL`) the certificate was ordered from. */
  issuerUrl: string;
  /** The ACME profile it was ordered with (`LEGO_ACME_PROFILE`); undefined for the CA's default. */
  acmeProfile: string | undefined;
  notAfter: Date;
}

/** Why nothing was written, or that it was. */
export type WriteResult = { written: true; created: boolean } | { written: false; reason: string };

const MAX_CONFLICT_RETRIES = 5;

/** A Secret that another controller manages, which kube-lego refuses to write over. */
export class ForeignSecretError extends Error {
  constructor(namespace: string, secretName: string, ingressName: string, manager: string) {
    super(
      `Secret ${namespace}/${secretName} is ${manager}: kube-lego does not write over it; ` +
        `remove the tls-acme annotation of Ingress ${namespace}/${ingressName} or name another secretName`,
    );
    this.name = 'ForeignSecretError';
  }
}

/**
 * The Secret as it should be, merged over what exists. Pure. Throws {@link ForeignSecretError} when the
 * existing Secret is another controller's. Its only owner is the Ingress: any other owner would have made
 * it foreign, and an owner of the Ingress's name with another uid was a deleted predecessor of that Ingress.
 */
export function mergeTlsSecret(existing: V1Secret | undefined, certificate: IssuedCertificate): V1Secret {
  const { namespace, secretName, ingressName } = certificate;
  const manager = foreignManager(existing?.metadata, ingressName);
  if (manager !== undefined) throw new ForeignSecretError(namespace, secretName, ingressName, manager);
  const owner: V1OwnerReference = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    name: ingressName,
    uid: certificate.ingressUid,
    blockOwnerDeletion: false,
  };
  const annotations: Record<string, string> = {
    ...existing?.metadata?.annotations,
    [SECRET_ANNOTATIONS.issuer]: certificate.issuerUrl,
    [SECRET_ANNOTATIONS.notAfter]: certificate.notAfter.toISOString(),
    [SECRET_ANNOTATIONS.hosts]: certificate.hosts.join(','),
  };
  if (certificate.acmeProfile === undefined) delete annotations[SECRET_ANNOTATIONS.profile];
  else annotations[SECRET_ANNOTATIONS.profile] = certificate.acmeProfile;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: {
      ...existing?.metadata,
      name: secretName,
      namespace,
      labels: { ...existing?.metadata?.labels, [MANAGED_BY_LABEL]: MANAGED_BY_KUBE_LEGO },
      annotations,
      ownerReferences: [owner],
    },
    data: {
      ...existing?.data,
      'tls.crt': Buffer.from(certificate.chainPem).toString('base64'),
      'tls.key': Buffer.from(certificate.keyPem).toString('base64'),
    },
  };
}

/** Writes certificates to Secrets through the API server. */
export class TlsSecretWriter {
  readonly #api: KubeRest;

  constructor(api: KubeRest) {
    this.#api = api;
  }

  /**
   * Writes the certificate, unless its Ingress is gone or was replaced. Throws when the Secret exists with
   * another type, or is another controller's ({@link ForeignSecretError}).
   */
  async write(certificate: IssuedCertificate): Promise<WriteResult> {
    const { namespace, secretName, ingressName, ingressUid } = certificate;
    try {
      const ingress = await this.#api.get<V1Ingress>(
        objectPath('networking.k8s.io', 'ingresses', namespace, ingressName),
      );
      if (ingress.metadata?.uid !== ingressUid) {
        return { written: false, reason: `Ingress ${namespace}/${ingressName} was replaced (uid changed)` };
      }
    } catch (error) {
      if (statusOf(error) === 404)
        return { written: false, reason: `Ingress ${namespace}/${ingressName} was deleted` };
      throw error;
    }
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt += 1) {
      let existing: V1Secret | undefined;
      try {
        existing = await this.#api.get<V1Secret>(objectPath('', 'secrets', namespace, secretName));
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
      }
      if (existing !== undefined && existing.type !== 'kubernetes.io/tls') {
        throw new Error(
          `Secret ${namespace}/${secretName} exists with type ${existing.type ?? 'Opaque'}, not kubernetes.io/tls: delete it or choose another secretName`,
        );
      }
      const body = mergeTlsSecret(existing, certificate);
      try {
        if (existing === undefined) await this.#api.post(objectPath('', 'secrets', namespace), body);
        else await this.#api.put(objectPath('', 'secrets', namespace, secretName), body);
        return { written: true, created: existing === undefined };
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
      }
    }
    throw new Error(
      `Secret ${namespace}/${secretName} kept changing: gave up after ${MAX_CONFLICT_RETRIES} conflicts`,
    );
  }
}
