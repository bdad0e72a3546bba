/** What the issue-certificate tasks share: the services the `jobs/` program gives every run, and the token. */
import { writeFile } from 'node:fs/promises';
import type { AccountStore } from '../../src/acme/account.ts';
import type { Config } from '../../src/config.ts';
import type { IssuanceOrder, IssuanceOutcome } from '../../src/issuance/job-contract.ts';
import type { IngressPresenceCheck } from '../../src/kube/ingress-presence.ts';
import type { SolverEndpoint } from '../../src/kube/solver-endpoint.ts';
import type { IssuedCertificate, WriteResult } from '../../src/kube/tls-secret-writer.ts';
import type { TaskImplementation } from '../../src/process/runner.ts';

/** The services of the issue-certificate process. */
export interface IssuanceServices {
  config: Config;
  /** The pod's IP (`POD_IP`, downward API): where the challenge responder listens. */
  podIp: string;
  /**
   * The directory shared with the Job's `respond` container (`LEGO_CHALLENGE_DIR`), which answers the
   * challenges from it; when undefined, this process answers them itself (a Job run outside such a pod).
   */
  challengeDir?: string;
  accountStore: AccountStore;
  /** The certificate's new private key (PEM, secret), made in the background from the Job's start. */
  certificateKey: () => Promise<string>;
  /** Whether the order's Ingress is still there with its uid (src/kube/ingress-presence.ts). */
  ingressPresence: IngressPresenceCheck;
  secrets: { write(certificate: IssuedCertificate): Promise<WriteResult> };
  /** Edited in place: publishes the pod's address for the order's solver Service. */
  solverEndpoint: SolverEndpoint;
  /** Where the outcome goes for the operator to read (`/dev/termination-log` in a pod). */
  terminationMessagePath: string;
}

/** An issue-certificate token: the certificate the Job is to issue. */
export type IssuanceToken = IssuanceOrder;

/** A task of the issue-certificate process. */
export type IssuanceTask = TaskImplementation<IssuanceServices, IssuanceToken>;

/** Writes the outcome where the kubelet reads the termination message from. */
export async function writeOutcome(path: string, outcome: IssuanceOutcome): Promise<void> {
  await writeFile(path, JSON.stringify(outcome));
}
