/**
 * The repeating schedule of the periodic check. bpmn-engine fires a timer start event once and ends the
 * run, so repeating is the host's job; the cycle comes from the diagram's timer (or LEGO_CHECK_INTERVAL),
 * so editing the timer in Modeler changes the schedule.
 */
import type { Cycle } from '../duration.ts';

/** Time, as the schedule sees it; tests pass a fake. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A running schedule. */
export interface Schedule {
  /** When the next tick is due (ms since the epoch), or undefined when the cycle is over. */
  readonly next: number | undefined;
  stop(): void;
}

/**
 * Calls `tick` every `cycle.intervalMs`, `cycle.repetitions` times (for ever when undefined). Ticks are
 * due at start + n × interval, so a slow tick does not push the later ones back; a tick missed while the
 * process was blocked runs once, late, rather than in a burst.
 */
export function startSchedule(cycle: Cycle, clock: Clock, tick: () => void): Schedule {
  const start = clock.now();
  let count = 0;
  let handle: unknown;
  let next: number | undefined;
  const plan = () => {
    if (cycle.repetitions !== undefined && count >= cycle.repetitions) {
      next = undefined;
      return;
    }
    const now = clock.now();
    let due = start + (count + 1) * cycle.intervalMs;
    while (due + cycle.intervalMs <= now) {
      count += 1;
      due += cycle.intervalMs;
    }
    next = due;
    handle = clock.setTimeout(
      () => {
        count += 1;
        tick();
        plan();
      },
      Math.max(0, due - now),
    );
  };
  plan();
  return {
    get next() {
      return next;
    },
    stop() {
      clock.clearTimeout(handle);
      next = undefined;
    },
  };
}
