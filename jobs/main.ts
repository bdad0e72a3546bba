/**
 * Entry point of the issuance Job (bundled as `dist/issue.mjs` by `npm run build`), started by the operator's "Launch issuance Job":
 * issues the certificate of the order in `LEGO_CERT_*`, writes it to its Secret, and reports the outcome as
 * its termination message and exit status (0 issued, 1 not issued, `IngressGone` included, 2 misconfigured).
 */
import { writeFile } from 'node:fs/promises';
import { markDone, startHeartbeat } from '../src/acme/challenge-directory.ts';
import { keyMadeAhead } from '../src/acme/keys.ts';
import { ConfigError, parseConfig } from '../src/config.ts';
import { orderFromEnv } from '../src/issuance/job-contract.ts';
import { apiIngressPresence } from '../src/kube/ingress-presence.ts';
import { podConnection, restClient } from '../src/kube/rest-client.ts';
import { SecretAccountStore } from '../src/kube/secret-account-store.ts';
import { apiSolverEndpoint } from '../src/kube/solver-endpoint.ts';
import { TlsSecretWriter } from '../src/kube/tls-secret-writer.ts';
import { createLogger } from '../src/log.ts';
import { issueCertificate } from './issue-certificate.ts';

/** Where the kubelet reads the termination message (a container's `terminationMessagePath`). */
const TERMINATION_MESSAGE_PATH = process.env.TERMINATION_MESSAGE_PATH || '/dev/termination-log';

/**
 * The directory shared with the `respond` container, when this process runs in the Job's pod: from the
 * start a heartbeat says this process lives, and however it ends `.done` lets `respond` end too.
 */
const CHALLENGE_DIR = process.env.LEGO_CHALLENGE_DIR?.trim() || undefined;
const stopHeartbeat = CHALLENGE_DIR === undefined ? () => {} : startHeartbeat(CHALLENGE_DIR);

/** Ends the hand-over with `respond`, then the process. */
async function exit(code: number): Promise<never> {
  stopHeartbeat();
  if (CHALLENGE_DIR !== undefined) await markDone(CHALLENGE_DIR).catch(() => {});
  process.exit(code);
}

async function main(): Promise<number> {
  const config = parseConfig(process.env);
  const order = orderFromEnv(process.env);
  const podIp = process.env.POD_IP?.trim();
  if (!podIp) throw new ConfigError('POD_IP', '', "the pod's IP, from the downward API (status.podIP)");
  // The address other pods reach this one at: the pod IP, unless the cluster says otherwise (the local
  // cluster's pods listen on a loopback twin of the pod IP the API shows: test/support/kubelet-network.ts).
  const endpointIp = process.env.ENDPOINT_IP?.trim() || podIp;
  const log = createLogger({ level: config.logLevel, type: config.logType });
  const api = restClient(await podConnection(config.kubeApiUrl, process.env));
  const result = await issueCertificate(
    order,
    {
      config,
      podIp,
      ...(CHALLENGE_DIR !== undefined && { challengeDir: CHALLENGE_DIR }),
      accountStore: new SecretAccountStore(api, config.namespace, config.secretName),
      certificateKey: keyMadeAhead({ type: config.keyType, rsaKeySize: config.rsaKeySize }),
      ingressPresence: apiIngressPresence(api),
      secrets: new TlsSecretWriter(api),
      solverEndpoint: apiSolverEndpoint(api, endpointIp, config.http01Port),
      terminationMessagePath: TERMINATION_MESSAGE_PATH,
    },
    log,
  );
  log.info({ end: result.end, durationMs: Math.round(result.durationMs) }, `issuance ${result.end}`);
  return result.end === 'issued' ? 0 : 1;
}

main().then(
  (code) => exit(code),
  async (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`kube-lego issuance: ${message}\n`);
    const reason = error instanceof ConfigError ? 'BadConfiguration' : 'IssuanceCrashed';
    await writeFile(TERMINATION_MESSAGE_PATH, JSON.stringify({ succeeded: false, reason, message })).catch(
      () => {},
    );
    await exit(error instanceof ConfigError ? 2 : 1);
  },
);
