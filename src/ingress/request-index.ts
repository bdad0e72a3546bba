/**
 * The annotated Ingresses the operator knows, indexed by the Secret each `spec.tls` entry names, so
 * that a conflict (two Ingresses of a namespace naming one Secret with different hosts) is settled
 * the same way whichever Ingress changes: the oldest Ingress keeps the Secret.
 */
import type { V1Ingress } from '@kubernetes/client-node';
import {
  requestsOfIngress,
  type CertificateRequest,
  type IngressProblem,
  type Mapped,
  type RequestSettings,
} from './requests.ts';

interface Claim {
  request: CertificateRequest;
  /** creationTimestamp then name: the older claim wins. */
  age: string;
}

function ageOf(ingress: V1Ingress): string {
  const created = ingress.metadata?.creationTimestamp;
  return `${created ? new Date(created).toISOString() : ''}/${ingress.metadata?.name ?? ''}`;
}

function sameHosts(a: CertificateRequest, b: CertificateRequest): boolean {
  return a.hosts.join(',') === b.hosts.join(',');
}

/** The problem of an Ingress whose entry names a Secret another, older, Ingress owns. */
function conflict(loser: CertificateRequest, owner: CertificateRequest): IngressProblem {
  return {
    namespace: loser.namespace,
    ingress: loser.ingress.name,
    uid: loser.ingress.uid,
    reason: 'SecretConflict',
    message:
      `Secret ${loser.secretName} is already claimed by Ingress ${owner.ingress.name} ` +
      `with hosts ${owner.hosts.join(', ')}: use another secretName`,
  };
}

/** Annotated Ingresses by uid, and their claims on Secrets by certificate key. */
export class RequestIndex {
  readonly #settings: RequestSettings;
  readonly #claimsByKey = new Map<string, Map<string, Claim>>();
  readonly #keysByIngress = new Map<string, string[]>();

  constructor(settings: RequestSettings) {
    this.#settings = settings;
  }

  /** Number of certificate keys claimed. */
  get size(): number {
    return this.#claimsByKey.size;
  }

  /**
   * Records an added or changed Ingress. Returns the requests to check now: its winning ones, and those
   * of other Ingresses that now win a Secret it gave up. Returns the problems: its own, and a
   * SecretConflict for each Ingress it displaced as owner of a Secret (an older Ingress seen after a
   * newer one, as happens on the initial list), since that Ingress is not told otherwise.
   */
  upsert(ingress: V1Ingress): Mapped {
    const uid = ingress.metadata?.uid ?? '';
    const mapped = requestsOfIngress(ingress, this.#settings);
    const touched = new Set([...(this.#keysByIngress.get(uid) ?? []), ...mapped.requests.map((r) => r.key)]);
    const before = new Map([...touched].map((key) => [key, this.winner(key)]));
    this.#forget(uid);
    const age = ageOf(ingress);
    for (const request of mapped.requests) {
      let claims = this.#claimsByKey.get(request.key);
      if (claims === undefined) this.#claimsByKey.set(request.key, (claims = new Map()));
      claims.set(uid, { request, age });
    }
    this.#keysByIngress.set(
      uid,
      mapped.requests.map((request) => request.key),
    );
    const requests: CertificateRequest[] = [];
    const problems: IngressProblem[] = [...mapped.problems];
    for (const request of mapped.requests) {
      const winner = this.winner(request.key)!;
      if (winner.ingress.uid === uid) requests.push(request);
      else if (!sameHosts(winner, request)) problems.push(conflict(request, winner));
    }
    for (const [key, previous] of before) {
      const winner = this.winner(key);
      if (previous === undefined || winner === undefined) continue;
      if (previous.ingress.uid === winner.ingress.uid) continue;
      if (previous.ingress.uid === uid) requests.push(winner);
      else if (winner.ingress.uid === uid && !sameHosts(winner, previous)) {
        problems.push(conflict(previous, winner));
      }
    }
    return { requests, problems };
  }

  /** Forgets a deleted Ingress; returns the requests of other Ingresses that now win a freed Secret. */
  remove(uid: string): CertificateRequest[] {
    const keys = this.#keysByIngress.get(uid) ?? [];
    const hadWon = keys.filter((key) => this.winner(key)?.ingress.uid === uid);
    this.#forget(uid);
    return hadWon.map((key) => this.winner(key)).filter((request) => request !== undefined);
  }

  /** Drops an Ingress's claims. */
  #forget(uid: string): void {
    for (const key of this.#keysByIngress.get(uid) ?? []) {
      const claims = this.#claimsByKey.get(key);
      claims?.delete(uid);
      if (claims?.size === 0) this.#claimsByKey.delete(key);
    }
    this.#keysByIngress.delete(uid);
  }

  /** The request that owns a certificate key: the oldest claim. */
  winner(key: string): CertificateRequest | undefined {
    let best: Claim | undefined;
    for (const claim of this.#claimsByKey.get(key)?.values() ?? []) {
      if (best === undefined || claim.age < best.age) best = claim;
    }
    return best?.request;
  }

  /** Every winning request: one per certificate key, for the periodic check. */
  *requests(): IterableIterator<CertificateRequest> {
    for (const key of this.#claimsByKey.keys()) yield this.winner(key)!;
  }
}
