/**
 * Record foreign Secret: the entry's Secret is managed by another controller (an owner other than the
 * Ingress, another `app.kubernetes.io/managed-by`, cert-manager's annotations), so kube-lego leaves it
 * alone and says so: a warning log line and a Warning Event on the Ingress naming the Secret, its manager
 * and the fix. Every check of the entry says it again until the Ingress or the Secret changes.
 */
import type { PolicyVerdict } from '../src/certificate/policy.ts';
import { ingressRef, type LifecycleTask } from './services.ts';

/** The reason of the Event and log line. */
const FOREIGN_SECRET = 'ForeignSecret';

/** The `recordForeignSecret` implementation. */
export const recordForeignSecret: LifecycleTask = async ({ token, services, output, log }) => {
  const verdict = output.inspectCertificate as PolicyVerdict | undefined;
  if (verdict?.foreign !== true) {
    throw new Error(
      'no foreign Secret to record: "Inspect certificate" must find one before "Record foreign Secret" in the diagram',
    );
  }
  const message =
    `certificate for Secret ${token.secretName} not issued: ${verdict.message}, and kube-lego does not ` +
    `write over another controller's Secret; remove the ${services.config.kubeAnnotation} annotation from ` +
    `Ingress ${token.ingress.name} or name another secretName`;
  log.warn({ reason: FOREIGN_SECRET, secret: token.key }, message);
  await services.cluster.recordEvent(ingressRef(token), 'Warning', FOREIGN_SECRET, message);
  return { reason: FOREIGN_SECRET, message };
};
