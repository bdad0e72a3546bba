/**
 * What a test starts must not outlive it: an ExitGuard kills what it holds when this process exits or is
 * told to terminate (SIGINT, SIGTERM, SIGHUP), then lets the signal do what it would have done without the
 * guard. Its listeners are installed only while it holds something, so a test process with nothing running
 * keeps Node's own behaviour.
 */

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Kills a process (or process group) for sure; must not throw. */
export type Killer<T> = (item: T) => void;

/** Kills a process group with SIGKILL, ignoring one that is gone already. */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

/** A set of things to kill if this process ends before they are removed. */
export class ExitGuard<T> {
  readonly #items = new Set<T>();
  readonly #kill: Killer<T>;

  constructor(kill: Killer<T>) {
    this.#kill = kill;
  }

  /** Guards `item` until {@link delete}. */
  add(item: T): void {
    if (this.#items.size === 0) {
      process.on('exit', this.#killAll);
      for (const signal of SIGNALS) process.on(signal, this.#onSignal);
    }
    this.#items.add(item);
  }

  /** Stops guarding `item` (it ended, or was stopped). */
  delete(item: T): void {
    if (this.#items.delete(item) && this.#items.size === 0) this.#unwatch();
  }

  readonly #killAll = (): void => {
    for (const item of this.#items) this.#kill(item);
  };

  readonly #onSignal = (signal: NodeJS.Signals): void => {
    this.#killAll();
    this.#unwatch();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };

  #unwatch(): void {
    process.off('exit', this.#killAll);
    for (const signal of SIGNALS) process.off(signal, this.#onSignal);
  }
}
