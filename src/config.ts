/**
 * The operator's settings, read from kube-lego's `LEGO_*` environment variables.
 *
 * Every variable of jetstack kube-lego's README is accepted with kube-lego's default, except:
 * - `LEGO_URL`, which now defaults to Let's Encrypt's ACME v2 staging directory;
 * - `LEGO_CHECK_INTERVAL`, which unset leaves the schedule to the diagram's timer cycle (kube-lego: 8h);
 * - `LEGO_KUBE_API_URL`, which unset means in-cluster or kubeconfig (kube-lego: http://127.0.0.1:8080);
 * - `LEGO_SERVICE_SELECTOR`, which is not read.
 * A bad value stops start-up with one line naming the variable, the value and what is expected
 * (see {@link ConfigError}); settings that are each valid but contradict each other stop it with one line
 * naming both, their values and the fix (see {@link ConfigConflict}, {@link checkSchedule}).
 */
import { renewBeforeMs } from './certificate/renewal.ts';
import { formatDuration, parseCycle, parseGoDuration, type Cycle } from './duration.ts';

/** Let's Encrypt's ACME v2 staging directory: the default, as kube-lego defaulted to staging. */
export const LETS_ENCRYPT_STAGING = 'https://acme-staging-v02.api.letsencrypt.org/directory';

/** The log levels pino knows, from most to least verbose. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

/** Ingress providers kube-lego knew; they decide the type of the solver Service. */
export const INGRESS_PROVIDERS = ['nginx', 'gce'] as const;

/**
 * Default of `LEGO_MAX_JOBS_IN_FLIGHT`. Each Job pod asks for 192 MiB; ten of them fit beside other work on
 * a small node, and on this project's 2-core machine more at once did not finish a burst sooner (bench/burst.ts,
 * docs/architecture.md).
 */
export const DEFAULT_MAX_JOBS_IN_FLIGHT = 10;

/** An ingress provider name. */
export type IngressProvider = (typeof INGRESS_PROVIDERS)[number];

/** The parsed settings. Durations are in milliseconds. */
export interface Config {
  email: string | undefined;
  podIp: string | undefined;
  namespace: string;
  url: string;
  secretName: string;
  serviceNameNginx: string;
  serviceNameGce: string;
  supportedIngressClasses: string[];
  supportedIngressProviders: IngressProvider[];
  ingressNameNginx: string;
  port: number;
  /** `LEGO_CHECK_INTERVAL`; when undefined the diagram's timer cycle rules. */
  checkInterval: Cycle | undefined;
  minimumValidityMs: number;
  defaultIngressClass: string;
  defaultIngressProvider: IngressProvider;
  kubeApiUrl: string | undefined;
  logLevel: (typeof LOG_LEVELS)[number];
  logType: 'text' | 'json';
  kubeAnnotation: string;
  /** Namespace to watch; undefined watches all namespaces. */
  watchNamespace: string | undefined;
  rsaKeySize: number;
  backoffMaxElapsedMs: number;
  backoffInitialIntervalMs: number;
  backoffMultiplier: number;
  /** Image the issuance Jobs run (the operator's own image). */
  jobImage: string;
  /** Seconds a finished issuance Job is kept (a failed one at least until its retry is due). */
  jobTtlSeconds: number;
  /**
   * Issuance Jobs in flight at most (`LEGO_MAX_JOBS_IN_FLIGHT`); further certificates wait their turn
   * (src/issuance/job-slots.ts).
   */
  maxJobsInFlight: number;
  /** First wait before a failed issuance is retried (`LEGO_RETRY_INITIAL_INTERVAL`); doubles per failure. */
  retryInitialIntervalMs: number;
  /** Longest wait between retries of a failed issuance (`LEGO_RETRY_MAX_INTERVAL`). */
  retryMaxIntervalMs: number;
  /** Port the issuance Job's pod answers HTTP-01 challenges on (`LEGO_HTTP01_PORT`); the solver Service targets it. */
  http01Port: number;
  /** Type of certificate keys (`LEGO_KEY_TYPE`): RSA of `rsaKeySize` bits, or ECDSA P-256. */
  keyType: 'rsa' | 'ecdsa';
  /** ACME certificate profile to ask for (`LEGO_ACME_PROFILE`, e.g. `tlsserver`); the CA's default when unset. */
  acmeProfile: string | undefined;
  /** Whether the Job checks its challenge URLs before asking the CA (`LEGO_SELF_CHECK`; off for NAT hairpins). */
  selfCheck: boolean;
  /** Port the self-check connects to, as the CA does (`LEGO_SELF_CHECK_PORT`, 80). */
  selfCheckPort: number;
  /** DNS servers (`host:port`) the self-check resolves hosts with (`LEGO_SELF_CHECK_DNS`); the system's when unset. */
  selfCheckDns: string[] | undefined;
  /** PEM of extra CAs to trust for the ACME directory's HTTPS (`LEGO_CA_BUNDLE`), for private ACME CAs. */
  caBundle: string | undefined;
  /** Whether replicas elect a leader through a Lease (`LEGO_LEADER_ELECTION`); off for a lone process. */
  leaderElection: boolean;
  /** This replica's pod name (`LEGO_POD_NAME`, from the downward API), in its leader election identity. */
  podName: string | undefined;
  /**
   * Whether certificates are renewed in the CA's renewal window when it offers one (ACME Renewal
   * Information, RFC 9773; `LEGO_RENEWAL_INFO`), rather than by their lifetime alone.
   */
  renewalInfo: boolean;
  /**
   * Port of the live process view (`LEGO_VIEW_PORT`): the lifecycle diagram with its runs, the certificates
   * table and `/api/certificates`, on the pod's IP; 0 turns it off.
   */
  viewPort: number;
}

/** A setting that cannot be used: names the variable, the value and what is expected. */
export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, value: string, expected: string) {
    super(`${variable}=${JSON.stringify(value)} is not valid: expected ${expected}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/**
 * Settings that are each valid but contradict each other. The line names the variable to change first and
 * its value, what it contradicts (another variable, or the diagram's timer) and the fix, for example
 * `LEGO_MINIMUM_VALIDITY=1h does not fit LEGO_CHECK_INTERVAL=1h: ...; raise LEGO_MINIMUM_VALIDITY to 2h ...`.
 */
export class ConfigConflict extends ConfigError {
  /** What the variable contradicts, e.g. `LEGO_CHECK_INTERVAL=8h` or `the diagram's timer (every 1h)`. */
  readonly other: string;
  constructor(variable: string, value: string, other: string, problem: string, fix: string) {
    super(variable, value, fix);
    this.name = 'ConfigConflict';
    this.other = other;
    this.message = `${setting(variable, value)} does not fit ${other}: ${problem}; ${fix}`;
  }
}

const DAY = 86_400_000;

/**
 * Certificate lifetimes of the ACME profiles whose lifetime is known: Let's Encrypt's `shortlived` (6 days)
 * and `tlsserver` (45 days), and `classic` (90 days). Other profiles, and none, leave the lifetime to the CA.
 */
export const PROFILE_LIFETIMES_MS: ReadonlyMap<string, number> = new Map([
  ['shortlived', 6 * DAY],
  ['tlsserver', 45 * DAY],
  ['classic', 90 * DAY],
]);

type Env = Record<string, string | undefined>;

/** Reads one variable: unset and empty both mean "use the default". */
function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function text(env: Env, name: string, fallback: string): string {
  return read(env, name) ?? fallback;
}

function duration(env: Env, name: string, fallback: string, minimumMs = 0): number {
  const value = read(env, name) ?? fallback;
  const ms = parseGoDuration(value);
  if (ms === undefined || ms < minimumMs) {
    throw new ConfigError(
      name,
      value,
      `a Go duration such as "30s", "8h" or "720h"${minimumMs > 0 ? ` of at least ${formatDuration(minimumMs)}` : ''}`,
    );
  }
  return ms;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = read(env, name);
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max) {
    throw new ConfigError(name, value, `a whole number from ${min} to ${max}`);
  }
  return number;
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const given = read(env, name) ?? fallback;
  const value = given.toLowerCase();
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(name, given, `one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function list(env: Env, name: string, fallback: string): string[] {
  const items = (read(env, name) ?? fallback)
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) throw new ConfigError(name, env[name] ?? '', 'a comma-separated list');
  return items;
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function name(env: Env, variable: string, fallback: string): string {
  const value = text(env, variable, fallback);
  if (value.length > 63 || !dnsLabel.test(value)) {
    throw new ConfigError(
      variable,
      value,
      'a Kubernetes name (lower case letters, digits and "-", at most 63)',
    );
  }
  return value;
}

function url(env: Env, variable: string, fallback: string | undefined): string | undefined {
  const value = read(env, variable) ?? fallback;
  if (value === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(variable, value, 'an absolute http:// or https:// URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new ConfigError(variable, value, 'an absolute http:// or https:// URL');
  }
  return value;
}

function email(env: Env): string | undefined {
  const value = read(env, 'LEGO_EMAIL');
  if (value !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value)) {
    throw new ConfigError('LEGO_EMAIL', value, 'an e-mail address such as ops@example.com');
  }
  return value;
}

function checkInterval(env: Env): Cycle | undefined {
  const value = read(env, 'LEGO_CHECK_INTERVAL');
  if (value === undefined) return undefined;
  const goMs = parseGoDuration(value);
  const cycle = goMs !== undefined ? { intervalMs: goMs, repetitions: undefined } : parseCycle(value);
  if (cycle === undefined || cycle.intervalMs < 1000) {
    throw new ConfigError(
      'LEGO_CHECK_INTERVAL',
      value,
      'a Go duration of at least 1s such as "8h", or an ISO 8601 cycle such as "R/PT1H"',
    );
  }
  return cycle;
}

/**
 * `LEGO_EXPONENTIAL_BACKOFF_MULTIPLIER` (what kube-lego's code read), or
 * `LEGO_EXPONENTIAL_BACKOFF_MAX_MULTIPLIER` (what its README documented) when only that one is set.
 */
function multiplier(env: Env): number {
  const variable =
    read(env, 'LEGO_EXPONENTIAL_BACKOFF_MULTIPLIER') === undefined &&
    read(env, 'LEGO_EXPONENTIAL_BACKOFF_MAX_MULTIPLIER') !== undefined
      ? 'LEGO_EXPONENTIAL_BACKOFF_MAX_MULTIPLIER'
      : 'LEGO_EXPONENTIAL_BACKOFF_MULTIPLIER';
  const value = read(env, variable);
  if (value === undefined) return 2;
  const number = Number(value);
  if (!Number.isFinite(number) || number < 1) {
    throw new ConfigError(variable, value, 'a number of at least 1.0');
  }
  return number;
}

/** `LEGO_DEFAULT_INGRESS_CLASS`; when set, it must be one of the supported classes (as in kube-lego). */
function defaultIngressClass(env: Env, supported: string[]): string {
  const value = read(env, 'LEGO_DEFAULT_INGRESS_CLASS');
  if (value === undefined) return 'nginx';
  if (!supported.includes(value)) {
    throw new ConfigError(
      'LEGO_DEFAULT_INGRESS_CLASS',
      value,
      `one of the supported classes (LEGO_SUPPORTED_INGRESS_CLASS): ${supported.join(', ')}`,
    );
  }
  return value;
}

/**
 * `LEGO_DEFAULT_INGRESS_PROVIDER`; when set, it must be one of the supported providers (as in kube-lego).
 * Unset, it follows the default class, as kube-lego's did, when that class is a supported provider's name
 * (`gce`), and is `nginx` otherwise (kube-lego then failed every Ingress without a provider annotation).
 */
function defaultIngressProvider(
  env: Env,
  defaultClass: string,
  supported: IngressProvider[],
): IngressProvider {
  const value = read(env, 'LEGO_DEFAULT_INGRESS_PROVIDER');
  if (value === undefined) {
    const fromClass = defaultClass.toLowerCase();
    return (supported as string[]).includes(fromClass) ? (fromClass as IngressProvider) : 'nginx';
  }
  const provider = oneOf(env, 'LEGO_DEFAULT_INGRESS_PROVIDER', 'nginx', INGRESS_PROVIDERS);
  if (!supported.includes(provider)) {
    throw new ConfigError(
      'LEGO_DEFAULT_INGRESS_PROVIDER',
      value,
      `one of the supported providers (LEGO_SUPPORTED_INGRESS_PROVIDER): ${supported.join(', ')}`,
    );
  }
  return provider;
}

function dnsServers(env: Env): string[] | undefined {
  const value = read(env, 'LEGO_SELF_CHECK_DNS');
  if (value === undefined) return undefined;
  const servers = value.split(',').map((server) => server.trim());
  for (const server of servers) {
    if (!/^[0-9a-fA-F.:[\]]+(:\d{1,5})?$/.test(server)) {
      throw new ConfigError(
        'LEGO_SELF_CHECK_DNS',
        value,
        'a comma-separated list of DNS server addresses such as 10.0.0.10:53',
      );
    }
  }
  return servers;
}

function caBundle(env: Env): string | undefined {
  const value = read(env, 'LEGO_CA_BUNDLE');
  if (value !== undefined && !value.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError(
      'LEGO_CA_BUNDLE',
      value.slice(0, 40),
      'PEM certificates (-----BEGIN CERTIFICATE-----)',
    );
  }
  return value;
}

/** `NAME="value"`, as conflict messages name a setting. */
function setting(variable: string, value: string): string {
  return `${variable}=${JSON.stringify(value)}`;
}

/** How long before expiry certificates are renewed, as far as the settings tell, and which setting decides it. */
interface RenewalWindow {
  ms: number;
  variable: 'LEGO_MINIMUM_VALIDITY' | 'LEGO_ACME_PROFILE';
  value: string;
  /** What is renewed, for messages: `certificates`, or `its 6-day certificates` for a known profile. */
  certificates: string;
}

/**
 * The renewal window (src/certificate/renewal.ts): `LEGO_MINIMUM_VALIDITY`, or less when `LEGO_ACME_PROFILE`
 * names a profile of known lifetime whose lifetime rule (a third, or half under 10 days) comes first.
 */
function renewalWindow(config: Config): RenewalWindow {
  const minimum: RenewalWindow = {
    ms: config.minimumValidityMs,
    variable: 'LEGO_MINIMUM_VALIDITY',
    value: formatDuration(config.minimumValidityMs),
    certificates: 'certificates',
  };
  const profile = config.acmeProfile;
  const lifetime = profile === undefined ? undefined : PROFILE_LIFETIMES_MS.get(profile);
  if (profile === undefined || lifetime === undefined) return minimum;
  const ms = renewBeforeMs(lifetime, config.minimumValidityMs);
  if (ms >= config.minimumValidityMs) return minimum;
  return {
    ms,
    variable: 'LEGO_ACME_PROFILE',
    value: profile,
    certificates: `its ${lifetime / DAY}-day certificates`,
  };
}

/**
 * The self-check's back-off: its first wait (`LEGO_EXPONENTIAL_BACKOFF_INITIAL_INTERVAL`, or the alias the
 * value came from) must fit in the time it has (`LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME`), or the
 * back-off never grows and the setting means nothing.
 */
function checkBackoff(config: Config, initialVariable: string): void {
  if (config.backoffInitialIntervalMs <= config.backoffMaxElapsedMs) return;
  const initial = formatDuration(config.backoffInitialIntervalMs);
  const maxElapsed = formatDuration(config.backoffMaxElapsedMs);
  throw new ConfigConflict(
    initialVariable,
    initial,
    setting('LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME', maxElapsed),
    "the self-check's first wait would be longer than all the time it has to retry",
    `set ${initialVariable} to ${maxElapsed} or less, or raise LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME to ${initial} or more`,
  );
}

/**
 * The retries' back-off: its first wait must not exceed its longest, and its longest must leave half the
 * renewal window, so a certificate whose issuance keeps failing is still tried a few times before it expires.
 */
function checkRetry(config: Config): void {
  if (config.retryInitialIntervalMs > config.retryMaxIntervalMs) {
    const initial = formatDuration(config.retryInitialIntervalMs);
    throw new ConfigConflict(
      'LEGO_RETRY_INITIAL_INTERVAL',
      initial,
      setting('LEGO_RETRY_MAX_INTERVAL', formatDuration(config.retryMaxIntervalMs)),
      'the first wait before a retry would be longer than the longest',
      `set LEGO_RETRY_INITIAL_INTERVAL to ${formatDuration(config.retryMaxIntervalMs)} or less, or raise LEGO_RETRY_MAX_INTERVAL to ${initial} or more`,
    );
  }
  const window = renewalWindow(config);
  const maxMs = config.retryMaxIntervalMs;
  if (maxMs <= window.ms / 2) return;
  const half = formatDuration(window.ms / 2);
  throw new ConfigConflict(
    'LEGO_RETRY_MAX_INTERVAL',
    formatDuration(maxMs),
    setting(window.variable, window.value),
    `${window.certificates} are renewed ${formatDuration(window.ms)} before they expire, and a failed issuance may wait LEGO_RETRY_MAX_INTERVAL before its next attempt, which must leave half that time (${half}) for the retries`,
    window.variable === 'LEGO_MINIMUM_VALIDITY'
      ? `set LEGO_RETRY_MAX_INTERVAL to ${half} or less, or raise LEGO_MINIMUM_VALIDITY to ${formatDuration(2 * maxMs)} or more`
      : `set LEGO_RETRY_MAX_INTERVAL to ${half} or less`,
  );
}

/**
 * Checks the settings against the check interval in force: `LEGO_CHECK_INTERVAL` when set, else the
 * diagram's timer cycle (`diagramCycle`; parseConfig, which has no diagram, checks only the variable and
 * main.ts checks again once the diagram is loaded). The renewal window (`LEGO_MINIMUM_VALIDITY`, or less
 * for a `LEGO_ACME_PROFILE` of known lifetime such as `shortlived`) must hold two checks: one to renew, one
 * to retry. Throws {@link ConfigConflict}; no interval at all (no variable, no timer) passes.
 */
export function checkSchedule(config: Config, diagramCycle: Cycle | undefined): void {
  const cycle = config.checkInterval ?? diagramCycle;
  if (cycle === undefined) return;
  const window = renewalWindow(config);
  if (window.ms >= 2 * cycle.intervalMs) return;
  const interval = formatDuration(cycle.intervalMs);
  const fromVariable = config.checkInterval !== undefined;
  const longest = `${fromVariable ? 'shorten' : 'set'} LEGO_CHECK_INTERVAL to ${formatDuration(window.ms / 2)} or less`;
  throw new ConfigConflict(
    window.variable,
    window.value,
    fromVariable ? setting('LEGO_CHECK_INTERVAL', interval) : `the diagram's timer (every ${interval})`,
    `${window.certificates} are renewed ${formatDuration(window.ms)} before they expire, which must hold two checks (${formatDuration(2 * cycle.intervalMs)}): one to renew, one to retry`,
    window.variable === 'LEGO_MINIMUM_VALIDITY'
      ? `raise LEGO_MINIMUM_VALIDITY to ${formatDuration(2 * cycle.intervalMs)} or more, or ${longest}`
      : longest,
  );
}

/**
 * Parses the environment; throws {@link ConfigError} on the first bad value, then {@link ConfigConflict} on
 * the first pair of settings that contradict each other (the back-off's two durations; the check interval,
 * then the retries' longest wait, against the renewal window).
 */
export function parseConfig(env: Env, version = '0.1.0'): Config {
  const supportedIngressProviders = list(env, 'LEGO_SUPPORTED_INGRESS_PROVIDER', 'nginx,gce').map((value) => {
    const provider = value.toLowerCase();
    if (!(INGRESS_PROVIDERS as readonly string[]).includes(provider)) {
      throw new ConfigError(
        'LEGO_SUPPORTED_INGRESS_PROVIDER',
        value,
        `a list of ${INGRESS_PROVIDERS.join(', ')}`,
      );
    }
    return provider as IngressProvider;
  });
  const rsaKeySize = integer(env, 'LEGO_RSA_KEYSIZE', 2048, 2048, 8192);
  if (rsaKeySize % 1024 !== 0) {
    throw new ConfigError('LEGO_RSA_KEYSIZE', String(rsaKeySize), 'a multiple of 1024 from 2048 to 8192');
  }
  const initialVariable =
    read(env, 'LEGO_EXPONENTIAL_BACKOFF_INITIAL_INTERVAL') === undefined &&
    read(env, 'LEGO_EXPONENTIAL_BACKOFF_MAX_INITIAL_INTERVAL') !== undefined
      ? 'LEGO_EXPONENTIAL_BACKOFF_MAX_INITIAL_INTERVAL'
      : 'LEGO_EXPONENTIAL_BACKOFF_INITIAL_INTERVAL';
  const initialInterval = duration(env, initialVariable, '30s', 1);
  const supportedIngressClasses = list(env, 'LEGO_SUPPORTED_INGRESS_CLASS', 'nginx,gce');
  const defaultClass = defaultIngressClass(env, supportedIngressClasses);
  const config: Config = {
    email: email(env),
    podIp: read(env, 'LEGO_POD_IP'),
    namespace: name(env, 'LEGO_NAMESPACE', 'default'),
    url: url(env, 'LEGO_URL', LETS_ENCRYPT_STAGING)!,
    secretName: name(env, 'LEGO_SECRET_NAME', 'kube-lego-account'),
    serviceNameNginx: name(env, 'LEGO_SERVICE_NAME_NGINX', 'kube-lego-nginx'),
    serviceNameGce: name(env, 'LEGO_SERVICE_NAME_GCE', 'kube-lego-gce'),
    supportedIngressClasses,
    supportedIngressProviders,
    ingressNameNginx: name(env, 'LEGO_INGRESS_NAME_NGINX', 'kube-lego-nginx'),
    port: integer(env, 'LEGO_PORT', 8080, 1, 65535),
    checkInterval: checkInterval(env),
    minimumValidityMs: duration(env, 'LEGO_MINIMUM_VALIDITY', '720h', 1),
    defaultIngressClass: defaultClass,
    defaultIngressProvider: defaultIngressProvider(env, defaultClass, supportedIngressProviders),
    kubeApiUrl: url(env, 'LEGO_KUBE_API_URL', undefined),
    logLevel: oneOf(env, 'LEGO_LOG_LEVEL', 'info', LOG_LEVELS),
    logType: oneOf(env, 'LEGO_LOG_TYPE', 'text', ['text', 'json'] as const),
    kubeAnnotation: text(env, 'LEGO_KUBE_ANNOTATION', 'kubernetes.io/tls-acme'),
    watchNamespace: read(env, 'LEGO_WATCH_NAMESPACE'),
    rsaKeySize,
    backoffMaxElapsedMs: duration(env, 'LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME', '5m', 1),
    backoffInitialIntervalMs: initialInterval,
    backoffMultiplier: multiplier(env),
    jobImage: text(env, 'LEGO_JOB_IMAGE', `kube-lego/kube-lego:${version}`),
    jobTtlSeconds: Math.round(duration(env, 'LEGO_JOB_TTL', '1h', 1000) / 1000),
    maxJobsInFlight: integer(env, 'LEGO_MAX_JOBS_IN_FLIGHT', DEFAULT_MAX_JOBS_IN_FLIGHT, 1, 10_000),
    retryInitialIntervalMs: duration(env, 'LEGO_RETRY_INITIAL_INTERVAL', '1m', 1000),
    retryMaxIntervalMs: duration(env, 'LEGO_RETRY_MAX_INTERVAL', '24h', 1000),
    http01Port: integer(env, 'LEGO_HTTP01_PORT', 8080, 1, 65535),
    keyType: oneOf(env, 'LEGO_KEY_TYPE', 'rsa', ['rsa', 'ecdsa'] as const),
    acmeProfile: read(env, 'LEGO_ACME_PROFILE'),
    selfCheck: oneOf(env, 'LEGO_SELF_CHECK', 'true', ['true', 'false'] as const) === 'true',
    selfCheckPort: integer(env, 'LEGO_SELF_CHECK_PORT', 80, 1, 65535),
    selfCheckDns: dnsServers(env),
    caBundle: caBundle(env),
    leaderElection: oneOf(env, 'LEGO_LEADER_ELECTION', 'true', ['true', 'false'] as const) === 'true',
    podName: read(env, 'LEGO_POD_NAME'),
    renewalInfo: oneOf(env, 'LEGO_RENEWAL_INFO', 'true', ['true', 'false'] as const) === 'true',
    viewPort: integer(env, 'LEGO_VIEW_PORT', 8081, 0, 65535),
  };
  checkBackoff(config, initialVariable);
  checkSchedule(config, undefined);
  checkRetry(config);
  return config;
}
