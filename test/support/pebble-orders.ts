/**
 * The ACME orders a CA holds for kube-lego's account, read the way RFC 8555 lets an account read them: the
 * account object's `orders` URL (§7.1.2.1), followed through its `Link: <...>; rel="next"` pages, and each
 * order POST-as-GET (§6.3) for its identifiers. The tests use it to count orders at Pebble per set of hosts,
 * which a log line cannot tell (Pebble logs "Added order ... to the db" without the hosts).
 *
 * The account is the one the cluster keeps: its key and URL are read from the account Secret
 * (src/kube/secret-account-store.ts), and requests are signed here with node's crypto, independently of the
 * acme-client code under test. Pebble leaves invalid orders out of the list (wfe.ListOrders), so a list
 * holds the pending, ready, processing and valid orders.
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { request } from 'node:https';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { ACCOUNT_KEYS } from '../../src/kube/secret-account-store.ts';

/** An order as the CA shows it, with its URL. */
export interface AcmeOrder {
  readonly url: string;
  readonly status: string;
  /** The identifier values (host names), sorted. */
  readonly hosts: readonly string[];
}

/** The account kept in the cluster: where its Secret is, and whom to trust for the CA's HTTPS. */
export interface AccountSource {
  readonly kube: KubeConfig;
  /** PEM of the CA of the ACME server's HTTPS certificate (Pebble's `caCertPem`). */
  readonly caPem: string;
  /** Namespace of the account Secret (`LEGO_NAMESPACE`). Default `kube-lego`. */
  readonly namespace?: string;
  /** Name of the account Secret (`LEGO_SECRET_NAME`). Default `kube-lego-account`. */
  readonly secretName?: string;
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

function send(url: string, caPem: string, method: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca: caPem,
        agent: false,
        headers: {
          'user-agent': 'kube-lego-tests',
          ...(body !== undefined && { 'content-type': 'application/jose+json' }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const base64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** The JWS algorithm of an account key, and how to sign with it (RFC 7518 §3.3, §3.4). */
function signerOf(key: KeyObject): { alg: string; sign(data: Buffer): Buffer } {
  if (key.asymmetricKeyType === 'rsa') return { alg: 'RS256', sign: (data) => sign('sha256', data, key) };
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const hash = { prime256v1: 'sha256', secp384r1: 'sha384', secp521r1: 'sha512' }[curve ?? ''];
  if (key.asymmetricKeyType !== 'ec' || hash === undefined)
    throw new Error(`account key of type ${key.asymmetricKeyType} ${curve ?? ''}: not supported here`);
  return {
    alg: `ES${hash.slice(3)}`,
    sign: (data) => sign(hash, data, { key, dsaEncoding: 'ieee-p1363' }),
  };
}

/** POST-as-GET requests signed with the account key, nonces taken from the previous answer. */
class AccountSession {
  readonly #caPem: string;
  readonly #accountUrl: string;
  readonly #signer: ReturnType<typeof signerOf>;
  readonly #newNonceUrl: string;
  #nonce: string | undefined;

  constructor(caPem: string, accountUrl: string, key: KeyObject, newNonceUrl: string) {
    this.#caPem = caPem;
    this.#accountUrl = accountUrl;
    this.#signer = signerOf(key);
    this.#newNonceUrl = newNonceUrl;
  }

  async #takeNonce(): Promise<string> {
    const nonce = this.#nonce ?? (await send(this.#newNonceUrl, this.#caPem, 'HEAD')).headers['replay-nonce'];
    this.#nonce = undefined;
    if (typeof nonce !== 'string') throw new Error(`${this.#newNonceUrl}: no Replay-Nonce`);
    return nonce;
  }

  /** POST-as-GET `url`: the answer of status 200, its body parsed. One retry after a badNonce error. */
  async get(url: string): Promise<{ body: unknown; headers: Answer['headers'] }> {
    for (let attempt = 1; ; attempt++) {
      const header = base64url(
        JSON.stringify({ alg: this.#signer.alg, kid: this.#accountUrl, nonce: await this.#takeNonce(), url }),
      );
      const payload = ''; // POST-as-GET: the empty payload
      const signature = base64url(this.#signer.sign(Buffer.from(`${header}.${payload}`)));
      const answer = await send(
        url,
        this.#caPem,
        'POST',
        JSON.stringify({ protected: header, payload, signature }),
      );
      const nonce = answer.headers['replay-nonce'];
      if (typeof nonce === 'string') this.#nonce = nonce;
      if (answer.status === 200) return { body: JSON.parse(answer.body), headers: answer.headers };
      if (attempt === 1 && answer.body.includes('urn:ietf:params:acme:error:badNonce')) continue;
      throw new Error(`POST-as-GET ${url}: HTTP ${answer.status}: ${answer.body}`);
    }
  }
}

/** The target of the `Link` header entry with relation `rel`, resolved against `base`. */
function linkOf(headers: Answer['headers'], rel: string, base: string): string | undefined {
  const values = headers['link'];
  for (const value of Array.isArray(values) ? values : values === undefined ? [] : [values]) {
    for (const entry of value.split(/,(?=\s*<)/)) {
      const match = /^\s*<([^>]*)>(.*)$/.exec(entry);
      if (match && new RegExp(`;\\s*rel="?${rel}"?(\\s*;|\\s*$)`).test(match[2]!))
        return new URL(match[1]!, base).href;
    }
  }
  return undefined;
}

/** An ACME account to sign requests as: what the account Secret holds. */
export interface AcmeAccount {
  readonly directoryUrl: string;
  readonly accountUrl: string;
  readonly accountKeyPem: string;
  /** PEM of the CA of the ACME server's HTTPS certificate (Pebble's `caCertPem`). */
  readonly caPem: string;
}

/** Every order the CA lists for `account` (all pages), with its status and hosts, in the CA's order. */
export async function listOrders(account: AcmeAccount): Promise<AcmeOrder[]> {
  const { directoryUrl, accountUrl, caPem } = account;
  const directory = await send(directoryUrl, caPem, 'GET');
  if (directory.status !== 200) throw new Error(`${directoryUrl}: HTTP ${directory.status}`);
  const { newNonce } = JSON.parse(directory.body) as { newNonce: string };
  const session = new AccountSession(caPem, accountUrl, createPrivateKey(account.accountKeyPem), newNonce);

  const { orders: first } = (await session.get(accountUrl)).body as { orders?: string };
  if (first === undefined) throw new Error(`account ${accountUrl} has no orders URL`);
  const urls: string[] = [];
  const pages = new Set<string>();
  for (let page: string | undefined = first; page !== undefined && !pages.has(page);) {
    pages.add(page);
    const { body, headers } = await session.get(page);
    urls.push(...(body as { orders: string[] }).orders);
    page = linkOf(headers, 'next', page);
  }
  const orders: AcmeOrder[] = [];
  for (const url of urls) {
    const order = (await session.get(url)).body as { status: string; identifiers: { value: string }[] };
    orders.push({ url, status: order.status, hosts: order.identifiers.map((id) => id.value).sort() });
  }
  return orders;
}

/** The account kept in the cluster's account Secret; throws when it is not registered yet. */
export async function clusterAccount(source: AccountSource): Promise<AcmeAccount> {
  const secret = await source.kube.makeApiClient(CoreV1Api).readNamespacedSecret({
    namespace: source.namespace ?? 'kube-lego',
    name: source.secretName ?? 'kube-lego-account',
  });
  const read = (key: string) => {
    const value = secret.data?.[key];
    if (value === undefined) throw new Error(`account Secret has no ${key}`);
    return Buffer.from(value, 'base64').toString();
  };
  return {
    directoryUrl: read(ACCOUNT_KEYS.directory),
    accountUrl: read(ACCOUNT_KEYS.url),
    accountKeyPem: read(ACCOUNT_KEYS.key),
    caPem: source.caPem,
  };
}

/** Every order the CA lists for the account kept in the cluster. */
export async function accountOrders(source: AccountSource): Promise<AcmeOrder[]> {
  return listOrders(await clusterAccount(source));
}

/** The orders of {@link accountOrders} whose identifiers are exactly `hosts` (in any order). */
export async function ordersFor(source: AccountSource, hosts: readonly string[]): Promise<AcmeOrder[]> {
  const wanted = [...hosts].sort().join(',');
  return (await accountOrders(source)).filter((order) => order.hosts.join(',') === wanted);
}
