/** The Ingresses of the cluster (or of `LEGO_WATCH_NAMESPACE`), listed then watched, as an Observable. */
import { NetworkingV1Api, type KubeConfig, type V1Ingress } from '@kubernetes/client-node';
import type { Observable } from 'rxjs';
import type { ListWatchOptions, WatchEvent } from './list-watch.ts';
import { watchResource } from './resource-watch.ts';

/** Ingress changes, from a list then a resumable watch. */
export function watchIngresses(
  config: KubeConfig,
  namespace: string | undefined,
  options: ListWatchOptions,
): Observable<WatchEvent<V1Ingress>> {
  const api = config.makeApiClient(NetworkingV1Api);
  return watchResource<V1Ingress>(
    config,
    namespace === undefined
      ? { path: '/apis/networking.k8s.io/v1/ingresses', list: () => api.listIngressForAllNamespaces() }
      : {
          path: `/apis/networking.k8s.io/v1/namespaces/${namespace}/ingresses`,
          list: () => api.listNamespacedIngress({ namespace }),
        },
    options,
  );
}
