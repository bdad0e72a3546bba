/**
 * Deduplicate: at most one token per certificate in flight and one waiting (latest wins). The task
 * completes with `collapsed: false` when the token may go on (at once, or when the token in flight
 * ends) and `collapsed: true` when a newer token replaced it while it waited.
 */
import type { LifecycleTask } from './services.ts';

/** Result of {@link deduplicate}. */
export interface DeduplicateResult {
  collapsed: boolean;
}

/** The `deduplicate` implementation. */
export const deduplicate: LifecycleTask = ({ token, services, run }) =>
  new Promise<DeduplicateResult>((resolve) => {
    const { deduplicator } = services;
    const waiter = {
      admit() {
        run.signal.removeEventListener('abort', giveUp);
        run.onEnd(() => deduplicator.release(token.key));
        resolve({ collapsed: false });
      },
      collapse() {
        run.signal.removeEventListener('abort', giveUp);
        resolve({ collapsed: true });
      },
    };
    // A run stopped while it waits leaves the queue, or the key would stay blocked by a dead waiter.
    const giveUp = () => {
      if (deduplicator.withdraw(token.key, waiter)) resolve({ collapsed: true });
    };
    run.signal.addEventListener('abort', giveUp, { once: true });
    deduplicator.offer(token.key, waiter);
  });
