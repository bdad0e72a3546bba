/** A manual {@link Clock}: time moves only when the test calls `advance`. */
import type { Clock } from '../../src/process/schedule.ts';

/** The fake clock. */
export class FakeClock implements Clock {
  #now: number;
  #timers: { due: number; callback: () => void; id: number }[] = [];
  #ids = 0;

  constructor(start = Date.UTC(2026, 10, 23, 12)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = ++this.#ids;
    this.#timers.push({ due: this.#now + ms, callback, id });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers = this.#timers.filter((timer) => timer.id !== handle);
  }

  /** Timers waiting. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward, firing due timers in order (including those they set). */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      this.#timers.sort((a, b) => a.due - b.due || a.id - b.id);
      const next = this.#timers[0];
      if (next === undefined || next.due > end) break;
      this.#timers.shift();
      this.#now = next.due;
      next.callback();
    }
    this.#now = end;
  }
}
