/** {@link LeaseStore} over a real API server: one named Lease of `coordination.k8s.io/v1`. */
import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { LeaseStore } from './leader-election.ts';

/** The Lease the replicas of kube-lego elect their leader with (in `LEGO_NAMESPACE`). */
export const LEADER_LEASE = 'kube-lego';

/** The Lease `name` in `namespace`; a write of a Lease changed since it was read fails with 409. */
export function kubernetesLeaseStore(config: KubeConfig, namespace: string, name = LEADER_LEASE): LeaseStore {
  const api = config.makeApiClient(CoordinationV1Api);
  return {
    async read() {
      try {
        return await api.readNamespacedLease({ namespace, name });
      } catch (error) {
        if ((error as { code?: unknown }).code === 404) return undefined;
        throw error;
      }
    },
    create: (lease: V1Lease) =>
      api.createNamespacedLease({ namespace, body: { ...lease, metadata: { name, namespace } } }),
    replace: (lease: V1Lease) => api.replaceNamespacedLease({ namespace, name, body: lease }),
  };
}
