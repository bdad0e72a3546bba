/**
 * Runs the issuance Job program as it ships (`node dist/issue.mjs`, built first) as a process, as a pod would, against a real Pebble
 * and a real API server: the responder listens where Pebble's HTTP-01 validation connects (127.0.0.1 on
 * Pebble's httpPort), and hosts resolve through Pebble's challtestsrv DNS.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, NetworkingV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { statusOf } from '../../src/kube/api-error.ts';
import { objectPath, restClient } from '../../src/kube/rest-client.ts';
import { orderToEnv, type IssuanceOutcome } from '../../src/issuance/job-contract.ts';
import { eventually } from '../support/cluster-testing.ts';
import type { ControlPlane } from '../support/control-plane.ts';
import { INSTALL_MANIFEST_URL, identityObjects } from '../support/manifest-rbac.ts';
import { applyObjects, readManifest } from '../support/manifests.ts';
import type { Pebble } from '../support/pebble.ts';
import { startProcess } from '../support/processes.ts';
import { PROGRAM_DIR, buildPrograms } from '../../scripts/build.ts';

const NODE = process.execPath;

/** What one run of the Job program left behind. */
export interface JobRun {
  code: number | null;
  output: string;
  outcome: IssuanceOutcome | undefined;
}

/** Creates a namespace if it does not exist. */
export async function ensureNamespace(kube: KubeConfig, name: string): Promise<void> {
  const core = kube.makeApiClient(CoreV1Api);
  try {
    await core.createNamespace({ body: { metadata: { name } } });
  } catch (error) {
    if ((error as { code?: number }).code !== 409) throw error;
  }
}

/** Creates an Ingress with one tls entry and returns its uid. */
export async function createIngress(
  kube: KubeConfig,
  namespace: string,
  name: string,
  secretName: string,
  hosts: string[],
) {
  const networking = kube.makeApiClient(NetworkingV1Api);
  const created = await networking.createNamespacedIngress({
    namespace,
    body: {
      metadata: { name, annotations: { 'kubernetes.io/tls-acme': 'true' } },
      spec: {
        ingressClassName: 'nginx',
        tls: [{ secretName, hosts }],
        rules: hosts.map((host) => ({
          host,
          http: {
            paths: [
              { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } },
            ],
          },
        })),
      },
    },
  });
  return created.metadata!.uid!;
}

/** The issuance Jobs' ServiceAccount of manifests/install.yml. */
const ISSUER = { namespace: 'kube-lego', name: 'kube-lego-issuer' };

/** The service account directory of each control plane, made once. */
const serviceAccountDirs = new WeakMap<ControlPlane, Promise<string>>();

/**
 * A directory as a pod's projected ServiceAccount volume has it (`token`, `ca.crt`), for the issuer of
 * manifests/install.yml with that manifest's RBAC applied: the Job program runs with the rights a Job has.
 */
function issuerServiceAccountDir(controlPlane: ControlPlane): Promise<string> {
  let dir = serviceAccountDirs.get(controlPlane);
  if (dir === undefined) {
    dir = makeIssuerServiceAccountDir(controlPlane);
    serviceAccountDirs.set(controlPlane, dir);
  }
  return dir;
}

async function makeIssuerServiceAccountDir(controlPlane: ControlPlane): Promise<string> {
  const admin = controlPlane.kubeConfig();
  await applyObjects(admin, identityObjects(await readManifest(INSTALL_MANIFEST_URL)));
  const answer = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    ...ISSUER,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const token = answer.status?.token;
  if (!token) throw new Error('TokenRequest for the issuer returned no token');
  const dir = await mkdtemp(join(tmpdir(), 'kube-lego-issuer-sa-'));
  await writeFile(join(dir, 'token'), token);
  await writeFile(join(dir, 'ca.crt'), controlPlane.caPem);
  // The authorizer learns new roles and bindings through informers: wait until the issuer's are in force.
  const asIssuer = restClient({
    server: new URL(controlPlane.server),
    caPem: controlPlane.caPem,
    token: async () => token,
  });
  await eventually('the RBAC of install.yml in force for the issuer', async () => {
    try {
      await asIssuer.get(objectPath('', 'secrets', 'kube-lego', 'kube-lego-account'));
      return true;
    } catch (error) {
      return statusOf(error) === 404;
    }
  });
  return dir;
}

/** Runs `node dist/issue.mjs` (built from the sources first) for an order, as the issuer ServiceAccount, and waits for it to exit. */
export async function runIssuanceJob(
  controlPlane: ControlPlane,
  pebble: Pebble,
  order: { namespace: string; secretName: string; hosts: string[]; ingressName: string; ingressUid: string },
  env: Record<string, string> = {},
): Promise<JobRun> {
  const dir = await mkdtemp(join(tmpdir(), 'kube-lego-job-'));
  const terminationLog = join(dir, 'termination-log');
  const apiServer = new URL(controlPlane.server);
  await buildPrograms();
  const job = startProcess('issuance-job', NODE, [join(PROGRAM_DIR, 'issue.mjs')], {
    KUBERNETES_SERVICE_HOST: apiServer.hostname,
    KUBERNETES_SERVICE_PORT: apiServer.port,
    SERVICE_ACCOUNT_DIR: await issuerServiceAccountDir(controlPlane),
    // As in the image (Dockerfile): Node's compile cache, so start-up is not all module compilation.
    NODE_COMPILE_CACHE: join(tmpdir(), 'kube-lego-node-compile-cache'),
    // The pod's address is where Pebble's DNS sends every name.
    POD_IP: pebble.challengeAddress,
    TERMINATION_MESSAGE_PATH: terminationLog,
    LEGO_HTTP01_PORT: String(pebble.httpPort),
    LEGO_SELF_CHECK_PORT: String(pebble.httpPort),
    LEGO_SELF_CHECK_DNS: pebble.dnsServer,
    LEGO_URL: pebble.directoryUrl,
    LEGO_CA_BUNDLE: pebble.caCertPem,
    LEGO_NAMESPACE: 'kube-lego',
    LEGO_EMAIL: 'ops@kube-lego.test',
    LEGO_LOG_TYPE: 'json',
    LEGO_LOG_LEVEL: 'debug',
    LEGO_EXPONENTIAL_BACKOFF_INITIAL_INTERVAL: '100ms',
    LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME: '2s',
    ...Object.fromEntries(orderToEnv(order).map(({ name, value }) => [name, value])),
    ...env,
  });
  const { code } = await job.exited;
  const text = await readFile(terminationLog, 'utf8').catch(() => undefined);
  return {
    code,
    output: job.output(),
    outcome: text === undefined ? undefined : (JSON.parse(text) as IssuanceOutcome),
  };
}

/** Reads a Secret, or undefined. */
export async function readSecret(
  kube: KubeConfig,
  namespace: string,
  name: string,
): Promise<V1Secret | undefined> {
  try {
    return await kube.makeApiClient(CoreV1Api).readNamespacedSecret({ namespace, name });
  } catch (error) {
    if ((error as { code?: number }).code === 404) return undefined;
    throw error;
  }
}

/** Checks a tls Secret: the chain verifies against `rootPem`, the SANs are exactly `hosts`, the key matches. */
export function verifyTlsSecret(secret: V1Secret, rootPem: string, hosts: string[]): X509Certificate {
  const chainPem = Buffer.from(secret.data!['tls.crt']!, 'base64').toString();
  const keyPem = Buffer.from(secret.data!['tls.key']!, 'base64').toString();
  const certificates = chainPem
    .split(/(?=-----BEGIN CERTIFICATE-----)/)
    .filter((block) => block.includes('BEGIN CERTIFICATE'))
    .map((block) => new X509Certificate(block));
  const root = new X509Certificate(rootPem);
  const chain = [...certificates, root];
  for (let index = 0; index < certificates.length; index += 1) {
    const [child, parent] = [chain[index]!, chain[index + 1]!];
    if (!child.verify(parent.publicKey))
      throw new Error(`certificate ${index} is not signed by the next one`);
  }
  const leaf = certificates[0]!;
  const sans = (leaf.subjectAltName ?? '')
    .split(', ')
    .map((name) => name.replace(/^DNS:/, ''))
    .sort();
  if (sans.join(',') !== [...hosts].sort().join(','))
    throw new Error(`SANs ${sans.join(',')} are not ${hosts.join(',')}`);
  if (!leaf.checkPrivateKey(createPrivateKey(keyPem)))
    throw new Error('tls.key does not match the certificate');
  return leaf;
}
