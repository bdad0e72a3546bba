/**
 * List+watch (list-watch.ts) of one resource path of the API server, with @kubernetes/client-node: the
 * shared half of the Ingress and Secret watches.
 */
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { Observable } from 'rxjs';
import { listWatch, type KubeObject, type ListWatchOptions, type WatchEvent } from './list-watch.ts';

/** What to list and watch. */
export interface Resource<T extends KubeObject> {
  /** The collection's path, e.g. `/apis/networking.k8s.io/v1/ingresses`. */
  readonly path: string;
  /** Lists the collection (with the same selector as the watch). */
  list(): Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;
  /** Label selector of list and watch. */
  readonly labelSelector?: string;
}

/** Changes to the objects of `resource`, from a list then a resumable watch. */
export function watchResource<T extends KubeObject>(
  config: KubeConfig,
  resource: Resource<T>,
  options: ListWatchOptions,
): Observable<WatchEvent<T>> {
  const watch = new Watch(config);
  const selector = resource.labelSelector === undefined ? {} : { labelSelector: resource.labelSelector };
  return listWatch<T>(
    {
      async list() {
        const list = await resource.list();
        return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '0' };
      },
      async watch(resourceVersion, onEvent, onDone) {
        const controller = await watch.watch(
          resource.path,
          // The server ends the watch cleanly before client-node's 30 s idle timeout would abort it with an
          // error; list-watch.ts then resumes at once from the last resourceVersion.
          { ...selector, resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 20 },
          (type, object) => onEvent(type, object),
          onDone,
        );
        return () => controller.abort();
      },
    },
    options,
  );
}
