// The HTTP-01 responder answers known tokens with their key authorization and nothing else.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import {
  CHALLENGE_PATH,
  SELF_TEST_PATH,
  startChallengeResponder,
  type ChallengeResponder,
  type ResponderRequest,
} from '../../src/acme/challenge-responder.ts';

/** Sends `method path` to the responder as a raw path (no URL normalisation). */
function send(
  responder: ChallengeResponder,
  path: string,
  method = 'GET',
): Promise<{ status: number; type: string | undefined; body: string }> {
  const { hostname, port } = new URL(responder.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method, headers: { host: 'shop.test' } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const TOKEN = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
const KEY_AUTHORIZATION = `${TOKEN}.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI`;

let responder: ChallengeResponder;
const seen: ResponderRequest[] = [];
before(async () => {
  responder = await startChallengeResponder({ host: '127.0.0.1', port: 0, onRequest: (r) => seen.push(r) });
  responder.set(TOKEN, KEY_AUTHORIZATION);
});
after(() => responder.close());

test('listens on the host asked, on the port the system picked when 0 was asked', () => {
  assert.match(responder.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(new URL(responder.url).port, '0');
});

test('a known token is answered with its key authorization, as text/plain', async () => {
  const answer = await send(responder, `${CHALLENGE_PATH}${TOKEN}`);
  assert.deepEqual(answer, { status: 200, type: 'text/plain; charset=utf-8', body: KEY_AUTHORIZATION });
  assert.equal((await send(responder, `${CHALLENGE_PATH}${TOKEN}?x=1`)).body, KEY_AUTHORIZATION);
});

test('HEAD works, other methods on a known token are 405', async () => {
  assert.equal((await send(responder, `${CHALLENGE_PATH}${TOKEN}`, 'HEAD')).status, 200);
  assert.equal((await send(responder, `${CHALLENGE_PATH}${TOKEN}`, 'POST')).status, 405);
});

test('unknown tokens, other paths and the directory itself are 404', async () => {
  for (const path of [
    `${CHALLENGE_PATH}unknown-token`,
    `${CHALLENGE_PATH}${TOKEN}/more`,
    `${CHALLENGE_PATH}${TOKEN.toLowerCase()}`,
    CHALLENGE_PATH,
    '/.well-known/acme-challenge',
    '/',
    '/healthz',
    `/x${CHALLENGE_PATH}${TOKEN}`,
    `${CHALLENGE_PATH}../../../etc/passwd`,
    `${CHALLENGE_PATH}..%2f..%2fetc%2fpasswd`,
  ]) {
    const answer = await send(responder, path);
    assert.equal(answer.status, 404, path);
    assert.equal(answer.body, 'not found\n', path);
  }
});

test('the self-test path answers the per-process nonce', async () => {
  assert.match(responder.selfTestNonce, /^[0-9a-f]{32}$/);
  assert.deepEqual(await send(responder, SELF_TEST_PATH), {
    status: 200,
    type: 'text/plain; charset=utf-8',
    body: responder.selfTestNonce,
  });
  const other = await startChallengeResponder({ host: '127.0.0.1', port: 0 });
  try {
    assert.notEqual(other.selfTestNonce, responder.selfTestNonce, 'each responder has its own nonce');
  } finally {
    await other.close();
  }
});

test('remove withdraws a token; set refuses what is not a token', async () => {
  responder.set('short-lived', 'short-lived.thumbprint');
  assert.equal((await send(responder, `${CHALLENGE_PATH}short-lived`)).status, 200);
  responder.remove('short-lived');
  assert.equal((await send(responder, `${CHALLENGE_PATH}short-lived`)).status, 404);
  for (const bad of ['', '../x', 'a/b', 'a b', '_selftest', 'ü']) {
    assert.throws(() => responder.set(bad, 'x'), /is not an ACME token/, bad);
  }
});

test('every request is reported for logging, with no key authorization in it', () => {
  assert.ok(seen.length > 0);
  for (const r of seen) {
    assert.equal(typeof r.status, 'number');
    assert.ok(!JSON.stringify(r).includes(KEY_AUTHORIZATION));
  }
});

test('a port in use is an error, not a crash', async () => {
  const port = Number(new URL(responder.url).port);
  await assert.rejects(startChallengeResponder({ host: '127.0.0.1', port }), { code: 'EADDRINUSE' });
});
