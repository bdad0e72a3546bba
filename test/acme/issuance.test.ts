// Issuance against a real Pebble: the steps of the issuance Job, one by one, give certificates that chain to
// Pebble's root, cover exactly the hosts and match their keys; the account is kept, reused, replaced when
// the directory changes, and registered once however many Jobs start at once; failures say what failed.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { AcmeError } from '../../src/acme/errors.ts';
import { MemoryAccountStore } from '../../src/acme/memory-account-store.ts';
import { answerChallenges, createOrder } from '../../src/acme/order.ts';
import { SelfCheckError, selfCheck } from '../../src/acme/self-check.ts';
import { assertIssued, startAcmeWorld, TEST_BACKOFF, type AcmeWorld } from './harness.ts';

let world: AcmeWorld;
let root: string;
before(async () => {
  world = await startAcmeWorld();
  root = await world.pebble.issuingRootPem();
});
after(async () => {
  await world?.stop();
});

describe('issuance', () => {
  test('one host: an RSA 2048 key (the default) and a chain to Pebble’s root', async (t) => {
    const issued = await world.issue(new MemoryAccountStore(), ['shop.example.test']);
    assertIssued(issued, ['shop.example.test'], root);
    const key = new X509Certificate(issued.leafPem).publicKey;
    assert.equal(key.asymmetricKeyType, 'rsa');
    assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
    assert.match(issued.chainPem, /^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
    t.diagnostic(`one host, ms since start: ${JSON.stringify(issued.marks)}`);
  });

  test('several hosts: one certificate for all of them (an ECDSA key this time)', async (t) => {
    const hosts = ['www.shop.test', 'shop.test', 'api.shop.test'];
    const issued = await world.issue(new MemoryAccountStore(), hosts, { keys: { type: 'ecdsa' } });
    assertIssued(issued, hosts, root);
    const leaf = new X509Certificate(issued.leafPem);
    assert.equal(leaf.publicKey.asymmetricKeyType, 'ec');
    t.diagnostic(`three hosts, ms since start: ${JSON.stringify(issued.marks)}`);
  });

  test('ten hosts', async (t) => {
    const hosts = Array.from({ length: 10 }, (_, i) => `h${i}.ten.test`);
    const issued = await world.issue(new MemoryAccountStore(), hosts);
    assertIssued(issued, hosts, root);
    t.diagnostic(`ten hosts, ms since start: ${JSON.stringify(issued.marks)}`);
  });

  test('a certificate profile the CA offers decides the lifetime', async () => {
    const issued = await world.issue(new MemoryAccountStore(), ['short.test'], { profile: 'shortlived' });
    assertIssued(issued, ['short.test'], root);
    const days = (issued.notAfter.getTime() - issued.notBefore.getTime()) / 86_400_000;
    assert.ok(days > 5.9 && days < 6.1, `a 6-day certificate, got ${days} days`);
  });
});

describe('the account', () => {
  test('is created on first use, then reused by the next issuance without a write', async () => {
    const store = new MemoryAccountStore();
    const first = await world.issue(store, ['first.reuse.test']);
    const stored = store.current;
    assert.ok(stored);
    assert.equal(stored.directoryUrl, world.pebble.directoryUrl);
    assert.equal(stored.accountUrl, first.accountUrl);
    assert.equal(stored.email, 'ops@example.test');
    assert.ok(first.accountUrl.startsWith(`${new URL(world.pebble.directoryUrl).origin}/my-account/`));
    assert.equal(store.writes, 2, 'the key first, then the account URL');
    const second = await world.issue(store, ['second.reuse.test']);
    assertIssued(second, ['second.reuse.test'], root);
    assert.equal(second.accountUrl, first.accountUrl);
    assert.deepEqual(store.current, stored);
    assert.equal(store.writes, 2, 'nothing written for the second issuance');
  });

  test('concurrent Jobs sharing one store register one account', async () => {
    const store = new MemoryAccountStore();
    const results = await Promise.all(Array.from({ length: 6 }, () => world.account(store)));
    const urls = new Set(results.map((r) => r.account.accountUrl));
    const keys = new Set(results.map((r) => r.account.accountKeyPem));
    assert.equal(urls.size, 1, `one account URL, got ${[...urls].join(', ')}`);
    assert.equal(keys.size, 1, 'one account key');
    assert.equal(store.current?.accountUrl, [...urls][0]);
    assert.equal(store.writes, 2, 'one key record created, one URL stored');
    assert.ok(store.conflicts >= 5, `the other five lost their create, got ${store.conflicts} conflicts`);
    // Every client of them works.
    const orders = await Promise.all(results.map((r, i) => createOrder(r.client, [`c${i}.concurrent.test`])));
    assert.equal(orders.length, 6);
  });

  test('a record from elsewhere (no directory, damaged key) is replaced by a new account', async () => {
    const store = new MemoryAccountStore({ directoryUrl: '', accountKeyPem: 'not a key' });
    const { account } = await world.account(store);
    assert.equal(account.directoryUrl, world.pebble.directoryUrl);
    assert.match(account.accountKeyPem, /^-----BEGIN PRIVATE KEY-----/);
    assert.deepEqual(store.current, account);
  });

  test('another directory URL registers a new account by itself, replacing the stored one', async (t) => {
    const store = new MemoryAccountStore();
    const first = await world.issue(store, ['before.switch.test']);
    const before = store.current!;
    // A second Pebble is another CA, with another directory URL (and its own responder).
    const other = await startAcmeWorld();
    t.after(() => other.stop());
    const issued = await other.issue(store, ['after.switch.test']);
    assertIssued(issued, ['after.switch.test'], await other.pebble.issuingRootPem());
    const after = store.current!;
    assert.equal(after.directoryUrl, other.pebble.directoryUrl);
    assert.notEqual(after.accountKeyPem, before.accountKeyPem, 'a new key');
    assert.notEqual(issued.accountUrl, first.accountUrl);
    assert.ok(issued.accountUrl.startsWith(new URL(other.pebble.directoryUrl).origin));
    assert.equal(after.accountUrl, issued.accountUrl);
  });

  test('an account URL the CA does not know (a CA that lost it) is replaced by registering the stored key', async () => {
    const { client } = await world.account(new MemoryAccountStore());
    assert.ok(client);
    const lost = `${new URL(world.pebble.directoryUrl).origin}/my-account/lost`;
    const { createCertificateKey } = await import('../../src/acme/keys.ts');
    const accountKeyPem = await createCertificateKey({ type: 'ecdsa' });
    const store = new MemoryAccountStore({
      directoryUrl: world.pebble.directoryUrl,
      accountKeyPem,
      accountUrl: lost,
    });
    const { account } = await world.account(store);
    assert.equal(account.accountKeyPem, accountKeyPem, 'the stored key is kept');
    assert.notEqual(account.accountUrl, lost);
    assert.deepEqual(store.current, account);
    assertIssued(await world.issue(store, ['regained.test']), ['regained.test'], root);
  });
});

describe('failures say what failed', () => {
  test('a self-check that gets no key authorization names the host, the URL and what came back', async () => {
    const { client } = await world.account(new MemoryAccountStore());
    const created = await createOrder(client, ['unpublished.test', 'published.test']);
    const published = created.challenges.find((c) => c.host === 'published.test')!;
    world.responder.set(published.token, published.keyAuthorization);
    const unpublished = created.challenges.find((c) => c.host === 'unpublished.test')!;
    try {
      const error = await selfCheck(created.challenges, {
        port: world.port,
        resolve: world.resolve,
        backoff: TEST_BACKOFF,
      }).then(
        () => assert.fail('the self-check passed'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof SelfCheckError);
      assert.equal(error.step, 'selfCheck');
      assert.deepEqual(
        error.failures.map((f) => f.host),
        ['unpublished.test'],
      );
      const url = `http://unpublished.test:${world.port}/.well-known/acme-challenge/${unpublished.token}`;
      assert.match(error.message, /^self-check failed after up to \d+ attempts in [\d.]+ s: /);
      assert.ok(
        error.message.includes(`host unpublished.test: GET ${url} answered HTTP 404: "not found\\n"`),
        error.message,
      );
      assert.doesNotMatch(error.message, /host published\.test/, 'the host that answered is not listed');
    } finally {
      world.responder.remove(published.token);
    }
  });

  test('a self-check that cannot connect says so', async () => {
    const { client } = await world.account(new MemoryAccountStore());
    const created = await createOrder(client, ['refused.test']);
    // Nothing listens there: the address is this world's own, and only the responder's port is served.
    const port = world.port + 1;
    await assert.rejects(
      selfCheck(created.challenges, { port, resolve: world.resolve, backoff: TEST_BACKOFF }),
      (error: unknown) => {
        assert.ok(error instanceof SelfCheckError);
        assert.match(
          error.message,
          new RegExp(
            `host refused\\.test: GET http://refused\\.test:${port}/\\S+ failed: .*ECONNREFUSED ${world.address.replaceAll('.', '\\.')}:${port}`,
          ),
        );
        return true;
      },
    );
  });

  test('a profile the CA does not offer is an error with the CA’s detail', async () => {
    const { client } = await world.account(new MemoryAccountStore());
    await assert.rejects(
      createOrder(client, ['p.test'], { profile: 'no-such-profile' }),
      (error: unknown) => {
        assert.ok(error instanceof AcmeError);
        assert.match(error.message, /^creating the order for p\.test failed: .*no-such-profile/);
        return true;
      },
    );
  });

  test('an order the CA refuses is an error with the CA’s detail, not a crash', async () => {
    const { client } = await world.account(new MemoryAccountStore());
    await assert.rejects(createOrder(client, ['bad_name.test']), (error: unknown) => {
      assert.ok(error instanceof AcmeError);
      assert.equal(error.step, 'createOrder');
      assert.deepEqual(error.hosts, ['bad_name.test']);
      assert.match(error.message, /^creating the order for bad_name\.test failed: .*illegal character/);
      return true;
    });
  });

  test('a failed validation is an error naming the host and the CA’s problem', async () => {
    const { client } = await world.account(new MemoryAccountStore());
    const created = await createOrder(client, ['unanswered.test']);
    // Nothing published: Pebble fetches the token and gets 404.
    await assert.rejects(answerChallenges(client, created.challenges), (error: unknown) => {
      assert.ok(error instanceof AcmeError);
      assert.equal(error.step, 'answerChallenges');
      assert.match(
        error.message,
        /^the CA could not validate: unanswered\.test: the authorization is invalid: unauthorized: .*404/,
      );
      return true;
    });
  });
});
