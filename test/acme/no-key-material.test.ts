// Nothing of the account key or of a certificate key reaches what gets logged: acme-client's own debug
// log, the responder's request reports, the self-check's retry reports, error messages (with their causes),
// and the step results a Job would log.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setLogger } from 'acme-client';
import { startChallengeResponder } from '../../src/acme/challenge-responder.ts';
import { createKeyAndCsr } from '../../src/acme/keys.ts';
import { MemoryAccountStore } from '../../src/acme/memory-account-store.ts';
import { answerChallenges, createOrder, finalizeOrder } from '../../src/acme/order.ts';
import { selfCheck } from '../../src/acme/self-check.ts';
import { startAcmeWorld, TEST_BACKOFF, type AcmeWorld } from './harness.ts';

let world: AcmeWorld;
const lines: string[] = [];
before(async () => {
  world = await startAcmeWorld();
  setLogger((message) => lines.push(message));
});
after(() => world?.stop());

/** Every message of an error and of its causes. */
function messagesOf(error: unknown): string[] {
  const out: string[] = [];
  for (let e = error; e instanceof Error; e = e.cause) out.push(`${e.name}: ${e.message}\n${e.stack ?? ''}`);
  return out;
}

/** The 64-character base64 lines of a PEM body: any of them in a log line would leak the key. */
function bodyLinesOf(pem: string): string[] {
  return pem.split('\n').filter((line) => line.length > 0 && !line.startsWith('-----'));
}

test('no key material in logs, reports, errors or step results', async () => {
  const store = new MemoryAccountStore();
  const { client, account } = await world.account(store);
  const hosts = ['secret.shop.test', 'other.shop.test'];
  const { keyPem, csrPem } = await createKeyAndCsr(hosts);

  // A responder of its own, to capture its reports (the world's is on Pebble's port).
  const reports: string[] = [];
  const responder = await startChallengeResponder({
    host: '127.0.0.1',
    port: 0,
    onRequest: (r) => reports.push(JSON.stringify(r)),
  });
  const created = await createOrder(client, hosts);
  for (const c of created.challenges) {
    world.responder.set(c.token, c.keyAuthorization);
    responder.set(c.token, c.keyAuthorization);
  }
  // The self-check against the reporting responder: one host published there, one not.
  const [, missing] = created.challenges;
  responder.remove(missing!.token);
  const errors: unknown[] = [];
  await selfCheck(created.challenges, {
    port: Number(new URL(responder.url).port),
    resolve: world.resolve,
    backoff: TEST_BACKOFF,
    onRetry: (failure) => reports.push(JSON.stringify(failure)),
  }).catch((e: unknown) => errors.push(e));
  await responder.close();

  await answerChallenges(client, created.challenges);
  const issued = await finalizeOrder(client, created.order, csrPem);
  for (const c of created.challenges) world.responder.remove(c.token);

  // Failures: an order refused, a validation failed, a CSR for other names refused at finalization.
  await createOrder(client, ['bad_name.test']).catch((e: unknown) => errors.push(e));
  const unanswered = await createOrder(client, ['unanswered.shop.test']);
  await answerChallenges(client, unanswered.challenges).catch((e: unknown) => errors.push(e));
  const ready = await createOrder(client, ['ready.shop.test']);
  for (const c of ready.challenges) world.responder.set(c.token, c.keyAuthorization);
  await answerChallenges(client, ready.challenges);
  await finalizeOrder(client, ready.order, csrPem).catch((e: unknown) => errors.push(e));
  assert.equal(errors.length, 4, 'every failure path was taken');

  const logged = [
    ...lines,
    ...reports,
    ...errors.flatMap(messagesOf),
    JSON.stringify(created),
    JSON.stringify({ ...issued, keyPem: undefined }),
    JSON.stringify({ ...account, accountKeyPem: undefined }),
  ];
  assert.ok(lines.length > 20, 'acme-client logged its requests');
  assert.ok(
    errors.some((e) => /finaliz/i.test(String(e))),
    'the CSR for other names was refused with a message',
  );
  const secrets = [...bodyLinesOf(account.accountKeyPem), ...bodyLinesOf(keyPem)];
  assert.ok(secrets.length > 10);
  for (const line of logged) {
    assert.doesNotMatch(line, /PRIVATE KEY/);
    for (const secret of secrets) assert.ok(!line.includes(secret), `key material in: ${line.slice(0, 200)}`);
  }
});
