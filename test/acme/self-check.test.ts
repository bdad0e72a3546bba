// The self-check fetches each host's challenge URL as the CA would, retries with back-off, and when it gives
// up says which host, which URL and what came back. Loopback servers only; names resolve through a stub.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { startChallengeResponder, type ChallengeResponder } from '../../src/acme/challenge-responder.ts';
import {
  challengeUrl,
  selfCheck,
  SelfCheckError,
  type HostFailure,
  type HostResolver,
} from '../../src/acme/self-check.ts';

const loopback: HostResolver = async () => ['127.0.0.1'];
const quick = { initialIntervalMs: 10, multiplier: 2, maxElapsedMs: 150 };

let responder: ChallengeResponder;
let port: number;
before(async () => {
  responder = await startChallengeResponder({ host: '127.0.0.1', port: 0 });
  port = Number(new URL(responder.url).port);
});
after(() => responder.close());

/** An HTTP server on 127.0.0.1 answering every request with `handler`; closed after the test. */
async function serve(
  t: { after: (fn: () => Promise<void>) => void },
  handler: Parameters<typeof createServer>[1],
): Promise<number> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return (server.address() as AddressInfo).port;
}

async function failureOf(promise: Promise<void>): Promise<SelfCheckError> {
  const error = await promise.then(
    () => assert.fail('the self-check passed'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof SelfCheckError, String(error));
  return error;
}

test('the URL is the CA’s: port 80 left out, any other written', () => {
  assert.equal(challengeUrl('shop.test', 'tok'), 'http://shop.test/.well-known/acme-challenge/tok');
  assert.equal(
    challengeUrl('shop.test', 'tok', 8080),
    'http://shop.test:8080/.well-known/acme-challenge/tok',
  );
});

test('passes when every host answers its key authorization, sending the host as Host', async (t) => {
  responder.set('tok-a', 'tok-a.thumb');
  responder.set('tok-b', 'tok-b.thumb');
  t.after(() => ['tok-a', 'tok-b'].forEach((k) => responder.remove(k)));
  const asked: string[] = [];
  await selfCheck(
    [
      { host: 'a.shop.test', token: 'tok-a', keyAuthorization: 'tok-a.thumb' },
      { host: 'b.shop.test', token: 'tok-b', keyAuthorization: 'tok-b.thumb' },
    ],
    {
      port,
      resolve: async (host) => {
        asked.push(host);
        return ['127.0.0.1'];
      },
      backoff: quick,
    },
  );
  assert.deepEqual(asked.sort(), ['a.shop.test', 'b.shop.test']);
});

test('the Host header is the host (and the port, when not 80), as the CA sends it', async (t) => {
  const seen: string[] = [];
  const serverPort = await serve(t, (req, res) => {
    seen.push(req.headers.host ?? '');
    res.end('tok.thumb');
  });
  await selfCheck([{ host: 'h.test', token: 'tok', keyAuthorization: 'tok.thumb' }], {
    port: serverPort,
    resolve: loopback,
    backoff: quick,
  });
  assert.deepEqual(seen, [`h.test:${serverPort}`]);
});

test('trailing white space is ignored, as the CA ignores it', async (t) => {
  const serverPort = await serve(t, (_req, res) => res.end('tok.thumb\r\n'));
  await selfCheck([{ host: 'h.test', token: 'tok', keyAuthorization: 'tok.thumb' }], {
    port: serverPort,
    resolve: loopback,
    backoff: quick,
  });
});

test('retries with back-off until the response is published', async (t) => {
  t.after(() => responder.remove('late'));
  const retries: Array<[HostFailure, number, number]> = [];
  setTimeout(() => responder.set('late', 'late.thumb'), 60);
  await selfCheck([{ host: 'late.test', token: 'late', keyAuthorization: 'late.thumb' }], {
    port,
    resolve: loopback,
    backoff: { initialIntervalMs: 10, multiplier: 2, maxElapsedMs: 5_000 },
    onRetry: (failure, attempt, wait) => retries.push([failure, attempt, wait]),
  });
  assert.ok(retries.length >= 2, `retried ${retries.length} times`);
  assert.deepEqual(
    retries.slice(0, 3).map(([, attempt, wait]) => [attempt, wait]),
    [
      [1, 10],
      [2, 20],
      [3, 40],
    ].slice(0, Math.min(3, retries.length)),
  );
  assert.match(retries[0]![0].outcome, /^answered HTTP 404/);
});

test('gives up after the maximum elapsed time, naming the host, the URL and the status and body', async (t) => {
  const serverPort = await serve(t, (_req, res) => {
    res.statusCode = 503;
    res.end(`upstream unavailable ${'x'.repeat(200)}`);
  });
  const started = Date.now();
  const error = await failureOf(
    selfCheck([{ host: 'down.test', token: 'tok', keyAuthorization: 'tok.thumb' }], {
      port: serverPort,
      resolve: loopback,
      backoff: { initialIntervalMs: 20, multiplier: 2, maxElapsedMs: 200 },
    }),
  );
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 200 && elapsed < 1_000, `gave up after ${elapsed} ms`);
  const url = `http://down.test:${serverPort}/.well-known/acme-challenge/tok`;
  assert.deepEqual(error.hosts, ['down.test']);
  assert.equal(error.failures[0]?.url, url);
  const body = JSON.stringify(`upstream unavailable ${'x'.repeat(200)}`.slice(0, 100));
  assert.ok(error.message.endsWith(`host down.test: GET ${url} answered HTTP 503: ${body}`), error.message);
});

test('a 200 with another body is a failure that shows the body', async (t) => {
  const serverPort = await serve(t, (_req, res) => res.end('<html>default backend</html>'));
  const error = await failureOf(
    selfCheck([{ host: 'other.test', token: 'tok', keyAuthorization: 'tok.thumb' }], {
      port: serverPort,
      resolve: loopback,
      backoff: quick,
    }),
  );
  assert.match(
    error.message,
    /host other\.test: GET \S+ answered HTTP 200 with another body than the key authorization: "<html>default backend<\/html>"/,
  );
});

test('redirects are followed, as the CA follows them, and said in the outcome', async (t) => {
  responder.set('moved', 'moved.thumb');
  t.after(() => responder.remove('moved'));
  const redirector = await serve(t, (req, res) => {
    res.writeHead(302, { location: `http://target.test:${port}${req.url}` });
    res.end();
  });
  await selfCheck([{ host: 'moved.test', token: 'moved', keyAuthorization: 'moved.thumb' }], {
    port: redirector,
    resolve: loopback,
    backoff: quick,
  });
  const error = await failureOf(
    selfCheck([{ host: 'moved.test', token: 'gone', keyAuthorization: 'gone.thumb' }], {
      port: redirector,
      resolve: loopback,
      backoff: quick,
    }),
  );
  assert.ok(
    error.message.includes(
      `GET http://moved.test:${redirector}/.well-known/acme-challenge/gone (redirected to http://target.test:${port}/.well-known/acme-challenge/gone) answered HTTP 404`,
    ),
    error.message,
  );
});

test('a redirect loop ends', async (t) => {
  const loop = await serve(t, (req, res) => {
    res.writeHead(301, { location: req.url ?? '/' });
    res.end();
  });
  const error = await failureOf(
    selfCheck([{ host: 'loop.test', token: 'tok', keyAuthorization: 'tok.thumb' }], {
      port: loop,
      resolve: loopback,
      backoff: { initialIntervalMs: 10, multiplier: 2, maxElapsedMs: 0 },
    }),
  );
  assert.match(
    error.message,
    /answered too many redirects, the last to http:\/\/loop\.test:\d+\/\.well-known/,
  );
});

test('a name that does not resolve, or resolves to nothing, says so', async () => {
  const target = { host: 'nowhere.test', token: 'tok', keyAuthorization: 'tok.thumb' };
  const none = await failureOf(selfCheck([target], { port, resolve: async () => [], backoff: quick }));
  assert.match(none.message, /host nowhere\.test: GET \S+ failed: nowhere\.test has no A or AAAA record/);
  const broken = await failureOf(
    selfCheck([target], {
      port,
      resolve: async () => {
        throw Object.assign(new Error('queryA ESERVFAIL nowhere.test'), { code: 'ESERVFAIL' });
      },
      backoff: quick,
    }),
  );
  assert.match(broken.message, /failed: resolving nowhere\.test: queryA ESERVFAIL nowhere\.test/);
});

test('a server that does not answer in time is a failure, not a hang', async (t) => {
  const silent = await serve(t, () => {});
  const error = await failureOf(
    selfCheck([{ host: 'silent.test', token: 'tok', keyAuthorization: 'tok.thumb' }], {
      port: silent,
      resolve: loopback,
      requestTimeoutMs: 50,
      backoff: { initialIntervalMs: 10, multiplier: 2, maxElapsedMs: 0 },
    }),
  );
  assert.match(error.message, /failed: no answer within 50 ms/);
});

test('an aborted signal stops the retries', async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  const started = Date.now();
  await failureOf(
    selfCheck([{ host: 'abort.test', token: 'never', keyAuthorization: 'never.thumb' }], {
      port,
      resolve: loopback,
      backoff: { initialIntervalMs: 20, multiplier: 1, maxElapsedMs: 60_000 },
      signal: controller.signal,
    }),
  );
  assert.ok(Date.now() - started < 1_000);
});

test('a redirect to an IP address connects to it without asking DNS', async (t) => {
  responder.set('to-ip', 'to-ip.thumb');
  t.after(() => responder.remove('to-ip'));
  const redirector = await serve(t, (req, res) => {
    res.writeHead(307, { location: `http://127.0.0.1:${port}${req.url}` });
    res.end();
  });
  const asked: string[] = [];
  await selfCheck([{ host: 'ip.test', token: 'to-ip', keyAuthorization: 'to-ip.thumb' }], {
    port: redirector,
    resolve: async (host) => {
      asked.push(host);
      return ['127.0.0.1'];
    },
    backoff: quick,
  });
  assert.deepEqual(asked, ['ip.test']);
});
