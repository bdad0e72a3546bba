/**
 * Requests to a CA trust its own CA certificate for its origin only; Retry-After is read and honoured by
 * polling, within bounds; polls start short. The polling schedule runs on node:test's mock timers, so the
 * tests check the waits pollUntil asks for, not how fast the machine is.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { axios } from 'acme-client';
import { DEFAULT_POLL, pollUntil } from '../../src/acme/poll.ts';
import { ensureAccount } from '../../src/acme/account.ts';
import { MemoryAccountStore } from '../../src/acme/memory-account-store.ts';
import {
  attachRetryAfter,
  explainFailures,
  parseRetryAfter,
  retryAfterMs,
  setRequestRetries,
  trustDirectory,
} from '../../src/acme/transport.ts';
import { retryAtOf } from '../../src/process/runner.ts';
import { claimAddress } from '../support/loopback.ts';
import { createCertificateAuthority, issueServerCertificate } from '../support/tls.ts';

// acme-client would repeat requests that get no answer for 75 s.
setRequestRetries(0, 0);

test('Retry-After: delay-seconds and HTTP dates, nothing for junk or the past', () => {
  const now = Date.parse('2025-06-01T12:00:00Z');
  assert.equal(parseRetryAfter('3', now), 3_000);
  assert.equal(parseRetryAfter(' 0 ', now), 0);
  assert.equal(parseRetryAfter('Sun, 01 Jun 2025 12:00:02 GMT', now), 2_000);
  assert.equal(parseRetryAfter('Sun, 01 Jun 2025 11:59:59 GMT', now), undefined);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter('-1', now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
});

test('the delay travels hidden on the resource: JSON does not show it', () => {
  const order = attachRetryAfter({ status: 'processing' }, 1_000);
  assert.equal(retryAfterMs(order), 1_000);
  assert.equal(JSON.stringify(order), '{"status":"processing"}');
  assert.equal(retryAfterMs({ status: 'processing' }), undefined);
});

/**
 * Settles `promise` on mock time: lets promises and I/O callbacks run, then jumps the clock to the next
 * timer, until it settles. Fails when it waits on more than `maxTimers` timers.
 */
async function onMockTime<T>(t: TestContext, promise: Promise<T>, maxTimers = 100): Promise<T> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let timers = 0; ; timers += 1) {
    await new Promise((resolve) => setImmediate(resolve));
    if (done) return promise;
    if (timers === maxTimers) assert.fail(`still waiting after ${maxTimers} timers`);
    t.mock.timers.runAll();
  }
}

/** Mock timers and Date from 0 ms, for the rest of the test. */
const mockTime = (t: TestContext) => t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });

/**
 * A resource read `settleAfter` times: pending until the last read; each read may ask for a delay. `reads`
 * holds the time of each read, in ms after the reader was made (made after mockTime: mock ms).
 */
function reader(settleAfter: number, retryAfter?: number) {
  const reads: number[] = [];
  const started = Date.now();
  return {
    reads,
    read: async () => {
      reads.push(Date.now() - started);
      const status = reads.length >= settleAfter ? 'valid' : 'pending';
      const resource = { status };
      return retryAfter === undefined ? resource : attachRetryAfter(resource, retryAfter);
    },
  };
}

const settled = (r: { status: string }) => r.status !== 'pending';
const timeout = () => new Error('timed out');

test('polls start short and double: 25, 50, 100 ms by default', async (t) => {
  assert.equal(DEFAULT_POLL.initialIntervalMs, 25);
  mockTime(t);
  const { reads, read } = reader(3);
  await onMockTime(t, pollUntil(read, settled, {}, timeout));
  assert.deepEqual(reads, [25, 25 + 50, 25 + 50 + 100]);
});

test('a resource already settled is not read again', async () => {
  const { reads, read } = reader(1);
  const result = await pollUntil(read, settled, {}, timeout, { current: { status: 'valid' } });
  assert.deepEqual(result, { status: 'valid' });
  assert.equal(reads.length, 0);
});

test('Retry-After is honoured: the next read waits as long as the CA asked, not the shorter own interval', async (t) => {
  mockTime(t);
  const { reads, read } = reader(3, 150);
  await onMockTime(t, pollUntil(read, settled, { initialIntervalMs: 5 }, timeout, { retryAfterMs: 150 }));
  // The own schedule alone would read at 5, 15 and 35 ms.
  assert.deepEqual(reads, [150, 300, 450]);
});

test('a Retry-After beyond maxRetryAfterMs is capped', async (t) => {
  mockTime(t);
  const { reads, read } = reader(2, 3_600_000);
  await onMockTime(
    t,
    pollUntil(read, settled, { initialIntervalMs: 5, maxRetryAfterMs: 50 }, timeout, {
      retryAfterMs: 3_600_000,
    }),
  );
  assert.deepEqual(reads, [50, 100]);
});

test('a resource that never settles ends in the timeout error', async () => {
  const { read } = reader(Infinity);
  await assert.rejects(
    pollUntil(read, settled, { initialIntervalMs: 5, timeoutMs: 100 }, timeout),
    /timed out/,
  );
});

test('each CA origin trusts its own CA certificate only; TLS verification stays on', async (t) => {
  const serve = async (name: string) => {
    const ca = await createCertificateAuthority(`kube-lego test ${name} CA`);
    const cert = await issueServerCertificate(ca, { ipAddresses: ['127.0.0.1'] });
    const server = createServer({ cert: cert.certPem, key: cert.keyPem }, (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.setHeader('retry-after', '2');
      res.end(JSON.stringify({ server: name }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return { ca, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/dir` };
  };
  const [a, b] = await Promise.all([serve('A'), serve('B')]);
  trustDirectory(a.url, { caPem: a.ca.certPem });
  trustDirectory(b.url); // system trust: B's CA is unknown to it
  const answer = await axios.get(a.url);
  assert.deepEqual(answer.data, { server: 'A' });
  assert.equal(retryAfterMs(answer.data as object), 2_000, 'Retry-After attached to the body');
  const untrusted = /B: GET https:\/\/127\.0\.0\.1:\d+\/dir got no answer: .*(self-signed|unable to verify)/i;
  const explained = async (url: string) =>
    explainFailures(() => axios.get(url)).catch((error: unknown) => {
      throw new Error(`${url === b.url ? 'B' : 'A'}: ${(error as Error).message}`);
    });
  await assert.rejects(explained(b.url), untrusted);
  // Trust is per origin and replaced, never merged: giving B's origin A's CA does not make B trusted.
  trustDirectory(b.url, { caPem: a.ca.certPem });
  await assert.rejects(explained(b.url), untrusted);
  // Registering an origin without trust puts it back on the system trust.
  trustDirectory(a.url);
  await assert.rejects(explained(a.url), /A: GET .* got no answer: .*(self-signed|unable to verify)/i);
});

test('a CA that cannot be reached is an error naming the request, not acme-client’s TypeError', async (t) => {
  // A loopback address of this test's own, where nothing listens on 14000 (only the claim, on 32767).
  const claim = await claimAddress();
  t.after(() => claim.release());
  const directoryUrl = `https://${claim.address}:14000/dir`;
  await assert.rejects(ensureAccount(new MemoryAccountStore(), { directoryUrl }), (error: unknown) => {
    assert.ok(error instanceof Error);
    assert.equal(
      error.message,
      `registering the ACME account at ${directoryUrl} failed: GET ${directoryUrl} got no answer: ` +
        `connect ECONNREFUSED ${claim.address}:14000`,
    );
    return true;
  });
});

test("a CA's Retry-After on an error (rateLimited) comes out as the error's retryAt, through the wrapping errors", async (t) => {
  const ca = await createCertificateAuthority('kube-lego test rate-limiting CA');
  const cert = await issueServerCertificate(ca, { ipAddresses: ['127.0.0.1'] });
  let requests = 0;
  const server = createServer({ cert: cert.certPem, key: cert.keyPem }, (_req, res) => {
    requests += 1;
    res.statusCode = 429;
    res.setHeader('content-type', 'application/problem+json');
    res.setHeader('retry-after', '3600');
    res.end(
      JSON.stringify({ type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many new orders' }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const directoryUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}/dir`;
  const before = Date.now();
  const error: unknown = await ensureAccount(new MemoryAccountStore(), {
    directoryUrl,
    caPem: ca.certPem,
  }).then(
    () => assert.fail('the account was registered'),
    (failure: unknown) => failure,
  );
  const retryAt = retryAtOf(error);
  assert.ok(retryAt !== undefined, `no retryAt on ${String(error)}`);
  assert.ok(retryAt >= before + 3_600_000 && retryAt <= Date.now() + 3_600_000, `retryAt ${retryAt}`);
  assert.equal(JSON.stringify(Object.keys(error as object)).includes('retryAt'), false, 'not enumerable');
  assert.equal(requests, 1, 'acme-client repeats nothing (retries set to 0 in this file)');
  assert.equal(retryAtOf(new Error('no delay asked')), undefined);
});
