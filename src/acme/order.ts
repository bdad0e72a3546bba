/**
 * The issuance steps of one certificate, each its own function so that the issuance diagram calls them one
 * by one (and a step that runs again on resume starts from what the previous one returned, which is plain
 * JSON): {@link createOrder}, then (with the responder and the self-check in between)
 * {@link answerChallenges}, then {@link finalizeOrder}.
 *
 * Polling is done by {@link pollUntil} (short intervals, `Retry-After` honoured) rather than with
 * acme-client's waitForValidStatus, whose back-off waits at least 5 s.
 *
 * Every refusal of the CA (an order for a name it will not issue for, a failed validation, a rejected CSR)
 * becomes an {@link AcmeError} whose message names the step, the hosts and the CA's problem detail.
 */
import { X509Certificate } from 'node:crypto';
import { crypto as acmeCrypto, type Authorization, type Client, type Order } from 'acme-client';
import { AcmeError, messageOf, type AcmeStep } from './errors.ts';
import { pollUntil, type PollOptions } from './poll.ts';
import { explainFailures, retryAfterMs } from './transport.ts';

/** Polling options and defaults of the steps, re-exported from `poll.ts` for callers of the steps. */
export { DEFAULT_POLL, type PollOptions } from './poll.ts';

/** One host's HTTP-01 challenge, with what to publish for it. Plain JSON. */
export interface HttpChallenge {
  /** The host (the authorization's identifier). */
  host: string;
  /** URL of the authorization to poll. */
  authorizationUrl: string;
  /** URL to post to when the response is published. */
  challengeUrl: string;
  /** The token: the last segment of the challenge URL path the CA fetches. */
  token: string;
  /** What the responder must answer for the token. Not secret (token and account key thumbprint). */
  keyAuthorization: string;
}

/** A new order and the challenges that must be answered before it can be finalized. Plain JSON. */
export interface CreatedOrder {
  /** The order as the CA returned it (with its URL). */
  order: Order;
  /** One per authorization still pending; in the order of the order's authorizations. */
  challenges: HttpChallenge[];
  /** Hosts whose authorization the CA already holds as valid (reused); nothing to publish for them. */
  alreadyValid: string[];
  /** Why the CA refused the order as a replacement (`replaces`), when it did: it was ordered without. */
  replacementRefused?: string;
}

/** Options of {@link createOrder}. */
export interface CreateOrderOptions {
  /** ACME certificate profile (Let's Encrypt: `classic`, `tlsserver`, `shortlived`), if the CA has them. */
  profile?: string;
  /**
   * The ARI identifier of the certificate the order replaces (RFC 9773 `replaces`). A CA that refuses it
   * (already replaced, another account's, or a CA bug) is asked again without it: a renewal is never lost to
   * the hint.
   */
  replaces?: string;
}

/** An issued certificate. Plain JSON apart from the dates. */
export interface IssuedChain {
  /** The leaf, then the rest of the chain, PEM: what `tls.crt` holds. */
  chainPem: string;
  /** The leaf alone, PEM. */
  leafPem: string;
  /** The leaf's validity. */
  notBefore: Date;
  notAfter: Date;
  /** URL the certificate was downloaded from. */
  certificateUrl: string;
}

type Problem = { type?: unknown; detail?: unknown; subproblems?: unknown };

/** "connection: Connection refused" from an RFC 7807 problem document. */
export function describeProblem(problem: unknown): string {
  if (typeof problem !== 'object' || problem === null) return 'no problem detail given';
  const { type, detail, subproblems } = problem as Problem;
  const kind = typeof type === 'string' ? type.replace(/^urn:ietf:params:acme:error:/, '') : undefined;
  let text = [kind, typeof detail === 'string' ? detail : undefined].filter(Boolean).join(': ');
  if (Array.isArray(subproblems) && subproblems.length > 0) {
    text += ` (${subproblems.map((sub) => describeProblem(sub)).join('; ')})`;
  }
  return text || JSON.stringify(problem);
}

const hostList = (hosts: readonly string[]) => hosts.join(', ');

/** Runs a call to the CA, turning its failure into an AcmeError that says what was being done. */
async function step<T>(
  name: AcmeStep,
  hosts: readonly string[],
  doing: string,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await explainFailures(call);
  } catch (error) {
    if (error instanceof AcmeError) throw error;
    throw new AcmeError(name, hosts, `${doing} failed: ${messageOf(error)}`, { cause: error });
  }
}

/** Reads one authorization (acme-client reads them per order; this asks for one URL). */
async function readAuthorization(client: Client, url: string): Promise<Authorization> {
  const [authorization] = await client.getAuthorizations({ authorizations: [url] } as Order);
  if (!authorization) throw new Error(`the CA returned nothing for authorization ${url}`);
  return authorization;
}

/**
 * Asks the CA for an order for `hosts` (DNS identifiers, in this order), reads its authorizations, and
 * returns the HTTP-01 challenge and key authorization of each pending one. Throws an AcmeError when the CA
 * refuses the order (its detail in the message), an authorization is neither pending nor valid, or the CA
 * offers no http-01 challenge for a host.
 */
export async function createOrder(
  client: Client,
  hosts: readonly string[],
  options: CreateOrderOptions = {},
): Promise<CreatedOrder> {
  if (hosts.length === 0) throw new AcmeError('createOrder', hosts, 'an order needs at least one host');
  const request: Parameters<Client['createOrder']>[0] & { profile?: string; replaces?: string } = {
    identifiers: hosts.map((value) => ({ type: 'dns', value })),
    ...(options.profile !== undefined && { profile: options.profile }),
  };
  const doing = `creating the order for ${hostList(hosts)}`;
  let order: Order;
  let replacementRefused: string | undefined;
  if (options.replaces === undefined) {
    order = await step('createOrder', hosts, doing, () => client.createOrder(request));
  } else {
    const replacing = { ...request, replaces: options.replaces };
    try {
      order = await step('createOrder', hosts, `${doing} as a replacement`, () =>
        client.createOrder(replacing),
      );
    } catch (error) {
      replacementRefused = messageOf(error);
      order = await step('createOrder', hosts, doing, () => client.createOrder(request));
    }
  }
  const authorizations = await step('createOrder', hosts, `reading the authorizations of ${order.url}`, () =>
    client.getAuthorizations(order),
  );
  const challenges: HttpChallenge[] = [];
  const alreadyValid: string[] = [];
  for (const authorization of authorizations) {
    const host = authorization.identifier.value;
    if (authorization.status === 'valid') {
      alreadyValid.push(host);
      continue;
    }
    if (authorization.status !== 'pending') {
      throw new AcmeError('createOrder', hosts, `the authorization of ${host} is ${authorization.status}`);
    }
    const challenge = authorization.challenges.find((c) => c.type === 'http-01');
    if (challenge === undefined || !('token' in challenge)) {
      const offered = authorization.challenges.map((c) => c.type).join(', ') || 'none';
      throw new AcmeError(
        'createOrder',
        hosts,
        `the CA offers no http-01 challenge for ${host} (offered: ${offered})`,
      );
    }
    challenges.push({
      host,
      authorizationUrl: authorization.url,
      challengeUrl: challenge.url,
      token: challenge.token,
      keyAuthorization: await client.getChallengeKeyAuthorization(challenge),
    });
  }
  return {
    order,
    challenges,
    alreadyValid,
    ...(replacementRefused !== undefined && { replacementRefused }),
  };
}

/**
 * Tells the CA that each challenge's response is published, then polls each authorization until it is
 * valid or invalid. Resolves when all are valid; otherwise, once all have settled, throws an AcmeError
 * naming every host that failed with the CA's problem detail (for example what it fetched instead of the key
 * authorization, or why it could not connect).
 */
export async function answerChallenges(
  client: Client,
  challenges: readonly HttpChallenge[],
  poll: PollOptions = {},
): Promise<void> {
  const hosts = challenges.map((c) => c.host);
  const answer = async (challenge: HttpChallenge): Promise<string | undefined> => {
    const { host } = challenge;
    const answered = await step('answerChallenges', hosts, `answering the challenge of ${host}`, () =>
      client.completeChallenge({
        type: 'http-01',
        url: challenge.challengeUrl,
        status: 'pending',
        token: challenge.token,
      }),
    );
    const authorization = await pollUntil(
      () =>
        step('answerChallenges', hosts, `reading the authorization of ${host}`, () =>
          readAuthorization(client, challenge.authorizationUrl),
        ),
      (a) => a.status !== 'pending',
      poll,
      () => new AcmeError('answerChallenges', hosts, `the CA did not finish validating ${host} in time`),
      { retryAfterMs: retryAfterMs(answered) },
    );
    if (authorization.status === 'valid') return undefined;
    const failed = authorization.challenges.find((c) => c.type === 'http-01' && c.status === 'invalid');
    const problem = failed?.error ?? (authorization as { error?: unknown }).error;
    return `${host}: the authorization is ${authorization.status}: ${describeProblem(problem)}`;
  };
  const results = await Promise.allSettled(challenges.map(answer));
  const failures: string[] = [];
  for (const result of results) {
    if (result.status === 'rejected') failures.push(messageOf(result.reason));
    else if (result.value !== undefined) failures.push(result.value);
  }
  if (failures.length > 0) {
    throw new AcmeError('answerChallenges', hosts, `the CA could not validate: ${failures.join('; ')}`);
  }
}

/**
 * Waits until the order is ready, finalizes it with `csrPem`, polls it until the certificate is issued and
 * downloads the chain (leaf first). `preferredChain` picks an alternate chain by its issuer's common name.
 * Throws an AcmeError with the CA's detail when the order becomes invalid or the CSR is refused.
 */
export async function finalizeOrder(
  client: Client,
  order: Order,
  csrPem: string,
  options: PollOptions & { preferredChain?: string } = {},
): Promise<IssuedChain> {
  const hosts = order.identifiers.map((identifier) => identifier.value);
  const read = () =>
    step('finalizeOrder', hosts, `reading the order ${order.url}`, () => client.getOrder(order));
  const timeout = (what: string) => () =>
    new AcmeError('finalizeOrder', hosts, `the order for ${hostList(hosts)} did not become ${what} in time`);
  const invalid = (current: Order) =>
    new AcmeError(
      'finalizeOrder',
      hosts,
      `the order for ${hostList(hosts)} is invalid: ${describeProblem(current.error)}`,
    );

  // Read at once: after answerChallenges the order is usually ready already.
  const fresh = await read();
  let current = await pollUntil(read, (o) => o.status !== 'pending', options, timeout('ready'), {
    current: fresh,
  });
  if (current.status === 'invalid') throw invalid(current);
  if (current.status === 'ready') {
    current = await step('finalizeOrder', hosts, `finalizing the order for ${hostList(hosts)}`, () =>
      client.finalizeOrder(current, csrPem),
    );
  }
  const finalized = current;
  current = await pollUntil(read, (o) => o.status !== 'processing', options, timeout('valid'), {
    current: finalized,
  });
  if (current.status !== 'valid') {
    if (current.status === 'invalid') throw invalid(current);
    throw new AcmeError(
      'finalizeOrder',
      hosts,
      `the order for ${hostList(hosts)} is ${current.status} after finalizing`,
    );
  }
  const valid = current;
  const chainPem = await step('finalizeOrder', hosts, `downloading the certificate of ${order.url}`, () =>
    client.getCertificate(valid, options.preferredChain),
  );
  const [leafPem] = acmeCrypto.splitPemChain(chainPem);
  if (leafPem === undefined) throw new AcmeError('finalizeOrder', hosts, 'the CA returned no certificate');
  const leaf = new X509Certificate(leafPem);
  return {
    chainPem: chainPem.endsWith('\n') ? chainPem : `${chainPem}\n`,
    leafPem,
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    certificateUrl: valid.certificate ?? '',
  };
}
