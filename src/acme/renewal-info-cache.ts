/**
 * What the CA last said of each certificate's renewal window, and when to ask it again: the operator asks
 * about a certificate only when its last answer's `Retry-After` has passed (src/certificate/
 * renewal-information.ts), however often the certificate is checked.
 *
 * Kept in memory, by certificate identifier: a restart or a new leader asks once more for each certificate
 * (one small GET each, spread over the initial check's runs), which also picks up any window the CA moved
 * meanwhile. Entries of certificates no longer checked (replaced, their Ingress gone) are dropped after
 * three days.
 */
import {
  nextRenewalInfoAsk,
  renewalTimeInWindow,
  type RenewalWindow,
} from '../certificate/renewal-information.ts';
import { RenewalInfoError, type RenewalInfoSource } from './renewal-info.ts';

/** When the CA's window says a certificate is to be renewed. */
export interface CaRenewalTime {
  /** The certificate's point of the window, or the time it was asked at when the window has passed. */
  renewAt: number;
  window: RenewalWindow;
  explanationUrl?: string;
}

/** The result of {@link RenewalInfoCache.refresh}. */
export interface RenewalInfoLookup {
  /** Undefined when the CA offers no renewal information, or has not answered for this certificate yet. */
  renewal: CaRenewalTime | undefined;
  /** Whether the CA was asked now (its last answer's `Retry-After` had passed). */
  asked: boolean;
  /** Why the ask failed, when it did: the last window known, if any, stays in force. */
  error?: string;
}

interface Entry {
  window?: RenewalWindow;
  explanationUrl?: string;
  nextAskAt: number;
  usedAt: number;
}

const FORGET_AFTER_MS = 3 * 86_400_000;
const SWEEP_EVERY_MS = 3_600_000;

/** The renewal windows the CA gave, by certificate identifier. */
export class RenewalInfoCache {
  readonly #source: RenewalInfoSource;
  readonly #entries = new Map<string, Entry>();
  readonly #asking = new Map<string, Promise<RenewalInfoLookup>>();
  #sweptAt = 0;

  constructor(source: RenewalInfoSource) {
    this.#source = source;
  }

  /** The renewal time the CA's last known window gives, without asking; undefined when none is known. */
  known(certificateId: string, now: number): CaRenewalTime | undefined {
    const entry = this.#entries.get(certificateId);
    if (entry === undefined) return undefined;
    entry.usedAt = now;
    return this.#renewalOf(certificateId, entry, now);
  }

  /** Asks the CA when its last answer's `Retry-After` has passed, and gives the renewal time in force. */
  async refresh(certificateId: string, now: number): Promise<RenewalInfoLookup> {
    this.#sweep(now);
    const entry = this.#entries.get(certificateId);
    if (entry !== undefined && now < entry.nextAskAt) {
      entry.usedAt = now;
      return { renewal: this.#renewalOf(certificateId, entry, now), asked: false };
    }
    const pending = this.#asking.get(certificateId);
    if (pending !== undefined) return pending;
    const asking = this.#ask(certificateId, entry, now).finally(() => this.#asking.delete(certificateId));
    this.#asking.set(certificateId, asking);
    return asking;
  }

  /** How many certificates it holds windows or ask times for. */
  get size(): number {
    return this.#entries.size;
  }

  async #ask(certificateId: string, previous: Entry | undefined, now: number): Promise<RenewalInfoLookup> {
    try {
      const answer = await this.#source.ask(certificateId);
      const entry: Entry = {
        ...(answer !== undefined && { window: answer.window }),
        ...(answer?.explanationUrl !== undefined && { explanationUrl: answer.explanationUrl }),
        nextAskAt: nextRenewalInfoAsk(now, {
          answered: true,
          ...(answer?.retryAfterMs !== undefined && { retryAfterMs: answer.retryAfterMs }),
        }),
        usedAt: now,
      };
      this.#entries.set(certificateId, entry);
      return { renewal: this.#renewalOf(certificateId, entry, now), asked: true };
    } catch (error) {
      const failure = error instanceof RenewalInfoError ? error : undefined;
      const entry: Entry = {
        ...(previous?.window !== undefined && { window: previous.window }),
        ...(previous?.explanationUrl !== undefined && { explanationUrl: previous.explanationUrl }),
        nextAskAt: nextRenewalInfoAsk(now, {
          answered: false,
          ...(failure?.status !== undefined && { status: failure.status }),
          ...(failure?.retryAfterMs !== undefined && { retryAfterMs: failure.retryAfterMs }),
        }),
        usedAt: now,
      };
      this.#entries.set(certificateId, entry);
      return {
        renewal: this.#renewalOf(certificateId, entry, now),
        asked: true,
        error: (error as Error).message,
      };
    }
  }

  #renewalOf(certificateId: string, entry: Entry, now: number): CaRenewalTime | undefined {
    if (entry.window === undefined) return undefined;
    return {
      renewAt: renewalTimeInWindow(entry.window, certificateId, now),
      window: entry.window,
      ...(entry.explanationUrl !== undefined && { explanationUrl: entry.explanationUrl }),
    };
  }

  #sweep(now: number): void {
    if (now - this.#sweptAt < SWEEP_EVERY_MS) return;
    this.#sweptAt = now;
    for (const [certificateId, entry] of this.#entries) {
      if (now - entry.usedAt > FORGET_AFTER_MS) this.#entries.delete(certificateId);
    }
  }
}
