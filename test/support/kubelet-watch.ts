/**
 * A small informer for the process kubelet and the ingress router: list+watch of one resource path
 * (through the operator's own {@link listWatch}, so resumes, re-lists and back-off behave the same), a
 * store of the current objects by namespace/name, and a promise that settles once the first list is in.
 */
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { Subscription } from 'rxjs';
import { listWatch, type KubeObject, type WatchEvent } from '../../src/kube/list-watch.ts';

/** An object with a name and namespace, as every resource watched here has. */
export interface NamedObject extends KubeObject {
  metadata?: { uid?: string; resourceVersion?: string; name?: string; namespace?: string };
}

/** A running informer. */
export interface Informer<T extends NamedObject> {
  /** Settles once the first list has been delivered and the watch is open. */
  readonly synced: Promise<void>;
  /** The current objects, by `namespace/name` (or `name` when cluster-scoped). */
  readonly store: ReadonlyMap<string, T>;
  /** Stops watching. */
  stop(): void;
}

/** A watch that ends cleanly sooner than this after it opened is resumed only this much later. */
const QUICK_END_MS = 1000;

/** `namespace/name` of an object, or its name when cluster-scoped. */
export function keyOf(object: NamedObject): string {
  const namespace = object.metadata?.namespace;
  const name = object.metadata?.name ?? '';
  return namespace ? `${namespace}/${name}` : name;
}

/**
 * Lists with `list` and watches `path` (e.g. `/api/v1/pods`); `onEvent` sees every change after the store
 * has been updated. Errors of the connection are retried with back-off and reported to `onRetry`.
 */
export function inform<T extends NamedObject>(
  config: KubeConfig,
  path: string,
  list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>,
  onEvent: (event: WatchEvent<T>) => void = () => {},
  onRetry: (error: unknown) => void = () => {},
): Informer<T> {
  const watch = new Watch(config);
  let stopped = false;
  const store = new Map<string, T>();
  let markSynced: () => void = () => {};
  const synced = new Promise<void>((resolve) => (markSynced = resolve));
  const events = listWatch<T>(
    {
      async list() {
        const listed = await list();
        return { items: listed.items, resourceVersion: listed.metadata?.resourceVersion ?? '0' };
      },
      async watch(resourceVersion, onWatchEvent, onDone) {
        const opened = Date.now();
        let pause: NodeJS.Timeout | undefined;
        const controller = await watch.watch(
          path,
          // The server ends the watch after 20 s, before client-node's 30 s inactivity timeout would
          // abort it as an error (bookmarks come only about once a minute); listWatch then resumes at once.
          { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 20 },
          (type, object) => onWatchEvent(type, object),
          (error) => {
            if (stopped) return;
            // listWatch resumes at once after a clean end: a server that ends each watch as soon as it
            // opens (shutting down, say) would have it reconnect in a tight loop. Pause a little then.
            if ((error === undefined || error === null) && Date.now() - opened < QUICK_END_MS) {
              pause = setTimeout(() => {
                if (!stopped) onDone(error);
              }, QUICK_END_MS);
            } else {
              onDone(error);
            }
          },
        );
        return () => {
          clearTimeout(pause);
          controller.abort();
        };
      },
    },
    {
      initialBackoffMs: 200,
      maxBackoffMs: 5000,
      onConnected: (connected) => {
        if (connected) markSynced();
      },
      onRetry,
    },
  );
  const subscription: Subscription = events.subscribe((event) => {
    if (stopped) return;
    if (event.type === 'DELETED') store.delete(keyOf(event.object));
    else store.set(keyOf(event.object), event.object);
    onEvent(event);
  });
  return {
    synced,
    store,
    stop: () => {
      stopped = true;
      subscription.unsubscribe();
    },
  };
}
