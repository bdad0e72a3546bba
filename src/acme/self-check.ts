/**
 * The self-check: before the CA is asked to validate, fetch every host's challenge URL the way the CA will
 * and compare the answer with the key authorization. A route that does not reach the responder yet (the
 * ingress controller has not picked up the solver Ingress, DNS points elsewhere) fails here, retried with
 * exponential back-off (`LEGO_EXPONENTIAL_BACKOFF_*`), instead of failing the CA's validation, which
 * invalidates the authorization and counts against Let's Encrypt's failed-validation limit.
 *
 * Like the CA it resolves the host in DNS (not /etc/hosts), connects to a resolved address on port 80 (set
 * another for tests), sends `Host: <host>`, follows up to 10 redirects, and compares the body with trailing
 * white space removed. A redirect to https is followed without verifying the certificate, because the CA
 * does not verify it either for HTTP-01; only the public token is sent there.
 */
import { Resolver } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, isIPv6 } from 'node:net';
import { CHALLENGE_PATH } from './challenge-responder.ts';
import { AcmeError, messageOf } from './errors.ts';

/** One host to check: its token and the key authorization the responder should answer with. */
export interface SelfCheckTarget {
  host: string;
  token: string;
  keyAuthorization: string;
}

/**
 * Exponential back-off, in milliseconds: kube-lego's `LEGO_EXPONENTIAL_BACKOFF_INITIAL_INTERVAL`,
 * `..._MULTIPLIER` and `..._MAX_ELAPSED_TIME`. The first attempt is immediate; the n-th wait is
 * initial × multiplier^(n-1), capped by `maxIntervalMs` and by the time left; after `maxElapsedMs` no new
 * attempt starts.
 */
export interface BackoffOptions {
  initialIntervalMs: number;
  multiplier: number;
  maxElapsedMs: number;
  /** Longest single wait; default 60 s (as kube-lego's back-off library). */
  maxIntervalMs?: number;
}

/** Resolves a host name to IP addresses, the first to try first. */
export type HostResolver = (host: string) => Promise<string[]>;

/** Options of {@link selfCheck}. */
export interface SelfCheckOptions {
  backoff: BackoffOptions;
  /** Port the CA connects to; 80 unless a test says otherwise. */
  port?: number;
  /** How host names are resolved; default {@link dnsResolver}() (the system's DNS servers). */
  resolve?: HostResolver;
  /** Milliseconds one request may take; default 10 s. */
  requestTimeoutMs?: number;
  /** Stops retrying (the attempt in flight completes). */
  signal?: AbortSignal;
  /** Called after every failed attempt, for logging. */
  onRetry?: (failure: HostFailure, attempt: number, waitMs: number) => void;
}

/** What one host's check came to when it failed. */
export interface HostFailure {
  host: string;
  /** The challenge URL as the CA sees it. */
  url: string;
  /** What came back: status and the start of the body, or the connection error. */
  outcome: string;
}

/** The self-check failed for at least one host; {@link failures} says for which and why. */
export class SelfCheckError extends AcmeError {
  /** One entry per host that never answered its key authorization. */
  readonly failures: readonly HostFailure[];

  constructor(hosts: readonly string[], failures: readonly HostFailure[], attemptsNote: string) {
    const list = failures.map((f) => `host ${f.host}: GET ${f.url} ${f.outcome}`).join('; ');
    super('selfCheck', hosts, `self-check failed ${attemptsNote}: ${list}`);
    this.name = 'SelfCheckError';
    this.failures = failures;
  }
}

/**
 * A resolver asking `servers` (`host:port` strings; the system's DNS servers when omitted) for A records,
 * then AAAA records when there is no A record.
 */
export function dnsResolver(servers?: readonly string[]): HostResolver {
  const resolver = new Resolver({ timeout: 2_000, tries: 2 });
  if (servers) resolver.setServers([...servers]);
  return async (host) => {
    let ipv4: string[] = [];
    try {
      ipv4 = await resolver.resolve4(host);
    } catch (error) {
      if (!isNoData(error)) throw error;
    }
    if (ipv4.length > 0) return ipv4;
    try {
      return await resolver.resolve6(host);
    } catch (error) {
      if (isNoData(error)) return [];
      throw error;
    }
  };
}

function isNoData(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'ENODATA' || code === 'ENOTFOUND';
}

/** The URL the CA fetches for `host` and `token`. */
export function challengeUrl(host: string, token: string, port = 80): string {
  return `http://${host}${port === 80 ? '' : `:${port}`}${CHALLENGE_PATH}${token}`;
}

/** An HTTP answer: status, redirect target and up to 128 KiB of body. */
interface Answer {
  status: number;
  location: string | undefined;
  body: string;
}

const MAX_BODY = 128 * 1024;
const MAX_REDIRECTS = 10;

/** GETs `url` from `address` (an IP), sending the URL's host as Host and, for https, as SNI. */
function get(url: URL, address: string, timeoutMs: number): Promise<Answer> {
  const https = url.protocol === 'https:';
  const send = https ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      {
        host: address,
        family: isIPv6(address) ? 6 : 4,
        port: url.port === '' ? (https ? 443 : 80) : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: { host: url.host, 'user-agent': 'kube-lego self-check', accept: '*/*' },
        agent: false,
        timeout: timeoutMs,
        ...(https && { servername: url.hostname, rejectUnauthorized: false }),
      },
      (response: IncomingMessage) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
          if (body.length > MAX_BODY) response.destroy();
        });
        const done = () =>
          resolve({
            status: response.statusCode ?? 0,
            location: response.headers.location,
            body: body.slice(0, MAX_BODY),
          });
        response.on('end', done);
        response.on('close', done);
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end();
  });
}

function describeError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = messageOf(error);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

/**
 * One attempt for one target: undefined when the key authorization came back, else what came back instead.
 */
export async function probe(
  target: SelfCheckTarget,
  options: { port?: number; resolve: HostResolver; requestTimeoutMs?: number },
): Promise<HostFailure | undefined> {
  const first = challengeUrl(target.host, target.token, options.port);
  const timeout = options.requestTimeoutMs ?? 10_000;
  const fail = (outcome: string): HostFailure => ({ host: target.host, url: first, outcome });
  let url = new URL(first);
  for (let redirects = 0; ; redirects++) {
    // Once redirected, every outcome says where to.
    const via = redirects === 0 ? '' : `(redirected to ${url.href}) `;
    let addresses: string[];
    try {
      const name = url.hostname.replace(/^\[|\]$/g, '');
      // A redirect may name an address; a name is resolved as the CA resolves it.
      addresses = isIP(name) ? [name] : await options.resolve(name);
    } catch (error) {
      return fail(`${via}failed: resolving ${url.hostname}: ${describeError(error)}`);
    }
    if (addresses.length === 0) return fail(`${via}failed: ${url.hostname} has no A or AAAA record`);
    let answer: Answer | undefined;
    const errors: string[] = [];
    for (const address of addresses) {
      try {
        answer = await get(url, address, timeout);
        break;
      } catch (error) {
        errors.push(describeError(error));
      }
    }
    if (answer === undefined) return fail(`${via}failed: ${errors.join('; ')}`);
    const { status, location, body } = answer;
    if (status >= 300 && status < 400 && location !== undefined) {
      const next = new URL(location, url);
      if (redirects >= MAX_REDIRECTS)
        return fail(`${via}answered too many redirects, the last to ${next.href}`);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        return fail(
          `${via}answered HTTP ${status}, a redirect to ${next.href}, which is neither http nor https`,
        );
      }
      url = next;
      continue;
    }
    const shown = JSON.stringify(body.slice(0, 100));
    if (status !== 200) return fail(`${via}answered HTTP ${status}: ${shown}`);
    if (body.trimEnd() !== target.keyAuthorization) {
      return fail(`${via}answered HTTP 200 with another body than the key authorization: ${shown}`);
    }
    return undefined;
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Checks every target, each with its own back-off, and resolves once every host answered its key
 * authorization. Rejects with a {@link SelfCheckError} naming each host that still did not when its
 * back-off ran out (or `signal` aborted), with the URL and what came back the last time.
 */
export async function selfCheck(
  targets: readonly SelfCheckTarget[],
  options: SelfCheckOptions,
): Promise<void> {
  const resolve = options.resolve ?? dnsResolver();
  const { initialIntervalMs, multiplier, maxElapsedMs } = options.backoff;
  const maxIntervalMs = options.backoff.maxIntervalMs ?? 60_000;
  const started = Date.now();
  let attemptsMax = 0;

  const check = async (target: SelfCheckTarget): Promise<HostFailure | undefined> => {
    let interval = initialIntervalMs;
    for (let attempt = 1; ; attempt++) {
      attemptsMax = Math.max(attemptsMax, attempt);
      const failure = await probe(target, { ...options, resolve });
      if (failure === undefined) return undefined;
      const left = maxElapsedMs - (Date.now() - started);
      const wait = Math.min(interval, maxIntervalMs, left);
      if (wait <= 0 || options.signal?.aborted) return failure;
      options.onRetry?.(failure, attempt, wait);
      await sleep(wait, options.signal);
      if (options.signal?.aborted) return failure;
      interval *= multiplier;
    }
  };

  const results = await Promise.all(targets.map(check));
  const failures = results.filter((r): r is HostFailure => r !== undefined);
  if (failures.length > 0) {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    throw new SelfCheckError(
      targets.map((t) => t.host),
      failures,
      `after up to ${attemptsMax} attempts in ${seconds} s`,
    );
  }
}
