/**
 * The X.509 material of the local control plane, made with the openssl CLI (ECDSA P-256, valid for a week)
 * like test/support/tls.ts, plus what tls.ts does not make: client certificates whose subject carries
 * organizations (Kubernetes reads O as the user's groups, so `O=system:masters` is a cluster admin), and
 * the service-account token signing key pair.
 *
 * Two CAs, as kubeadm keeps them: the cluster CA signs serving certificates (kube-apiserver,
 * kube-controller-manager) and is what clients and Pods (the `kube-root-ca.crt` ConfigMap) trust; the
 * client CA signs the certificates clients authenticate with (kube-apiserver's `--client-ca-file`).
 */
import { execFile } from 'node:child_process';
import { generateKeyPair } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createCertificateAuthority, issueServerCertificate, type KeyPair } from './tls.ts';

const run = promisify(execFile);
const generateKeyPairAsync = promisify(generateKeyPair);

export type { KeyPair } from './tls.ts';

/** Subject of a client certificate: Kubernetes authenticates it as user CN in groups O. */
export interface ClientSubject {
  readonly commonName: string;
  readonly organizations?: readonly string[];
}

/** The service-account token signing key pair (RSA 2048), PEM: PKIX public key and PKCS #8 private key. */
export interface ServiceAccountKeys {
  readonly publicKeyPem: string;
  readonly privateKeyPem: string;
}

/** Everything the control plane's components and its admin need to authenticate one another. */
export interface ControlPlanePki {
  /** Signs the serving certificates; clients (and Pods, through `kube-root-ca.crt`) trust it. */
  readonly clusterCa: KeyPair;
  /** Signs client certificates: kube-apiserver's `--client-ca-file`. */
  readonly clientCa: KeyPair;
  /** kube-apiserver's serving certificate: 127.0.0.1, localhost and the in-cluster names. */
  readonly apiServer: KeyPair;
  /** kube-controller-manager's serving certificate (127.0.0.1, localhost), so its health check verifies it. */
  readonly controllerManagerServing: KeyPair;
  /** The admin's client certificate: CN=kube-lego-admin, O=system:masters. */
  readonly admin: KeyPair;
  /** kube-controller-manager's client certificate: CN=system:kube-controller-manager. */
  readonly controllerManager: KeyPair;
  /** Signs (private) and verifies (public) service-account tokens. */
  readonly serviceAccount: ServiceAccountKeys;
}

/** Escapes a value for an openssl config file's distinguished name section. */
function configValue(value: string): string {
  if (/[\n\r]/.test(value)) throw new Error(`line break in a certificate subject: ${JSON.stringify(value)}`);
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '\\$');
}

/** Issues a TLS client certificate (extendedKeyUsage clientAuth) for `subject`, signed by `ca`. */
export async function issueClientCertificate(ca: KeyPair, subject: ClientSubject): Promise<KeyPair> {
  const dir = await mkdtemp(join(tmpdir(), 'kube-lego-pki-'));
  try {
    const organizations = (subject.organizations ?? []).map((o, i) => `${i}.O = "${configValue(o)}"`);
    const config = [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      'utf8 = yes',
      '[dn]',
      ...organizations,
      `CN = "${configValue(subject.commonName)}"`,
      '[ext]',
      'basicConstraints = critical,CA:FALSE',
      'keyUsage = critical,digitalSignature',
      'extendedKeyUsage = clientAuth',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
    ];
    await writeFile(join(dir, 'req.cnf'), `${config.join('\n')}\n`);
    await writeFile(join(dir, 'ca.pem'), ca.certPem);
    await writeFile(join(dir, 'ca.key'), ca.keyPem, { mode: 0o600 });
    await run(
      'openssl',
      [
        ...['req', '-x509', '-config', 'req.cnf', '-extensions', 'ext', '-days', '7', '-noenc'],
        ...['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
        ...['-keyout', 'key.pem', '-out', 'cert.pem', '-CA', 'ca.pem', '-CAkey', 'ca.key'],
      ],
      { cwd: dir },
    );
    return {
      certPem: await readFile(join(dir, 'cert.pem'), 'utf8'),
      keyPem: await readFile(join(dir, 'key.pem'), 'utf8'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Makes the service-account signing key pair: RSA (RS256), which every JWT verifier accepts. */
async function createServiceAccountKeys(): Promise<ServiceAccountKeys> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKeyPem: publicKey, privateKeyPem: privateKey };
}

/** DNS names in-cluster clients use for kube-apiserver (its `kubernetes` Service in `default`). */
const IN_CLUSTER_NAMES = [
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
];

/**
 * Makes the whole PKI of a control plane whose servers listen on `address` (in the serving certificates'
 * SANs, with 127.0.0.1 and localhost). `serviceIp` (the first address of the service range, the
 * `kubernetes` Service's ClusterIP) goes into kube-apiserver's SANs for completeness; nothing dials it.
 */
export async function createControlPlanePki(address: string, serviceIp: string): Promise<ControlPlanePki> {
  const [clusterCa, clientCa, serviceAccount] = await Promise.all([
    createCertificateAuthority('kube-lego test cluster CA'),
    createCertificateAuthority('kube-lego test client CA'),
    createServiceAccountKeys(),
  ]);
  const [apiServer, controllerManagerServing, admin, controllerManager] = await Promise.all([
    issueServerCertificate(clusterCa, {
      dnsNames: ['localhost', ...IN_CLUSTER_NAMES],
      ipAddresses: [address, '127.0.0.1', serviceIp],
    }),
    issueServerCertificate(clusterCa, { dnsNames: ['localhost'], ipAddresses: [address, '127.0.0.1'] }),
    issueClientCertificate(clientCa, { commonName: 'kube-lego-admin', organizations: ['system:masters'] }),
    issueClientCertificate(clientCa, { commonName: 'system:kube-controller-manager' }),
  ]);
  return {
    clusterCa,
    clientCa,
    apiServer,
    controllerManagerServing,
    admin,
    controllerManager,
    serviceAccount,
  };
}
