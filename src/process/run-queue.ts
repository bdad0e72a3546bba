/**
 * Bounds how many runs execute at once. The periodic check of 10,000 Ingresses queues 10,000 tokens;
 * starting them all at once would hold 10,000 engines (about a MiB each) in memory. Queued tokens are
 * plain objects; each runs when a slot frees, in arrival order.
 */

/** A first-in first-out queue of async jobs with at most `limit` running. */
export class RunQueue {
  readonly #limit: number;
  readonly #pending: (() => Promise<unknown>)[] = [];
  #running = 0;
  #idle: (() => void)[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Jobs waiting for a slot. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Jobs running. */
  get running(): number {
    return this.#running;
  }

  /** Queues a job; it starts when a slot is free. Its errors are the job's own business. */
  push(job: () => Promise<unknown>): void {
    this.#pending.push(job);
    this.#drain();
  }

  /** Resolves when nothing is running or pending. */
  idle(): Promise<void> {
    if (this.#running === 0 && this.#pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #drain(): void {
    while (this.#running < this.#limit && this.#pending.length > 0) {
      const job = this.#pending.shift()!;
      this.#running += 1;
      void job()
        .catch(() => undefined)
        .finally(() => {
          this.#running -= 1;
          this.#drain();
          if (this.#running === 0 && this.#pending.length === 0) {
            for (const resolve of this.#idle.splice(0)) resolve();
          }
        });
    }
  }
}
