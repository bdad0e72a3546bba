/**
 * The status of every certificate the operator manages, kept from the runs' ends (src/view/
 * certificate-status.ts) and the Events kube-lego wrote on their Ingresses, for the process view's table and
 * `/api/certificates`.
 */
import {
  describeState,
  nextStatus,
  type CertificateIdentity,
  type CertificateStatus,
  type LastEvent,
  type RunFacts,
} from './certificate-status.ts';

/** The certificates' statuses, by key. */
export class CertificateBook {
  readonly #now: () => number;
  readonly #rows = new Map<string, CertificateStatus>();
  /** The last Event kube-lego wrote on each Ingress (`namespace/name`). */
  readonly #events = new Map<string, LastEvent>();

  constructor(now: () => number) {
    this.#now = now;
  }

  /** A run of the certificate ended with `facts`. */
  runEnded(identity: CertificateIdentity, facts: RunFacts): void {
    const key = `${identity.namespace}/${identity.secret}`;
    this.#rows.set(key, nextStatus(this.#rows.get(key), identity, facts, this.#now()));
  }

  /** kube-lego wrote an Event on the Ingress `namespace/name`. */
  eventRecorded(ingress: string, event: Omit<LastEvent, 'at'>): void {
    this.#events.set(ingress, { ...event, at: this.#now() });
  }

  /** No Ingress claims the certificate any more. */
  forget(certificate: string): void {
    const row = this.#rows.get(certificate);
    this.#rows.delete(certificate);
    if (row !== undefined && ![...this.#rows.values()].some((other) => other.ingress === row.ingress)) {
      this.#events.delete(row.ingress);
    }
  }

  /** Forgets every certificate and Event. */
  clear(): void {
    this.#rows.clear();
    this.#events.clear();
  }

  /** Every certificate's status, by key, with its Ingress's last Event and its state in words. */
  list(): (CertificateStatus & { stateText: string })[] {
    return [...this.#rows.values()]
      .sort((a, b) => a.certificate.localeCompare(b.certificate))
      .map((row) => {
        const lastEvent = this.#events.get(row.ingress);
        return { ...row, ...(lastEvent !== undefined && { lastEvent }), stateText: describeState(row) };
      });
  }
}
