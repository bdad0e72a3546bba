/**
 * Where the runs of a diagram stand, for the live process view: per element, the runs whose token is there
 * now, the certificates waiting there for something outside the process (a Job), and the runs that ended
 * there in the last hour, with their reasons. Fed by the runner's activity events and the host's run ends;
 * read as a plain-JSON snapshot. Holds only certificate keys, reasons and times: nothing secret.
 */
import type { ActivityEvent } from '../process/runner.ts';

/** A certificate at an element: a run standing there, waiting there, or having ended there. */
export interface ElementEntry {
  certificate: string;
  /** Epoch ms: when it got there (standing, waiting) or ended there. */
  at: number;
  /** Why: the run's reason (`RenewalDue`, `SelfCheckFailed`, ...) or what it waits for. */
  reason?: string;
}

/** What stands at, waits at and ended at one element. */
export interface ElementSnapshot {
  standing: ElementEntry[];
  waiting: ElementEntry[];
  /** The newest (up to 50) of the runs that ended here in the last hour, newest first. */
  ended: ElementEntry[];
  /** How many runs ended here in the last hour. */
  endedCount: number;
  /** The runs that ended here in the last hour, by reason (`-` for none). */
  endedByReason: Record<string, number>;
}

/** The process as it stands: its elements with anything at them. */
export interface ProcessSnapshot {
  process: string;
  /** Epoch ms of the snapshot. */
  at: number;
  elements: Record<string, ElementSnapshot>;
}

const HOUR = 3_600_000;
/** How many of an element's ended runs a snapshot lists (all are counted). */
const LISTED_ENDS = 50;

/** The runs of one diagram, as they move. */
export class ProcessActivity {
  readonly #process: string;
  readonly #now: () => number;
  readonly #keepMs: number;
  readonly #maxEnded: number;
  /** element → run id → entry. */
  readonly #standing = new Map<string, Map<string, ElementEntry>>();
  /** certificate → where it waits. */
  readonly #waiting = new Map<string, ElementEntry & { element: string }>();
  /** Oldest first. */
  #ended: (ElementEntry & { element: string })[] = [];

  /**
   * @param keepMs how long an ended run is shown (an hour)
   * @param maxEnded at most this many ended runs are kept, the oldest dropped first
   */
  constructor(process: string, now: () => number, keepMs = HOUR, maxEnded = 20_000) {
    this.#process = process;
    this.#now = now;
    this.#keepMs = keepMs;
    this.#maxEnded = maxEnded;
  }

  /** A run's token entered or left an element. */
  activity(event: ActivityEvent): void {
    if (event.phase === 'enter') {
      let runs = this.#standing.get(event.element);
      if (runs === undefined) this.#standing.set(event.element, (runs = new Map()));
      runs.set(event.run, { certificate: event.key, at: this.#now() });
      return;
    }
    const runs = this.#standing.get(event.element);
    runs?.delete(event.run);
    if (runs?.size === 0) this.#standing.delete(event.element);
  }

  /** A run of `certificate` ended at the end event `element`, for `reason`. */
  runEnded(certificate: string, element: string, reason?: string): void {
    this.#ended.push({ certificate, element, at: this.#now(), ...(reason !== undefined && { reason }) });
    if (this.#ended.length > this.#maxEnded) this.#ended = this.#ended.slice(-this.#maxEnded);
  }

  /** `certificate` waits at `element` for `what` (its Job) until {@link stopWaiting}. */
  wait(certificate: string, element: string, what: string): void {
    this.#waiting.set(certificate, { certificate, element, at: this.#now(), reason: what });
  }

  /** What `certificate` waits for, if it waits. */
  waitingFor(certificate: string): string | undefined {
    return this.#waiting.get(certificate)?.reason;
  }

  /** What `certificate` waited for has come (or it is no longer managed). */
  stopWaiting(certificate: string): void {
    this.#waiting.delete(certificate);
  }

  /** Forgets what stands and waits (the runs were stopped); the ended runs stay counted. */
  clear(): void {
    this.#standing.clear();
    this.#waiting.clear();
  }

  /** Where everything stands now. */
  snapshot(): ProcessSnapshot {
    const now = this.#now();
    const since = now - this.#keepMs;
    this.#ended = this.#ended.filter((entry) => entry.at >= since);
    const elements: Record<string, ElementSnapshot> = {};
    const at = (element: string) =>
      (elements[element] ??= { standing: [], waiting: [], ended: [], endedCount: 0, endedByReason: {} });
    for (const [element, runs] of this.#standing) at(element).standing.push(...runs.values());
    for (const { element, ...entry } of this.#waiting.values()) at(element).waiting.push(entry);
    for (let i = this.#ended.length - 1; i >= 0; i -= 1) {
      const { element, ...entry } = this.#ended[i]!;
      const snapshot = at(element);
      snapshot.endedCount += 1;
      if (snapshot.ended.length < LISTED_ENDS) snapshot.ended.push(entry);
      const reason = entry.reason ?? '-';
      snapshot.endedByReason[reason] = (snapshot.endedByReason[reason] ?? 0) + 1;
    }
    return { process: this.#process, at: now, elements };
  }
}
