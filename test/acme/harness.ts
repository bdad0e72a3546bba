/**
 * The ACME tests' world: a real Pebble (with challtestsrv as its DNS, answering the responder's address for
 * every name), the challenge responder on a loopback address of its own at the port Pebble validates on, and the issuance steps chained the
 * way the issuance Job chains them. Plus the checks every issued chain must pass.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { ensureAccount, type AccountStore, type EnsuredAccount } from '../../src/acme/account.ts';
import { startChallengeResponder, type ChallengeResponder } from '../../src/acme/challenge-responder.ts';
import { createKeyAndCsr, type KeyOptions } from '../../src/acme/keys.ts';
import { answerChallenges, createOrder, finalizeOrder, type IssuedChain } from '../../src/acme/order.ts';
import { dnsResolver, selfCheck, type HostResolver } from '../../src/acme/self-check.ts';
import { HTTP01_PORT, startPebble, type Pebble, type PebbleOptions } from '../support/pebble.ts';
import { claimAddress } from '../support/loopback.ts';

/** Self-check back-off for tests: quick, and short enough that a failure is reported in well under 1 s. */
export const TEST_BACKOFF = { initialIntervalMs: 20, multiplier: 2, maxElapsedMs: 300 };

/** A running Pebble, responder and resolver. */
export interface AcmeWorld {
  pebble: Pebble;
  responder: ChallengeResponder;
  /** The responder's loopback address, this world's own: every name resolves to it. */
  address: string;
  /** Port of the responder, which is Pebble's httpPort. */
  port: number;
  /** Resolves through challtestsrv's DNS only. */
  resolve: HostResolver;
  /** The account for this Pebble in `store`. */
  account(store: AccountStore): Promise<EnsuredAccount>;
  /** Runs every issuance step for `hosts` with the account of `store`; times each step. */
  issue(
    store: AccountStore,
    hosts: readonly string[],
    options?: { keys?: KeyOptions; profile?: string; replaces?: string },
  ): Promise<Issued>;
  stop(): Promise<void>;
}

/** What {@link AcmeWorld.issue} made. */
export interface Issued extends IssuedChain {
  keyPem: string;
  accountUrl: string;
  /** Milliseconds from start to the end of each step. */
  marks: Record<'account' | 'order' | 'selfCheck' | 'validated' | 'issued', number>;
  /** Why the CA refused the order as a replacement, when `replaces` was given and it did. */
  replacementRefused?: string;
}

/** Starts Pebble (more options: `pebble`) validating on a responder at an address of this world's own. */
export async function startAcmeWorld(options: { pebble?: PebbleOptions } = {}): Promise<AcmeWorld> {
  const { address, release } = await claimAddress();
  const port = HTTP01_PORT;
  let responder: ChallengeResponder | undefined;
  let pebble: Pebble;
  try {
    responder = await startChallengeResponder({ host: address, port });
    pebble = await startPebble({
      authzReuse: false,
      ...options.pebble,
      challengeAddress: address,
      httpPort: port,
    });
  } catch (error) {
    await responder?.close();
    await release();
    throw error;
  }
  const resolve = dnsResolver([pebble.dnsServer]);
  const account = (store: AccountStore) =>
    ensureAccount(store, {
      directoryUrl: pebble.directoryUrl,
      caPem: pebble.caCertPem,
      email: 'ops@example.test',
    });
  return {
    pebble,
    responder,
    address,
    port,
    resolve,
    account,
    async issue(store, hosts, { keys, profile, replaces } = {}) {
      const started = performance.now();
      const since = () => Math.round(performance.now() - started);
      const keyAndCsr = createKeyAndCsr(hosts, keys);
      const { client, account: stored } = await account(store);
      const marks = { account: since() } as Issued['marks'];
      const created = await createOrder(client, hosts, {
        ...(profile !== undefined && { profile }),
        ...(replaces !== undefined && { replaces }),
      });
      marks.order = since();
      for (const challenge of created.challenges) responder.set(challenge.token, challenge.keyAuthorization);
      try {
        await selfCheck(created.challenges, { port, resolve, backoff: TEST_BACKOFF });
        marks.selfCheck = since();
        await answerChallenges(client, created.challenges);
        marks.validated = since();
      } finally {
        for (const challenge of created.challenges) responder.remove(challenge.token);
      }
      const { keyPem, csrPem } = await keyAndCsr;
      const chain = await finalizeOrder(client, created.order, csrPem);
      marks.issued = since();
      return {
        ...chain,
        keyPem,
        accountUrl: stored.accountUrl ?? '',
        marks,
        ...(created.replacementRefused !== undefined && { replacementRefused: created.replacementRefused }),
      };
    },
    async stop() {
      await Promise.allSettled([responder.close(), pebble.stop()]);
      await release();
    },
  };
}

/** The certificates of a PEM bundle, in order. */
export function certificatesOf(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (block) => new X509Certificate(block),
  );
}

/** The DNS names of a certificate's subjectAltName, sorted. */
export function dnsNamesOf(certificate: X509Certificate): string[] {
  return (certificate.subjectAltName ?? '')
    .split(', ')
    .filter((name) => name.startsWith('DNS:'))
    .map((name) => name.slice(4))
    .sort();
}

/**
 * Asserts what every issued certificate must be: a chain from the leaf up that verifies link by link and
 * ends at `rootPem`, a leaf for exactly `hosts`, valid now, and a leaf that matches `keyPem`.
 */
export function assertIssued(
  issued: { chainPem: string; keyPem: string },
  hosts: readonly string[],
  rootPem: string,
) {
  const chain = certificatesOf(issued.chainPem);
  assert.ok(chain.length >= 2, `leaf and chain expected, got ${chain.length} certificate(s)`);
  const root = new X509Certificate(rootPem);
  const path = [...chain, root];
  for (let i = 0; i + 1 < path.length; i++) {
    const [child, parent] = [path[i]!, path[i + 1]!];
    assert.ok(
      child.checkIssued(parent),
      `certificate ${i} (${child.subject}) is not issued by ${parent.subject}`,
    );
    assert.ok(child.verify(parent.publicKey), `signature of certificate ${i} does not verify`);
  }
  const leaf = chain[0]!;
  assert.equal(leaf.ca, false);
  assert.deepEqual(dnsNamesOf(leaf), [...hosts].sort(), 'the leaf covers exactly the hosts');
  const now = Date.now();
  assert.ok(Date.parse(leaf.validFrom) <= now && now < Date.parse(leaf.validTo), 'the leaf is valid now');
  assert.ok(leaf.checkPrivateKey(createPrivateKey(issued.keyPem)), 'the leaf matches the private key');
}
