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

  /** Records an added or changed Ingress; returns its winning requests and its problems. */
  upsert(ingress: V1Ingress): Mapped {
    const uid = ingress.metadata?.uid ?? '';
    this.remove(uid);
    const mapped = requestsOfIngress(ingress, this.#settings);
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
      if (winner.ingress.uid === uid || winner.hosts.join(',') === request.hosts.join(',')) {
        if (winner.ingress.uid === uid) requests.push(request);
        continue;
      }
      problems.push({
        namespace: request.namespace,
        ingress: request.ingress.name,
        uid,
        reason: 'SecretConflict',
        message: `Secret ${request.secretName} is already claimed by Ingress ${winner.ingress.name} with hosts ${winner.hosts.join(', ')}: use another secretName`,
      });
    }
    return { requests, problems };
  }

  /** Forgets a deleted Ingress; returns the requests of other Ingresses that now win a freed Secret. */
  remove(uid: string): CertificateRequest[] {
    const keys = this.#keysByIngress.get(uid) ?? [];
    this.#keysByIngress.delete(uid);
    const promoted: CertificateRequest[] = [];
    for (const key of keys) {
      const claims = this.#claimsByKey.get(key);
      if (claims === undefined) continue;
      const hadWon = this.winner(key)?.ingress.uid === uid;
      claims.delete(uid);
      if (claims.size === 0) this.#claimsByKey.delete(key);
      else if (hadWon) promoted.push(this.winner(key)!);
    }
    return promoted;
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
