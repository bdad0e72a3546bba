/**
 * Check Ingress: whether the Ingress the Job was started for is still there with its uid. The diagram asks
 * before the account and the order, and again before finalizing, and takes "Ingress gone" when it is not:
 * a deleted Ingress costs no order, and one deleted meanwhile no certificate. `present` drives the
 * "Ingress still there?" gateways; an API error takes the task's error boundary.
 */
import type { IssuanceTask } from './services.ts';

/** The `checkIngress` implementation. */
export const checkIngress: IssuanceTask = ({ token, services }) =>
  services.ingressPresence({ namespace: token.namespace, name: token.ingressName, uid: token.ingressUid });
