/**
 * The status of each managed certificate, as the process view's table, `/api/certificates` and
 * `kube-lego status` show it: hosts, expiry, renewal time, state, the Ingress, the last Event. Pure: what a
 * run found in, the next status out; no key material, no account details.
 */

/** Where a certificate stands. */
export type CertificateState = 'valid' | 'renewing' | 'backingOff' | 'failed' | 'foreign' | 'pending';

/** A Kubernetes Event kube-lego wrote about the certificate's Ingress. */
export interface LastEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** Epoch ms. */
  at: number;
}

/** One managed certificate. Times are epoch ms. */
export interface CertificateStatus {
  /** `namespace/secret`. */
  certificate: string;
  namespace: string;
  secret: string;
  hosts: string[];
  /** The Ingress that claims it, `namespace/name`. */
  ingress: string;
  notAfter?: number;
  renewAt?: number;
  state: CertificateState;
  /** Why it is in that state: a policy reason (`RenewalDue`), a failure's (`SelfCheckFailed`). */
  reason?: string;
  /** The same for people. */
  message?: string;
  /** When backing off: when the next attempt may start. */
  retryAt?: number;
  /** When it came to this state. */
  since: number;
  lastEvent?: LastEvent;
}

/** What one run of the lifecycle diagram found out about a certificate. */
export interface RunFacts {
  /** The end event's name: `valid`, `launched`, `adopted`, `backing off`, `issued`, `failed`, ... */
  end: string;
  /** The policy's verdict in force, when the run inspected the certificate. */
  verdict?: { valid: boolean; reason: string; message: string; notAfter?: number; renewAt?: number };
  /** When the run backed off (a failed Job not due yet, a recorded failure): the next attempt's time. */
  retryAt?: number;
  /** A failure the run recorded (a failed Job's outcome, a task's error). */
  failure?: { reason: string; message: string };
}

/** The identity of a certificate: what the status starts from. */
export interface CertificateIdentity {
  namespace: string;
  secret: string;
  hosts: string[];
  ingress: string;
}

/** The state a run's end puts a certificate in; undefined where the end says nothing new (`collapsed`). */
function stateAfter(facts: RunFacts): CertificateState | undefined {
  switch (facts.end) {
    case 'valid':
      return 'valid';
    case 'foreign':
      return 'foreign';
    case 'launched':
    case 'adopted':
    case 'waiting for a Job slot':
      return 'renewing';
    case 'backing off':
      return 'backingOff';
    case 'issued':
      return 'valid';
    case 'failed':
      return facts.retryAt === undefined ? 'failed' : 'backingOff';
    default:
      return undefined;
  }
}

/** The status after a run of the certificate ended with `facts`, at `now`. */
export function nextStatus(
  previous: CertificateStatus | undefined,
  identity: CertificateIdentity,
  facts: RunFacts,
  now: number,
): CertificateStatus {
  const base: CertificateStatus = previous ?? {
    certificate: `${identity.namespace}/${identity.secret}`,
    ...identity,
    state: 'pending',
    since: now,
  };
  const { verdict } = facts;
  const state = stateAfter(facts) ?? base.state;
  const why =
    facts.failure ??
    (verdict === undefined || facts.end === 'issued'
      ? undefined
      : { reason: verdict.reason, message: verdict.message });
  const next: CertificateStatus = {
    ...base,
    ...identity,
    certificate: `${identity.namespace}/${identity.secret}`,
    state,
    since: state === base.state && previous !== undefined ? base.since : now,
  };
  if (verdict?.notAfter !== undefined) next.notAfter = verdict.notAfter;
  if (verdict?.renewAt !== undefined) next.renewAt = verdict.renewAt;
  if (why !== undefined) {
    next.reason = why.reason;
    next.message = why.message;
  } else if (stateAfter(facts) !== undefined && facts.end === 'issued') {
    delete next.reason;
    delete next.message;
  }
  if (state === 'backingOff' && facts.retryAt !== undefined) next.retryAt = facts.retryAt;
  else if (state !== 'backingOff') delete next.retryAt;
  return next;
}

/** The state in words for people: `valid`, `backing off until 2026-12-03T12:00:00Z`, `failed: SelfCheckFailed`. */
export function describeState(status: CertificateStatus): string {
  switch (status.state) {
    case 'backingOff':
      return status.retryAt === undefined
        ? `backing off${status.reason === undefined ? '' : ` (${status.reason})`}`
        : `backing off until ${new Date(status.retryAt).toISOString().replace('.000Z', 'Z')}${status.reason === undefined ? '' : ` (${status.reason})`}`;
    case 'failed':
      return `failed: ${status.reason ?? 'unknown'}`;
    case 'renewing':
      return `renewing${status.reason === undefined ? '' : ` (${status.reason})`}`;
    case 'foreign':
      return "not kube-lego's (ForeignSecret)";
    default:
      return status.state;
  }
}
