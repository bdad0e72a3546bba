/**
 * Deduplication of tokens by key, with the semantics of adhesive's `@deduplicate` and of a Kubernetes
 * work queue: at most one token per key in flight and at most one waiting; a newer waiting token
 * replaces the older, which is collapsed; when the in-flight token is released, the waiting one is
 * admitted. No I/O: callbacks in, callbacks out.
 */

/** What a token waiting at the Deduplicate task is told. */
export interface Waiter {
  admit(): void;
  collapse(): void;
}

/** The registry of in-flight and waiting tokens. */
export class Deduplicator {
  readonly #inFlight = new Set<string>();
  readonly #waiting = new Map<string, Waiter>();

  /** Keys with a token in flight. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Keys with a token waiting. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Offers a token: admitted at once when its key is free, else it waits (collapsing an older waiter). */
  offer(key: string, waiter: Waiter): void {
    if (!this.#inFlight.has(key)) {
      this.#inFlight.add(key);
      waiter.admit();
      return;
    }
    const older = this.#waiting.get(key);
    this.#waiting.set(key, waiter);
    older?.collapse();
  }

  /** Withdraws a waiting token that gave up (its run was stopped); true when it was waiting. */
  withdraw(key: string, waiter: Waiter): boolean {
    if (this.#waiting.get(key) !== waiter) return false;
    this.#waiting.delete(key);
    return true;
  }

  /** Ends the in-flight token of a key; the waiting token, if any, is admitted in its place. */
  release(key: string): void {
    const next = this.#waiting.get(key);
    if (next === undefined) {
      this.#inFlight.delete(key);
      return;
    }
    this.#waiting.delete(key);
    next.admit();
  }
}
