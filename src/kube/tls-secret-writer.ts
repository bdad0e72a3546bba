/**
 * Writes an issued certificate to its `kubernetes.io/tls` Secret, owned by the Ingress it serves.
 *
 * - The Ingress is read first and its uid compared with the one the Job was started for: when the
 *   Ingress was deleted or replaced meanwhile, nothing is written (a Secret owned by a uid that no longer
 *   exists would be garbage-collected at once, or worse, serve a new Ingress that did not ask for it).
 * - An existing Secret is updated, not replaced: labels, annotations and owner references that users or
 *   other tools put on it are kept; only `tls.crt`, `tls.key` and kube-lego's own annotations change.
 * - Updates are guarded by resourceVersion and retried on conflict, so a concurrent edit is not lost.
 */
import {
  CoreV1Api,
  NetworkingV1Api,
  type KubeConfig,
  type V1OwnerReference,
  type V1Secret,
} from '@kubernetes/client-node';
import { statusOf } from './kubernetes-cluster.ts';

/** Annotations kube-lego sets on certificate Secrets. */
export const SECRET_ANNOTATIONS = {
  issuer: 'kube-lego.io/issuer-url',
  notAfter: 'kube-lego.io/not-after',
  hosts: 'kube-lego.io/hosts',
} as const;

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
  issuerUrl: string;
  notAfter: Date;
}

/** Why nothing was written, or that it was. */
export type WriteResult = { written: true; created: boolean } | { written: false; reason: string };

const MAX_CONFLICT_RETRIES = 5;

/** The Secret as it should be, merged over what exists. Pure. */
export function mergeTlsSecret(existing: V1Secret | undefined, certificate: IssuedCertificate): V1Secret {
  const owner: V1OwnerReference = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    name: certificate.ingressName,
    uid: certificate.ingressUid,
    blockOwnerDeletion: false,
  };
  const owners = (existing?.metadata?.ownerReferences ?? []).filter(
    (reference) => !(reference.kind === 'Ingress' && reference.name === certificate.ingressName),
  );
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: {
      ...existing?.metadata,
      name: certificate.secretName,
      namespace: certificate.namespace,
      labels: { ...existing?.metadata?.labels, 'app.kubernetes.io/managed-by': 'kube-lego' },
      annotations: {
        ...existing?.metadata?.annotations,
        [SECRET_ANNOTATIONS.issuer]: certificate.issuerUrl,
        [SECRET_ANNOTATIONS.notAfter]: certificate.notAfter.toISOString(),
        [SECRET_ANNOTATIONS.hosts]: certificate.hosts.join(','),
      },
      ownerReferences: [...owners, owner],
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
  readonly #core: CoreV1Api;
  readonly #networking: NetworkingV1Api;

  constructor(config: KubeConfig) {
    this.#core = config.makeApiClient(CoreV1Api);
    this.#networking = config.makeApiClient(NetworkingV1Api);
  }

  /** Writes the certificate, unless its Ingress is gone or was replaced. */
  async write(certificate: IssuedCertificate): Promise<WriteResult> {
    const { namespace, secretName, ingressName, ingressUid } = certificate;
    try {
      const ingress = await this.#networking.readNamespacedIngress({ namespace, name: ingressName });
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
        existing = await this.#core.readNamespacedSecret({ namespace, name: secretName });
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
        if (existing === undefined) await this.#core.createNamespacedSecret({ namespace, body });
        else await this.#core.replaceNamespacedSecret({ namespace, name: secretName, body });
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
