/**
 * Slots for issuance Jobs: at most `limit` Jobs in flight (`LEGO_MAX_JOBS_IN_FLIGHT`), so that a burst of
 * Ingresses queues instead of starting hundreds of pods that the nodes, the API server or the CA cannot
 * take at once. Pure bookkeeping, fed by the operator:
 *
 * - a Job in flight is one the Job watch has seen and not yet seen finish or go, or a claim "Claim Job
 *   slot" made for a certificate whose Job the watch has not shown yet (a claim lapses after `claimMs`,
 *   should its launch never come: an error, a Job adopted instead);
 * - a certificate that finds no slot waits, once, in the order it came;
 * - each slot freed goes to the certificate that has waited longest: it is claimed for it on the spot (no
 *   newcomer takes it), and the operator sends it a "Job slot free" token;
 * - a run that held a claim and launched nothing gives it back ({@link release}).
 */

/** How long a claim holds a slot without its Job appearing in the watch. */
export const DEFAULT_CLAIM_MS = 60_000;

export class JobSlots {
  readonly #limit: number;
  readonly #claimMs: number;
  /** Jobs in flight seen by the watch: Job uid → certificate key. */
  readonly #jobs = new Map<string, string>();
  /** Claims not yet matched by a Job: certificate key → when claimed (epoch ms). */
  readonly #claims = new Map<string, number>();
  /** Certificates waiting for a slot, oldest first (a Set keeps insertion order). */
  readonly #waiting = new Set<string>();

  constructor(limit: number, claimMs = DEFAULT_CLAIM_MS) {
    this.#limit = limit;
    this.#claimMs = claimMs;
  }

  /** Jobs in flight, claims included. */
  get inFlight(): number {
    return this.#jobs.size + this.#claims.size;
  }

  /** Certificates waiting for a slot. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /**
   * A slot for `certificate`'s Job: true when it holds one already (a claim, or its Job in flight) or one is
   * free (then claimed); false when all are taken (it then waits its turn).
   */
  claim(certificate: string, now: number): boolean {
    this.#lapse(now);
    if (this.#claims.has(certificate)) {
      this.#claims.set(certificate, now);
      return true;
    }
    if ([...this.#jobs.values()].includes(certificate)) return true;
    const first = this.#waiting.values().next();
    if (this.inFlight < this.#limit && (first.done === true || first.value === certificate)) {
      this.#waiting.delete(certificate);
      this.#claims.set(certificate, now);
      return true;
    }
    this.#waiting.add(certificate);
    return false;
  }

  /** The watch shows Job `uid` of `certificate` in flight: it takes the certificate's claim, if any. */
  jobRunning(uid: string, certificate: string): void {
    if (this.#jobs.has(uid)) return;
    this.#claims.delete(certificate);
    this.#jobs.set(uid, certificate);
  }

  /**
   * Job `uid` has finished or is gone, or `certificate`'s run gave its claim back: the certificates that
   * now have a slot (claimed for them), for the operator to send "Job slot free".
   */
  jobEnded(uid: string, now: number): string[] {
    this.#jobs.delete(uid);
    return this.#handOut(now);
  }

  /** Gives back `certificate`'s claim (its run launched nothing); returns as {@link jobEnded}. */
  release(certificate: string, now: number): string[] {
    this.#claims.delete(certificate);
    return this.#handOut(now);
  }

  /** Lets lapsed claims go; returns as {@link jobEnded}. */
  due(now: number): string[] {
    return this.#handOut(now);
  }

  /** Forgets a certificate no Ingress claims any more; returns as {@link jobEnded}. */
  forget(certificate: string, now: number): string[] {
    this.#waiting.delete(certificate);
    return this.release(certificate, now);
  }

  /** Claims the free slots for the longest-waiting certificates and returns them. */
  #handOut(now: number): string[] {
    this.#lapse(now);
    const given: string[] = [];
    for (const certificate of this.#waiting) {
      if (this.inFlight >= this.#limit) break;
      this.#waiting.delete(certificate);
      this.#claims.set(certificate, now);
      given.push(certificate);
    }
    return given;
  }

  /** Drops the claims older than `claimMs`. */
  #lapse(now: number): void {
    for (const [certificate, at] of this.#claims) {
      if (now - at > this.#claimMs) this.#claims.delete(certificate);
    }
  }
}
