/**
 * The HTTP-01 responder: a small HTTP server in the issuance Job's pod that the solver Service and Ingress
 * route `/.well-known/acme-challenge/` to.
 *
 * It answers `GET /.well-known/acme-challenge/<token>` with the key authorization of a token it was given
 * ({@link ChallengeResponder.set}), as `text/plain`, and `GET /.well-known/acme-challenge/_selftest` with a
 * random nonce made when it started (kube-lego's self-test path: whoever reads the nonce back through the
 * public route knows the route reaches this very process). Everything else is 404: unknown tokens, other
 * paths, and the directory itself. It serves from memory only, never from the file system, so a crafted
 * path cannot reach a file.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The path prefix ACME HTTP-01 challenges are fetched under (RFC 8555 §8.3). */
export const CHALLENGE_PATH = '/.well-known/acme-challenge/';

/** The self-test path kube-lego answers with its nonce. */
export const SELF_TEST_PATH = `${CHALLENGE_PATH}_selftest`;

/** What an ACME token may contain: base64url characters (RFC 8555 §8.3). */
const TOKEN = /^[A-Za-z0-9_-]+$/;

/** One request the responder answered, for logging. Holds no key material. */
export interface ResponderRequest {
  method: string;
  path: string;
  status: number;
  remoteAddress: string | undefined;
}

/** Options of {@link startChallengeResponder}. */
export interface ChallengeResponderOptions {
  /** Address to listen on: the pod's IP (`POD_IP` from the downward API), 127.0.0.1 in tests. */
  host: string;
  /** Port to listen on; 0 picks a free one (see {@link ChallengeResponder.url}). */
  port: number;
  /** Called after each answer, for logging. */
  onRequest?: (request: ResponderRequest) => void;
}

/** A running responder. */
export interface ChallengeResponder {
  /** Publishes the key authorization of `token`. Throws on a token that is not base64url. */
  set(token: string, keyAuthorization: string): void;
  /** Withdraws `token`: it is answered 404 again. */
  remove(token: string): void;
  /** The nonce answered at {@link SELF_TEST_PATH}: random, made per responder. */
  readonly selfTestNonce: string;
  /** Base URL the responder listens on, `http://<host>:<port>` (the actual port when 0 was asked). */
  readonly url: string;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

function answer(
  response: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
) {
  response.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    ...headers,
  });
  response.end(body);
}

/** Starts a responder on `host`:`port` and resolves once it listens. */
export function startChallengeResponder(options: ChallengeResponderOptions): Promise<ChallengeResponder> {
  const tokens = new Map<string, string>();
  const selfTestNonce = randomBytes(16).toString('hex');

  const lookup = (path: string): string | undefined => {
    if (!path.startsWith(CHALLENGE_PATH)) return undefined;
    return tokens.get(path.slice(CHALLENGE_PATH.length));
  };

  const handle = (request: IncomingMessage, response: ServerResponse): number => {
    const path = (request.url ?? '').split('?')[0] ?? '';
    const body = path === SELF_TEST_PATH ? selfTestNonce : lookup(path);
    if (body === undefined) {
      answer(response, 404, 'not found\n');
      return 404;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      answer(response, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
      return 405;
    }
    answer(response, 200, body);
    return 200;
  };

  const server = createServer((request, response) => {
    const status = handle(request, response);
    options.onRequest?.({
      method: request.method ?? '',
      path: request.url ?? '',
      status,
      remoteAddress: request.socket.remoteAddress,
    });
  });
  server.keepAliveTimeout = 5_000;
  server.requestTimeout = 10_000;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      const host = options.host.includes(':') ? `[${options.host}]` : options.host;
      resolve({
        set(token, keyAuthorization) {
          if (!TOKEN.test(token) || `${CHALLENGE_PATH}${token}` === SELF_TEST_PATH) {
            throw new Error(`${JSON.stringify(token)} is not an ACME token (base64url characters only)`);
          }
          tokens.set(token, keyAuthorization);
        },
        remove(token) {
          tokens.delete(token);
        },
        selfTestNonce,
        url: `http://${host}:${port}`,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((error) => (error ? fail(error) : done()));
            server.closeAllConnections();
          }),
      });
    });
  });
}
