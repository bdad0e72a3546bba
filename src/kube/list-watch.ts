/**
 * List+watch of one kind of object as an rxjs Observable, the way client-go's reflector does it: list,
 * then watch from the list's resourceVersion; resume a dropped watch from the last resourceVersion seen
 * (bookmarks included); re-list when the server answers 410 Gone; reconnect with exponential back-off.
 * After a re-list, objects that vanished meanwhile are reported deleted, so nothing is missed.
 */
import { Observable } from 'rxjs';

/** An object with the metadata list+watch relies on. */
export interface KubeObject {
  metadata?: { uid?: string; resourceVersion?: string };
}

/** A change to one object. */
export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: T;
}

/** The API calls list+watch makes; the real ones come from @kubernetes/client-node, tests pass fakes. */
export interface ListWatchApi<T extends KubeObject> {
  list(): Promise<{ items: T[]; resourceVersion: string }>;
  /**
   * Starts a watch from a resourceVersion. `onEvent` gets each raw event; `onDone` is called once when
   * the watch ends (with an error, or undefined when the server closed it). Returns a function that stops it.
   */
  watch(
    resourceVersion: string,
    onEvent: (type: string, object: unknown) => void,
    onDone: (error: unknown) => void,
  ): Promise<() => void>;
}

/** Back-off and status reporting of {@link listWatch}. */
export interface ListWatchOptions {
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Told when the watch connects (true) or drops (false), for /readyz. */
  onConnected?: (connected: boolean) => void;
  /** Told about every failure that causes a retry. */
  onRetry?: (error: unknown, delayMs: number) => void;
}

/** A watch the server ends cleanly sooner than this is resumed after the initial back-off, not at once. */
const MIN_WATCH_MS = 1000;

/** Thrown into the loop when the server says the resourceVersion is too old. */
class Gone extends Error {}

function isGone(error: unknown): boolean {
  const value = error as { code?: number; statusCode?: number } | undefined;
  return value?.code === 410 || value?.statusCode === 410;
}

/** Lists then watches, for ever, until unsubscribed. */
export function listWatch<T extends KubeObject>(
  api: ListWatchApi<T>,
  options: ListWatchOptions = {},
): Observable<WatchEvent<T>> {
  const initialBackoffMs = options.initialBackoffMs ?? 1000;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  return new Observable<WatchEvent<T>>((subscriber) => {
    const known = new Map<string, T>();
    let stopWatch: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    let closed = false;
    let backoffMs = initialBackoffMs;
    let resourceVersion: string | undefined;

    const uidOf = (object: T) => object.metadata?.uid ?? '';
    const emit = (type: WatchEvent<T>['type'], object: T) => {
      if (type === 'DELETED') known.delete(uidOf(object));
      else known.set(uidOf(object), object);
      subscriber.next({ type, object });
    };

    const retry = (error: unknown) => {
      if (closed) return;
      options.onConnected?.(false);
      const delay = backoffMs;
      backoffMs = Math.min(maxBackoffMs, backoffMs * 2);
      options.onRetry?.(error, delay);
      timer = setTimeout(() => void cycle(), delay);
    };

    const relist = async () => {
      const listed = await api.list();
      const seen = new Set<string>();
      for (const object of listed.items) {
        seen.add(uidOf(object));
        const before = known.get(uidOf(object));
        if (before?.metadata?.resourceVersion === object.metadata?.resourceVersion) continue;
        emit(before === undefined ? 'ADDED' : 'MODIFIED', object);
      }
      for (const [uid, object] of [...known]) if (!seen.has(uid)) emit('DELETED', object);
      resourceVersion = listed.resourceVersion;
    };

    const cycle = async (): Promise<void> => {
      try {
        if (resourceVersion === undefined) await relist();
        if (closed) return;
        let ended = false;
        let stop: (() => void) | undefined;
        const startedAt = Date.now();
        const done = (error: unknown) => {
          if (ended) return;
          ended = true;
          stopWatch = undefined;
          if (closed) return;
          if (error instanceof Gone || isGone(error)) {
            resourceVersion = undefined;
            void cycle();
          } else if (error === undefined || error === null) {
            // A server that ends watches at once (misconfigured timeout, proxy) must not get a tight loop.
            if (Date.now() - startedAt < MIN_WATCH_MS)
              timer = setTimeout(() => void cycle(), initialBackoffMs);
            else void cycle();
          } else {
            retry(error);
          }
        };
        stop = await api.watch(
          resourceVersion!,
          (type, raw) => {
            if (ended || closed) return;
            const object = raw as T & { code?: number };
            if (type === 'ERROR') {
              stop?.();
              done(isGone(object) ? new Gone() : new Error(`watch error: ${JSON.stringify(raw)}`));
              return;
            }
            const version = object.metadata?.resourceVersion;
            if (version !== undefined) resourceVersion = version;
            if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') emit(type, object);
          },
          done,
        );
        if (ended || closed) {
          stop?.();
          return;
        }
        stopWatch = stop;
        backoffMs = initialBackoffMs;
        options.onConnected?.(true);
      } catch (error) {
        if (isGone(error)) resourceVersion = undefined;
        retry(error);
      }
    };

    void cycle();
    return () => {
      closed = true;
      clearTimeout(timer);
      stopWatch?.();
      options.onConnected?.(false);
    };
  });
}
