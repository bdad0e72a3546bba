/**
 * The contract between the operator and the issuance Job: the environment variables through which the
 * operator hands one certificate request to the `jobs/` program, and the shape of the outcome the Job
 * reports back in its termination message. Both sides import this file, so they cannot drift apart.
 */

/** The certificate the Job is to issue. */
export interface IssuanceOrder {
  namespace: string;
  secretName: string;
  hosts: string[];
  ingressName: string;
  ingressUid: string;
  /**
   * The ARI identifier of the certificate this one replaces (RFC 9773 `replaces`), when it came from the
   * same directory: a renewal the CA asked for, exempt from its rate limits.
   */
  replaces?: string;
  /**
   * Edited in place: the selectorless Service in the order's namespace whose EndpointSlice the Job writes
   * with its pod's address (src/issuance/job-objects.ts).
   */
  solverService?: string;
}

/** Environment variable names of an {@link IssuanceOrder}. */
export const ORDER_ENV = {
  namespace: 'LEGO_CERT_NAMESPACE',
  secretName: 'LEGO_CERT_SECRET_NAME',
  hosts: 'LEGO_CERT_HOSTS',
  ingressName: 'LEGO_CERT_INGRESS_NAME',
  ingressUid: 'LEGO_CERT_INGRESS_UID',
  replaces: 'LEGO_CERT_REPLACES',
  solverService: 'LEGO_CERT_SOLVER_SERVICE',
} as const;

/** The environment entries that carry an order. */
export function orderToEnv(order: IssuanceOrder): { name: string; value: string }[] {
  return [
    { name: ORDER_ENV.namespace, value: order.namespace },
    { name: ORDER_ENV.secretName, value: order.secretName },
    { name: ORDER_ENV.hosts, value: order.hosts.join(',') },
    { name: ORDER_ENV.ingressName, value: order.ingressName },
    { name: ORDER_ENV.ingressUid, value: order.ingressUid },
    ...(order.replaces === undefined ? [] : [{ name: ORDER_ENV.replaces, value: order.replaces }]),
    ...(order.solverService === undefined
      ? []
      : [{ name: ORDER_ENV.solverService, value: order.solverService }]),
  ];
}

/** Reads an order from the environment; throws naming the first missing variable. */
export function orderFromEnv(env: Record<string, string | undefined>): IssuanceOrder {
  const read = (name: string): string => {
    const value = env[name]?.trim();
    if (!value)
      throw new Error(`${name} is not set: the issuance Job is started by the operator, which sets it`);
    return value;
  };
  return {
    namespace: read(ORDER_ENV.namespace),
    secretName: read(ORDER_ENV.secretName),
    hosts: read(ORDER_ENV.hosts)
      .split(',')
      .map((host) => host.trim())
      .filter(Boolean),
    ingressName: read(ORDER_ENV.ingressName),
    ingressUid: read(ORDER_ENV.ingressUid),
    ...(env[ORDER_ENV.replaces]?.trim() && { replaces: env[ORDER_ENV.replaces]!.trim() }),
    ...(env[ORDER_ENV.solverService]?.trim() && { solverService: env[ORDER_ENV.solverService]!.trim() }),
  };
}

/**
 * The log field in which the Job's `issue` container names each element of processes/issue-certificate.bpmn
 * as its token enters it: the Job's step, read back by the operator's process view.
 */
export const STEP_FIELD = 'step';

/** What the Job writes to its termination message, and the operator reads back as the outcome. */
export interface IssuanceOutcome {
  succeeded: boolean;
  /** A CamelCase reason, such as `Issued`, `SelfCheckFailed`, `OrderRejected`. */
  reason: string;
  message: string;
  /** When the CA asked to be asked again (its `Retry-After`, RFC 3339), for a failure it refused for now. */
  retryAt?: string;
}

/** Parses a termination message; a message that is not an outcome becomes a failure quoting it. */
export function parseOutcome(text: string | undefined): IssuanceOutcome | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<IssuanceOutcome>;
    if (typeof parsed.succeeded === 'boolean' && typeof parsed.reason === 'string') {
      return {
        succeeded: parsed.succeeded,
        reason: parsed.reason,
        message: String(parsed.message ?? ''),
        ...(typeof parsed.retryAt === 'string' && { retryAt: parsed.retryAt }),
      };
    }
  } catch {
    // Not JSON: the container died before writing an outcome; its last log lines are the message.
  }
  return { succeeded: false, reason: 'JobFailed', message: text.trim().slice(-1024) };
}
