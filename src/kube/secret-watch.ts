/**
 * The certificate Secrets kube-lego manages (label `app.kubernetes.io/managed-by=kube-lego`, which the
 * issuance Job's writer sets), listed then watched, as an Observable: a Secret deleted or changed by
 * someone is inspected at once instead of at the next periodic check. The label selector keeps the
 * watch to those Secrets; the rest of the cluster's Secrets never reach the operator.
 */
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import type { Observable } from 'rxjs';
import type { ListWatchOptions, WatchEvent } from './list-watch.ts';
import { watchResource } from './resource-watch.ts';

/** Selects the Secrets kube-lego wrote. */
export const MANAGED_SECRET_SELECTOR = 'app.kubernetes.io/managed-by=kube-lego';

/** Changes to kube-lego's certificate Secrets in the cluster (or in `namespace`), from a list then a watch. */
export function watchManagedSecrets(
  config: KubeConfig,
  namespace: string | undefined,
  options: ListWatchOptions,
): Observable<WatchEvent<V1Secret>> {
  const api = config.makeApiClient(CoreV1Api);
  const labelSelector = MANAGED_SECRET_SELECTOR;
  return watchResource<V1Secret>(
    config,
    namespace === undefined
      ? {
          path: '/api/v1/secrets',
          labelSelector,
          list: () => api.listSecretForAllNamespaces({ labelSelector }),
        }
      : {
          path: `/api/v1/namespaces/${namespace}/secrets`,
          labelSelector,
          list: () => api.listNamespacedSecret({ namespace, labelSelector }),
        },
    options,
  );
}
