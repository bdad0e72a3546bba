/**
 * How acme-client's requests reach the CA: which TLS trust they use, how long they may take, and the
 * `Retry-After` header of every answer, which acme-client reads only for errors and otherwise drops.
 *
 * acme-client sends everything through one axios instance that it exports (`acme.axios`) and builds every
 * request itself, so there is no per-client place for an https.Agent. Two interceptors on that instance,
 * installed once, do it instead:
 *
 * - requests to an origin registered with {@link trustDirectory} (the origin of a directory URL) go through
 *   the agent registered for it: a test CA such as Pebble is trusted through its own CA certificate, for its
 *   origin only, and every other origin keeps the system trust. TLS verification is never turned off;
 * - every request gets a timeout ({@link REQUEST_TIMEOUT_MS}) unless it has one, so a CA that stops
 *   answering fails the step instead of hanging the Job;
 * - every JSON answer (order, authorization, challenge) carries the delay its `Retry-After` header asked
 *   for, as a hidden (symbol-keyed, non-enumerable) property that {@link retryAfterMs} reads: acme-client
 *   returns the answer's body object itself, so the delay arrives with the object it belongs to;
 * - a request that got no answer at all (connection refused, TLS verification failed, timeout) is
 *   remembered for {@link explainFailures}: acme-client 5.4 retries such a request and then throws
 *   `TypeError: Cannot read properties of undefined (reading 'config')` (its interceptor reads the missing
 *   response), which says nothing; the remembered error replaces it;
 * - an error answer's `Retry-After` (a `rateLimited` 429, a 503) becomes the `retryAt` of the error
 *   {@link explainFailures} throws, for the operator's back-off; acme-client's own repeats of the request
 *   wait at most {@link MAX_IN_JOB_RETRY_AFTER_SECONDS} each.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent } from 'node:https';
import { axios, Client } from 'acme-client';
import { getAdapter, type AxiosAdapter, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';

/** Milliseconds a request to the CA may take before it fails, when the request sets no timeout itself. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** How to trust a CA's HTTPS endpoint other than through the system's certificate authorities. */
export interface CaTrust {
  /** PEM of the certificate authorities to trust for the CA's origin (for example Pebble's test CA). */
  caPem?: string | readonly string[];
  /** An agent to send the CA's requests through; wins over `caPem`. */
  httpsAgent?: Agent;
}

const RETRY_AFTER = Symbol('kube-lego.retryAfterMs');

/**
 * Per call wrapped in {@link explainFailures}: the request that last failed without an answer, and when
 * the CA last asked, in an error answer's `Retry-After`, to be asked again (epoch ms).
 */
interface FailureContext {
  failure?: { method: string; url: string; message: string };
  caRetryAt?: number;
}
const failures = new AsyncLocalStorage<FailureContext>();

/**
 * axios's own HTTP adapter. kube-lego depends on axios in the range acme-client does, so npm installs one
 * axios, the one acme-client sends through (test/unit/one-axios.test.ts holds it to that).
 */
const httpAdapter: AxiosAdapter = getAdapter('http');

/**
 * The longest `Retry-After` of an error answer that acme-client gets to see. acme-client repeats a request
 * answered 429 or 5xx up to five times, each after the answer's `Retry-After`: a rate limit's hour would
 * hold the Job for hours, past its deadline. A longer delay is hidden from it (it then waits its own few
 * seconds), and honoured by the operator's back-off instead, through the error's `retryAt`.
 */
const MAX_IN_JOB_RETRY_AFTER_SECONDS = 10;

/**
 * The http adapter, remembering for {@link explainFailures} a failure without an answer, and the time an
 * error answer asked to be asked again at.
 */
async function rememberingAdapter(config: InternalAxiosRequestConfig): Promise<AxiosResponse> {
  try {
    return await httpAdapter(config);
  } catch (error) {
    const context = failures.getStore();
    const response = (error as { response?: AxiosResponse }).response;
    const delay = parseRetryAfter(response?.headers['retry-after']);
    if (response !== undefined && delay !== undefined) {
      if (context) context.caRetryAt = Date.now() + delay;
      if (delay > MAX_IN_JOB_RETRY_AFTER_SECONDS * 1000) {
        response.headers['retry-after'] = String(MAX_IN_JOB_RETRY_AFTER_SECONDS);
      }
    }
    if (context && response === undefined) {
      const code = (error as { code?: unknown }).code;
      const message = error instanceof Error ? error.message : String(error);
      context.failure = {
        method: (config.method ?? 'get').toUpperCase(),
        url: config.url ?? '',
        message: typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message,
      };
    }
    throw error;
  }
}

/**
 * Runs `call` (calls of an acme-client Client) and, when it fails with acme-client's meaningless TypeError
 * after a request that got no answer, throws an Error saying which request failed and how instead. When an
 * error answer of the CA asked for a delay (`Retry-After`, as with `rateLimited`), the error thrown carries
 * the time as `retryAt` (epoch ms, not enumerable), for the operator's back-off (see `retryAtOf` in
 * src/process/runner.ts).
 */
export async function explainFailures<T>(call: () => Promise<T>): Promise<T> {
  const context: FailureContext = {};
  try {
    return await failures.run(context, call);
  } catch (error) {
    const { failure, caRetryAt } = context;
    const thrown =
      failure && error instanceof TypeError
        ? new Error(`${failure.method} ${failure.url} got no answer: ${failure.message}`, { cause: error })
        : error;
    if (caRetryAt !== undefined && typeof thrown === 'object' && thrown !== null) {
      Object.defineProperty(thrown, 'retryAt', { value: caRetryAt, enumerable: false, configurable: true });
    }
    throw thrown;
  }
}

/**
 * How often acme-client repeats a request that failed without an answer or with 429 or 5xx, and the delay
 * (seconds, times the attempt number) when the answer has no Retry-After. acme-client's defaults, 5 and
 * 5 s, keep a Job trying an unreachable CA for 75 s; tests set less. Process-wide.
 */
export function setRequestRetries(maxAttempts: number, delaySeconds: number): void {
  const settings = (axios.defaults as { acmeSettings?: Record<string, number> }).acmeSettings;
  if (settings) {
    settings['retryMaxAttempts'] = maxAttempts;
    settings['retryDefaultDelay'] = delaySeconds;
  }
}
/** The agent of each registered origin, and the CA PEM it was made for. */
const agents = new Map<string, { agent: Agent; caKey?: string }>();
let installed = false;

/**
 * The delay in milliseconds that a `Retry-After` header asks for: delay-seconds or an HTTP date, relative
 * to `now`. Undefined when the header is absent, unparsable or in the past.
 */
export function parseRetryAfter(header: unknown, now = Date.now()): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  if (Number.isNaN(at) || at <= now) return undefined;
  return at - now;
}

/**
 * The `Retry-After` delay, in milliseconds, of the answer that `resource` (an order, authorization or
 * challenge as acme-client returned it) came from; undefined when that answer had none.
 */
export function retryAfterMs(resource: object): number | undefined {
  const value = (resource as { [RETRY_AFTER]?: unknown })[RETRY_AFTER];
  return typeof value === 'number' ? value : undefined;
}

/**
 * Records on `resource` (an answer's body object) that its answer asked for a delay of `ms` before the next
 * request, for {@link retryAfterMs}. The property is hidden: JSON and logs do not see it.
 */
export function attachRetryAfter<T extends object>(resource: T, ms: number): T {
  Object.defineProperty(resource, RETRY_AFTER, { value: ms, enumerable: false, configurable: true });
  return resource;
}

function install(): void {
  if (installed) return;
  installed = true;
  axios.interceptors.request.use((config) => {
    config.timeout ||= REQUEST_TIMEOUT_MS;
    config.adapter = rememberingAdapter;
    if (config.url !== undefined && config.httpsAgent === undefined) {
      const agent = agents.get(originOf(config.url))?.agent;
      if (agent) config.httpsAgent = agent;
    }
    return config;
  });
  axios.interceptors.response.use((response) => {
    const delay = parseRetryAfter(response.headers['retry-after']);
    const data: unknown = response.data;
    if (delay !== undefined && typeof data === 'object' && data !== null) {
      attachRetryAfter(data, delay);
    }
    return response;
  });
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}

/**
 * Makes acme-client's requests to the origin of `directoryUrl` trust `trust`, replacing what was registered
 * for that origin before (with neither `caPem` nor `httpsAgent`, the origin is back on the system trust), and
 * installs the interceptors described above. An agent made for a `caPem` is reused while the PEM stays the
 * same, so creating a client per step does not pile up agents and connections.
 */
export function trustDirectory(directoryUrl: string, trust: CaTrust = {}): void {
  install();
  const origin = originOf(directoryUrl);
  if (trust.httpsAgent) {
    agents.set(origin, { agent: trust.httpsAgent });
    return;
  }
  if (trust.caPem === undefined) {
    agents.delete(origin);
    return;
  }
  const ca = typeof trust.caPem === 'string' ? [trust.caPem] : [...trust.caPem];
  const caKey = ca.join('\n');
  if (agents.get(origin)?.caKey === caKey) return;
  agents.set(origin, { agent: new Agent({ ca, keepAlive: true }), caKey });
}

/** Options of {@link createAcmeClient}. */
export interface AcmeClientOptions extends CaTrust {
  /** The ACME directory URL (`LEGO_URL`). */
  directoryUrl: string;
  /** PEM of the account's private key. */
  accountKeyPem: string;
  /** The account URL, when known; without it the client can only register (or find) the account. */
  accountUrl?: string;
}

/**
 * An acme-client Client for `directoryUrl`, its requests trusted as {@link trustDirectory} says. Its own
 * back-off (used only by acme-client's waitForValidStatus and auto mode, which kube-lego does not call) is
 * set short too, so nothing waits acme-client's default 5 s minimum.
 */
export function createAcmeClient(options: AcmeClientOptions): Client {
  trustDirectory(options.directoryUrl, options);
  return new Client({
    directoryUrl: options.directoryUrl,
    accountKey: options.accountKeyPem,
    ...(options.accountUrl !== undefined && { accountUrl: options.accountUrl }),
    backoffMin: 100,
    backoffMax: 2_000,
    backoffAttempts: 20,
  });
}
