/**
 * Edited in place (src/issuance/job-objects.ts), the solver Service lives in the Ingress's namespace without
 * a selector, since it cannot select the Job's pod in kube-lego's namespace; the Job publishes its pod's
 * address as that Service's EndpointSlice, as the endpointslice controller would for a selected pod. The
 * slice is owned by the Service, so it goes when the operator deletes the Service at the Job's end.
 */
import { isIPv6 } from 'node:net';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { statusOf } from './api-error.ts';
import { objectPath, type KubeRest } from './rest-client.ts';

/** The label the endpointslice controller leaves alone: slices of this manager are kube-lego's. */
const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';

/** The EndpointSlice that gives `service` the one endpoint `address:port`. Pure. */
export function solverEndpointSlice(service: V1Service, address: string, port: number): V1EndpointSlice {
  const name = service.metadata?.name ?? '';
  const portName = service.spec?.ports?.[0]?.name ?? 'http01';
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace: service.metadata?.namespace ?? '',
      labels: {
        ...service.metadata?.labels,
        'kubernetes.io/service-name': name,
        [MANAGED_BY_LABEL]: 'kube-lego.io',
      },
      ownerReferences: [
        {
          apiVersion: 'v1',
          kind: 'Service',
          name,
          uid: service.metadata?.uid ?? '',
          blockOwnerDeletion: false,
        },
      ],
    },
    addressType: isIPv6(address) ? 'IPv6' : 'IPv4',
    endpoints: [{ addresses: [address], conditions: { ready: true } }],
    ports: [{ name: portName, port, protocol: 'TCP' }],
  };
}

/** Publishes the Job's endpoint for its in-place solver Service. */
export interface SolverEndpoint {
  publish(namespace: string, service: string): Promise<void>;
}

/**
 * Through the API server: reads the Service (for its uid and port name), then creates its EndpointSlice,
 * or replaces the one a replaced Job of the same name left.
 */
export function apiSolverEndpoint(api: KubeRest, address: string, port: number): SolverEndpoint {
  return {
    async publish(namespace, name) {
      const service = await api.get<V1Service>(objectPath('', 'services', namespace, name));
      const slice = solverEndpointSlice(service, address, port);
      try {
        await api.post(objectPath('discovery.k8s.io', 'endpointslices', namespace), slice);
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
        const path = objectPath('discovery.k8s.io', 'endpointslices', namespace, name);
        const existing = await api.get<V1EndpointSlice>(path);
        const resourceVersion = existing.metadata?.resourceVersion;
        await api.put(path, { ...slice, metadata: { ...slice.metadata, resourceVersion } });
      }
    },
  };
}
