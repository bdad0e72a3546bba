/**
 * Whether the Ingress an issuance was started for is still there: the same name with the same uid. The
 * issuance Job asks before it creates an order and again before it finalizes one, so a deleted Ingress
 * costs no order, and one deleted meanwhile no certificate; a deleted-then-recreated Ingress of the same
 * name has another uid, and gets a Job of its own (src/issuance/job-objects.ts). The same check, with the
 * same reasons, guards the write of the Secret (tls-secret-writer.ts).
 */
import type { V1Ingress } from '@kubernetes/client-node';
import { statusOf } from './api-error.ts';
import { objectPath, type KubeRest } from './rest-client.ts';

/** The Ingress a Job was started for: its namespace, name and uid. */
export interface IngressIdentity {
  namespace: string;
  name: string;
  uid: string;
}

/** The Ingress is still there, or why not. */
export type IngressPresence = { present: true } | { present: false; reason: string };

/** Reads whether an Ingress is still there. */
export type IngressPresenceCheck = (ingress: IngressIdentity) => Promise<IngressPresence>;

/** What a read of the Ingress found (`foundUid`, undefined when there is none of that name) means. Pure. */
export function ingressPresence(ingress: IngressIdentity, foundUid: string | undefined): IngressPresence {
  const { namespace, name, uid } = ingress;
  if (foundUid === undefined) return { present: false, reason: `Ingress ${namespace}/${name} was deleted` };
  if (foundUid !== uid) {
    return { present: false, reason: `Ingress ${namespace}/${name} was replaced (uid changed)` };
  }
  return { present: true };
}

/**
 * The check through the API server: one `get` of the Ingress (the issuer's ClusterRole allows it). A 404
 * is an answer; any other error is thrown.
 */
export function apiIngressPresence(api: KubeRest): IngressPresenceCheck {
  return async (ingress) => {
    try {
      const found = await api.get<V1Ingress>(
        objectPath('networking.k8s.io', 'ingresses', ingress.namespace, ingress.name),
      );
      return ingressPresence(ingress, found.metadata?.uid ?? '');
    } catch (error) {
      if (statusOf(error) === 404) return ingressPresence(ingress, undefined);
      throw error;
    }
  };
}
