/** The Ingresses of the cluster (or of `LEGO_WATCH_NAMESPACE`), listed then watched, as an Observable. */
import { NetworkingV1Api, Watch, type KubeConfig, type V1Ingress } from '@kubernetes/client-node';
import type { Observable } from 'rxjs';
import { listWatch, type ListWatchOptions, type WatchEvent } from './list-watch.ts';

/** Ingress changes, from a list then a resumable watch. */
export function watchIngresses(
  config: KubeConfig,
  namespace: string | undefined,
  options: ListWatchOptions,
): Observable<WatchEvent<V1Ingress>> {
  const api = config.makeApiClient(NetworkingV1Api);
  const watch = new Watch(config);
  const path =
    namespace === undefined
      ? '/apis/networking.k8s.io/v1/ingresses'
      : `/apis/networking.k8s.io/v1/namespaces/${namespace}/ingresses`;
  return listWatch<V1Ingress>(
    {
      async list() {
        const list =
          namespace === undefined
            ? await api.listIngressForAllNamespaces()
            : await api.listNamespacedIngress({ namespace });
        return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '0' };
      },
      async watch(resourceVersion, onEvent, onDone) {
        const controller = await watch.watch(
          path,
          // The server ends the watch cleanly before client-node's 30 s idle timeout would abort it with an
          // error; list-watch.ts then resumes at once from the last resourceVersion.
          { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 20 },
          (type, object) => onEvent(type, object),
          onDone,
        );
        return () => controller.abort();
      },
    },
    options,
  );
}
