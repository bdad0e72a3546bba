/**
 * Runs the issuance Job program (`node jobs/main.ts`) as a process, as a pod would, against a real Pebble
 * and a real API server: the responder listens where Pebble's HTTP-01 validation connects (127.0.0.1 on
 * Pebble's httpPort), and hosts resolve through Pebble's challtestsrv DNS.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, NetworkingV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { orderToEnv, type IssuanceOutcome } from '../../src/issuance/job-contract.ts';
import type { ControlPlane } from '../support/control-plane.ts';
import type { Pebble } from '../support/pebble.ts';
import { startProcess } from '../support/processes.ts';

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

/** Runs `node jobs/main.ts` for an order and waits for it to exit. */
export async function runIssuanceJob(
  controlPlane: ControlPlane,
  pebble: Pebble,
  order: { namespace: string; secretName: string; hosts: string[]; ingressName: string; ingressUid: string },
  env: Record<string, string> = {},
): Promise<JobRun> {
  const dir = await mkdtemp(join(tmpdir(), 'kube-lego-job-'));
  const terminationLog = join(dir, 'termination-log');
  const job = startProcess('issuance-job', NODE, ['jobs/main.ts'], {
    KUBECONFIG: controlPlane.kubeconfigPath,
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
