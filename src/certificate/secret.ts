/**
 * A certificate Secret as kube-lego reads it, what kube-lego records on the Secrets it writes, and who
 * manages a Secret. Pure: the policy chain (policy.ts) and the issuance Job's writer
 * (src/kube/tls-secret-writer.ts) decide with the same function whether a Secret is kube-lego's to write.
 */
import type { V1Secret } from '@kubernetes/client-node';

/** Annotations kube-lego sets on the certificate Secrets it writes: what the certificate was ordered with. */
export const SECRET_ANNOTATIONS = {
  /** The ACME directory URL (`LEGO_URL`) the certificate was ordered from. */
  issuer: 'kube-lego.io/issuer-url',
  /** The certificate's notAfter, ISO 8601, for people. */
  notAfter: 'kube-lego.io/not-after',
  /** The hosts of the `spec.tls` entry, comma-separated, for people. */
  hosts: 'kube-lego.io/hosts',
  /** The ACME profile (`LEGO_ACME_PROFILE`) it was ordered with; absent when the CA's default was used. */
  profile: 'kube-lego.io/acme-profile',
} as const;

/** The well-known label naming the tool that manages an object. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

/** The value of {@link MANAGED_BY_LABEL} on the Secrets kube-lego writes. */
export const MANAGED_BY_KUBE_LEGO = 'kube-lego';

/**
 * cert-manager's domain: the prefix of the annotations it puts on the Secrets it manages
 * (`cert-manager.io/certificate-name`, ...); its subdomains (`acme.cert-manager.io/`) are cert-manager's too.
 */
const CERT_MANAGER_DOMAIN = 'cert-manager.io';

/** Whether an annotation key's prefix (before the `/`) is cert-manager's domain or one of its subdomains. */
function isCertManagerKey(key: string): boolean {
  const slash = key.indexOf('/');
  const prefix = slash < 0 ? '' : key.slice(0, slash);
  return prefix === CERT_MANAGER_DOMAIN || prefix.endsWith(`.${CERT_MANAGER_DOMAIN}`);
}

/** API groups of the Ingress kind: an Ingress owner of another group is some other controller's object. */
const INGRESS_GROUPS = new Set(['networking.k8s.io', 'extensions']);

/** The data of a `kubernetes.io/tls` Secret, decoded. */
export interface TlsSecretData {
  'tls.crt'?: string;
  'tls.key'?: string;
}

/** An entry of a Secret's `metadata.ownerReferences`, as far as kube-lego reads it. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
}

/** The metadata that says who manages a Secret and what it was issued with; a V1ObjectMeta fits it. */
export interface SecretMetadata {
  annotations?: Readonly<Record<string, string>>;
  labels?: Readonly<Record<string, string>>;
  ownerReferences?: readonly OwnerReference[];
}

/** A certificate Secret as the policy reads it: its decoded data and its metadata. */
export interface TlsSecret {
  data: TlsSecretData;
  annotations: Readonly<Record<string, string>>;
  labels: Readonly<Record<string, string>>;
  ownerReferences: readonly OwnerReference[];
}

/** What the policy needs of a Secret read from the API server (data base64-decoded). */
export function tlsSecretOf(secret: V1Secret): TlsSecret {
  const decode = (value: string | undefined) =>
    value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
  const data: TlsSecretData = {};
  const crt = decode(secret.data?.['tls.crt']);
  const key = decode(secret.data?.['tls.key']);
  if (crt !== undefined) data['tls.crt'] = crt;
  if (key !== undefined) data['tls.key'] = key;
  return {
    data,
    annotations: { ...secret.metadata?.annotations },
    labels: { ...secret.metadata?.labels },
    ownerReferences: (secret.metadata?.ownerReferences ?? []).map(({ apiVersion, kind, name }) => ({
      apiVersion,
      kind,
      name,
    })),
  };
}

/** The API group of an `apiVersion` (`networking.k8s.io/v1` → `networking.k8s.io`, `v1` → the core group ''). */
function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/**
 * Who other than kube-lego manages a Secret requested by the Ingress `ingressName` (of the Secret's
 * namespace), in words for people, or undefined when the Secret is kube-lego's to write. Another manager is:
 * - an owner reference to anything but an Ingress of that name. kube-lego's own Secrets are owned by the
 *   requesting Ingress; an owner of that name with another uid is a deleted predecessor of the same Ingress,
 *   whose reference the writer replaces;
 * - the label `app.kubernetes.io/managed-by` with a value other than `kube-lego` (Helm, Argo CD, ...);
 * - an annotation of cert-manager (`cert-manager.io/...`, or a subdomain's such as `acme.cert-manager.io/...`).
 * A Secret with none of these (written by hand, or by jetstack's kube-lego) is kube-lego's: the Ingress's
 * annotation asked kube-lego to keep its certificate.
 */
export function foreignManager(
  metadata: SecretMetadata | undefined,
  ingressName: string,
): string | undefined {
  for (const owner of metadata?.ownerReferences ?? []) {
    const ours = owner.kind === 'Ingress' && INGRESS_GROUPS.has(groupOf(owner.apiVersion));
    if (!ours || owner.name !== ingressName) return `owned by ${owner.kind} ${owner.name}`;
  }
  const managedBy = metadata?.labels?.[MANAGED_BY_LABEL];
  if (managedBy !== undefined && managedBy !== MANAGED_BY_KUBE_LEGO) {
    return `managed by ${managedBy} (label ${MANAGED_BY_LABEL}=${managedBy})`;
  }
  const certManager = Object.keys(metadata?.annotations ?? {}).find(isCertManagerKey);
  if (certManager !== undefined) return `managed by cert-manager (annotation ${certManager})`;
  return undefined;
}
