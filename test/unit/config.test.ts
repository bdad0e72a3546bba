/**
 * The `LEGO_*` settings: kube-lego's defaults, good values, and one exact message per bad value; and the
 * list of variables, taken from what the code reads (never kept by hand), matched both ways against the
 * README's Configuration tables.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  ConfigConflict,
  ConfigError,
  LETS_ENCRYPT_STAGING,
  checkSchedule,
  parseConfig,
  type Config,
} from '../../src/config.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * Every `LEGO_*` variable parseConfig reads, as it reads them: it is handed an environment that notes each
 * name looked up. Each must have a row in the good-value table below, and in the README.
 */
function variablesParseConfigReads(): string[] {
  const looked = new Set<string>();
  const env = new Proxy<Record<string, string | undefined>>(
    {},
    {
      get(target, key) {
        if (typeof key === 'string' && key.startsWith('LEGO_')) looked.add(key);
        return Reflect.get(target, key);
      },
    },
  );
  parseConfig(env);
  return [...looked].sort();
}

const VARIABLES = variablesParseConfigReads();

/**
 * The `LEGO_*` variables the source of src/, jobs/ and tasks/ reads from an environment object, found with
 * regular expressions outside comments: `env.LEGO_X` and `env['LEGO_X']` (process.env included), and
 * config.ts's readers, called as `reader(env, 'LEGO_X', …)`. The Job contract's `LEGO_CERT_*` (ORDER_ENV)
 * are read through a variable name, so not found: the operator sets them on each Job; they are no settings.
 */
function variablesTheSourceReads(): string[] {
  const root = new URL('../../', import.meta.url);
  const reads = [
    /\benv\.(LEGO_[A-Z0-9_]+)/g,
    /\benv\[\s*['"`](LEGO_[A-Z0-9_]+)['"`]\s*\]/g,
    /\(\s*env\s*,\s*['"`](LEGO_[A-Z0-9_]+)['"`]/g,
  ];
  const found = new Set<string>();
  for (const dir of ['src', 'jobs', 'tasks']) {
    for (const file of readdirSync(new URL(`${dir}/`, root), { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts')) continue;
      const code = readFileSync(new URL(`${dir}/${file}`, root), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/(^|\s)\/\/.*$/gm, '$1');
      for (const pattern of reads) for (const match of code.matchAll(pattern)) found.add(match[1]!);
    }
  }
  return [...found].sort();
}

/**
 * The README's Configuration section: the variables of its settings table (`variable | default | meaning`),
 * the aliases its rows name (`` `LEGO_X` … is read as an alias ``), and the variables of its table of
 * kube-lego variables that no longer apply.
 */
function readmeConfiguration(): { settings: string[]; aliases: string[]; retired: string[] } {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('\n## Configuration\n');
  assert.ok(start >= 0, 'README.md has a "## Configuration" section');
  const end = readme.indexOf('\n## ', start + 1);
  const lines = readme.slice(start, end < 0 ? undefined : end).split('\n');
  const tables: string[][][] = [];
  let table: string[][] | undefined;
  for (const line of lines) {
    if (!line.startsWith('|')) {
      table = undefined;
      continue;
    }
    const cells = line
      .slice(1, line.lastIndexOf('|'))
      .split('|')
      .map((cell) => cell.trim());
    if (table === undefined) tables.push((table = []));
    if (!cells.every((cell) => /^-+$/.test(cell))) table.push(cells);
  }
  const names = (text: string) => [...text.matchAll(/`(LEGO_[A-Z0-9_]+)`/g)].map((match) => match[1]!);
  const rowsOf = (header: (cells: string[]) => boolean) => {
    const found = tables.filter(([head]) => head !== undefined && header(head));
    assert.equal(found.length, 1, 'one such table in the Configuration section');
    return found[0]!.slice(1);
  };
  const settingsRows = rowsOf(([first, second]) => first === 'variable' && second === 'default');
  const retiredRows = rowsOf(([first, second]) => first === 'variable' && /no longer applies/.test(second!));
  return {
    settings: settingsRows.flatMap(([variable]) => names(variable!)).sort(),
    aliases: settingsRows
      .flatMap((cells) =>
        [
          ...cells
            .slice(1)
            .join(' | ')
            .matchAll(/`(LEGO_[A-Z0-9_]+)`[^`|]*\bis read as an alias\b/g),
        ].map((match) => match[1]!),
      )
      .sort(),
    retired: retiredRows.flatMap(([variable]) => names(variable!)).sort(),
  };
}

/**
 * kube-lego's defaults (its README and `paramsLego`), except where src/config.ts documents otherwise:
 * LEGO_URL is ACME v2 staging, LEGO_CHECK_INTERVAL and LEGO_KUBE_API_URL are unset (the diagram's timer
 * and in-cluster config rule), and LEGO_JOB_IMAGE / LEGO_JOB_TTL / LEGO_RETRY_* are this operator's own.
 */
const DEFAULTS: Config = {
  email: undefined,
  podIp: undefined,
  namespace: 'default',
  url: 'https://acme-staging-v02.api.letsencrypt.org/directory',
  secretName: 'kube-lego-account',
  serviceNameNginx: 'kube-lego-nginx',
  serviceNameGce: 'kube-lego-gce',
  supportedIngressClasses: ['nginx', 'gce'],
  supportedIngressProviders: ['nginx', 'gce'],
  ingressNameNginx: 'kube-lego-nginx',
  port: 8080,
  checkInterval: undefined,
  minimumValidityMs: 720 * HOUR,
  defaultIngressClass: 'nginx',
  defaultIngressProvider: 'nginx',
  kubeApiUrl: undefined,
  logLevel: 'info',
  logType: 'text',
  kubeAnnotation: 'kubernetes.io/tls-acme',
  watchNamespace: undefined,
  rsaKeySize: 2048,
  backoffMaxElapsedMs: 5 * MINUTE,
  backoffInitialIntervalMs: 30 * SECOND,
  backoffMultiplier: 2,
  jobImage: 'kube-lego/kube-lego:0.1.0',
  jobTtlSeconds: 3600,
  maxJobsInFlight: 10,
  retryInitialIntervalMs: 60_000,
  retryMaxIntervalMs: 86_400_000,
  leaderElection: true,
  podName: undefined,
  renewalInfo: true,
  viewPort: 8081,
  http01Port: 8080,
  keyType: 'rsa',
  acmeProfile: undefined,
  selfCheck: true,
  selfCheckPort: 80,
  selfCheckDns: undefined,
  caBundle: undefined,
};

/** parseConfig's error for env, or a failure when it does not throw. */
function configError(env: Record<string, string>): ConfigError {
  try {
    parseConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${String(error)}`);
    return error;
  }
  assert.fail(`accepted ${JSON.stringify(env)}`);
}

describe('parseConfig defaults', () => {
  it("gives kube-lego's defaults for an empty environment", () => {
    assert.deepEqual(parseConfig({}), DEFAULTS);
  });

  it("defaults LEGO_URL to Let's Encrypt's ACME v2 staging directory", () => {
    assert.equal(LETS_ENCRYPT_STAGING, 'https://acme-staging-v02.api.letsencrypt.org/directory');
    assert.equal(parseConfig({}).url, LETS_ENCRYPT_STAGING);
  });

  it('reads an empty or blank variable as unset', () => {
    for (const value of ['', '   ']) {
      const env = Object.fromEntries(VARIABLES.map((variable) => [variable, value]));
      assert.deepEqual(parseConfig(env), DEFAULTS, JSON.stringify(value));
    }
  });

  it('ignores variables it does not know', () => {
    assert.deepEqual(parseConfig({ LEGO_SERVICE_SELECTOR: 'other', PATH: '/bin' }), DEFAULTS);
  });

  it('names the job image after the version', () => {
    assert.equal(parseConfig({}, '1.2.3').jobImage, 'kube-lego/kube-lego:1.2.3');
  });
});

describe('parseConfig good values', () => {
  const table: [env: Record<string, string>, expected: Partial<Config>][] = [
    [{ LEGO_EMAIL: 'ops@example.com' }, { email: 'ops@example.com' }],
    [{ LEGO_EMAIL: ' ops@example.com ' }, { email: 'ops@example.com' }],
    [{ LEGO_POD_IP: '10.0.0.7' }, { podIp: '10.0.0.7' }],
    [{ LEGO_NAMESPACE: 'kube-lego' }, { namespace: 'kube-lego' }],
    [
      { LEGO_URL: 'https://acme-v02.api.letsencrypt.org/directory' },
      { url: 'https://acme-v02.api.letsencrypt.org/directory' },
    ],
    [{ LEGO_URL: 'http://pebble:14000/dir' }, { url: 'http://pebble:14000/dir' }],
    [{ LEGO_SECRET_NAME: 'acme-account' }, { secretName: 'acme-account' }],
    [{ LEGO_SERVICE_NAME_NGINX: 'solver' }, { serviceNameNginx: 'solver' }],
    [{ LEGO_SERVICE_NAME_GCE: 'solver-gce' }, { serviceNameGce: 'solver-gce' }],
    [{ LEGO_SUPPORTED_INGRESS_CLASS: 'nginx, traefik ,' }, { supportedIngressClasses: ['nginx', 'traefik'] }],
    [{ LEGO_SUPPORTED_INGRESS_PROVIDER: 'GCE' }, { supportedIngressProviders: ['gce'] }],
    [{ LEGO_INGRESS_NAME_NGINX: 'solver-ingress' }, { ingressNameNginx: 'solver-ingress' }],
    [{ LEGO_PORT: '1' }, { port: 1 }],
    [{ LEGO_PORT: '65535' }, { port: 65535 }],
    [{ LEGO_CHECK_INTERVAL: '8h' }, { checkInterval: { intervalMs: 8 * HOUR, repetitions: undefined } }],
    [{ LEGO_CHECK_INTERVAL: '1s' }, { checkInterval: { intervalMs: SECOND, repetitions: undefined } }],
    [{ LEGO_CHECK_INTERVAL: 'R/PT1H' }, { checkInterval: { intervalMs: HOUR, repetitions: undefined } }],
    [{ LEGO_CHECK_INTERVAL: 'R5/PT10M' }, { checkInterval: { intervalMs: 10 * MINUTE, repetitions: 5 } }],
    [
      { LEGO_CHECK_INTERVAL: 'PT30M' },
      { checkInterval: { intervalMs: 30 * MINUTE, repetitions: undefined } },
    ],
    [{ LEGO_MINIMUM_VALIDITY: '240h' }, { minimumValidityMs: 240 * HOUR }],
    [
      { LEGO_SUPPORTED_INGRESS_CLASS: 'nginx,traefik', LEGO_DEFAULT_INGRESS_CLASS: 'traefik' },
      {
        supportedIngressClasses: ['nginx', 'traefik'],
        defaultIngressClass: 'traefik',
        defaultIngressProvider: 'nginx',
      },
    ],
    // kube-lego: "LEGO_DEFAULT_INGRESS_PROVIDER defaults to $LEGO_DEFAULT_INGRESS_CLASS".
    [{ LEGO_DEFAULT_INGRESS_CLASS: 'gce' }, { defaultIngressClass: 'gce', defaultIngressProvider: 'gce' }],
    [
      { LEGO_DEFAULT_INGRESS_CLASS: 'gce', LEGO_SUPPORTED_INGRESS_PROVIDER: 'nginx' },
      { supportedIngressProviders: ['nginx'], defaultIngressClass: 'gce', defaultIngressProvider: 'nginx' },
    ],
    [{ LEGO_DEFAULT_INGRESS_PROVIDER: 'GCE' }, { defaultIngressProvider: 'gce' }],
    [{ LEGO_KUBE_API_URL: 'https://10.0.0.1:6443' }, { kubeApiUrl: 'https://10.0.0.1:6443' }],
    [{ LEGO_LOG_LEVEL: 'DEBUG' }, { logLevel: 'debug' }],
    [{ LEGO_LOG_LEVEL: 'trace' }, { logLevel: 'trace' }],
    [{ LEGO_LOG_TYPE: 'json' }, { logType: 'json' }],
    [{ LEGO_KUBE_ANNOTATION: 'example.com/tls-acme-prod' }, { kubeAnnotation: 'example.com/tls-acme-prod' }],
    [{ LEGO_WATCH_NAMESPACE: 'shop' }, { watchNamespace: 'shop' }],
    [{ LEGO_RSA_KEYSIZE: '4096' }, { rsaKeySize: 4096 }],
    [{ LEGO_RSA_KEYSIZE: '8192' }, { rsaKeySize: 8192 }],
    [{ LEGO_RSA_KEYSIZE: '3072' }, { rsaKeySize: 3072 }],
    [{ LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME: '60s' }, { backoffMaxElapsedMs: MINUTE }],
    [{ LEGO_EXPONENTIAL_BACKOFF_INITIAL_INTERVAL: '15s' }, { backoffInitialIntervalMs: 15 * SECOND }],
    // The README's name for it; kube-lego's code read LEGO_EXPONENTIAL_BACKOFF_INITIAL_INTERVAL.
    [{ LEGO_EXPONENTIAL_BACKOFF_MAX_INITIAL_INTERVAL: '10s' }, { backoffInitialIntervalMs: 10 * SECOND }],
    [
      {
        LEGO_EXPONENTIAL_BACKOFF_INITIAL_INTERVAL: '15s',
        LEGO_EXPONENTIAL_BACKOFF_MAX_INITIAL_INTERVAL: '10s',
      },
      { backoffInitialIntervalMs: 15 * SECOND },
    ],
    [{ LEGO_EXPONENTIAL_BACKOFF_MULTIPLIER: '1.1' }, { backoffMultiplier: 1.1 }],
    [{ LEGO_EXPONENTIAL_BACKOFF_MULTIPLIER: '3' }, { backoffMultiplier: 3 }],
    // The README's name for it; kube-lego's code read LEGO_EXPONENTIAL_BACKOFF_MULTIPLIER.
    [{ LEGO_EXPONENTIAL_BACKOFF_MAX_MULTIPLIER: '1.5' }, { backoffMultiplier: 1.5 }],
    [
      { LEGO_EXPONENTIAL_BACKOFF_MULTIPLIER: '3', LEGO_EXPONENTIAL_BACKOFF_MAX_MULTIPLIER: '1.5' },
      { backoffMultiplier: 3 },
    ],
    [{ LEGO_JOB_IMAGE: 'registry.example/lego:dev' }, { jobImage: 'registry.example/lego:dev' }],
    [{ LEGO_JOB_TTL: '10m' }, { jobTtlSeconds: 600 }],
    [{ LEGO_JOB_TTL: '1s' }, { jobTtlSeconds: 1 }],
    [{ LEGO_MAX_JOBS_IN_FLIGHT: '50' }, { maxJobsInFlight: 50 }],
    [{ LEGO_RETRY_INITIAL_INTERVAL: '30s' }, { retryInitialIntervalMs: 30_000 }],
    [{ LEGO_RETRY_MAX_INTERVAL: '6h' }, { retryMaxIntervalMs: 6 * 3_600_000 }],
    [{ LEGO_KEY_TYPE: 'ECDSA' }, { keyType: 'ecdsa' }],
    [{ LEGO_LEADER_ELECTION: 'false' }, { leaderElection: false }],
    [{ LEGO_RENEWAL_INFO: 'false' }, { renewalInfo: false }],
    [{ LEGO_VIEW_PORT: '0' }, { viewPort: 0 }],
    [{ LEGO_VIEW_PORT: '9090' }, { viewPort: 9090 }],
    [{ LEGO_POD_NAME: 'kube-lego-7d9f-abcde' }, { podName: 'kube-lego-7d9f-abcde' }],
    [{ LEGO_HTTP01_PORT: '5002' }, { http01Port: 5002 }],
    [{ LEGO_ACME_PROFILE: 'tlsserver' }, { acmeProfile: 'tlsserver' }],
    [{ LEGO_SELF_CHECK: 'false' }, { selfCheck: false }],
    [{ LEGO_SELF_CHECK_PORT: '5002' }, { selfCheckPort: 5002 }],
    [{ LEGO_SELF_CHECK_DNS: '127.0.0.1:8053, 10.0.0.10' }, { selfCheckDns: ['127.0.0.1:8053', '10.0.0.10'] }],
    [
      { LEGO_CA_BUNDLE: '-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----' },
      { caBundle: '-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----' },
    ],
  ];
  for (const [env, expected] of table) {
    it(`reads ${JSON.stringify(env)}`, () => {
      assert.deepEqual(parseConfig(env), { ...DEFAULTS, ...expected });
    });
  }

  it('has a good-value row for every variable', () => {
    const covered = new Set(table.flatMap(([env]) => Object.keys(env)));
    assert.deepEqual(
      VARIABLES.filter((variable) => !covered.has(variable)),
      [],
    );
  });
});

describe('parseConfig bad values', () => {
  const kubernetesName = 'a Kubernetes name (lower case letters, digits and "-", at most 63)';
  const httpUrl = 'an absolute http:// or https:// URL';
  const goDuration = 'a Go duration such as "30s", "8h" or "720h"';
  const atLeast1ms = `${goDuration} of at least 1ms`;
  const cycle = 'a Go duration of at least 1s such as "8h", or an ISO 8601 cycle such as "R/PT1H"';
  const table: [env: Record<string, string>, message: string][] = [
    [
      { LEGO_EMAIL: 'ops' },
      'LEGO_EMAIL="ops" is not valid: expected an e-mail address such as ops@example.com',
    ],
    [
      { LEGO_EMAIL: 'ops @example.com' },
      'LEGO_EMAIL="ops @example.com" is not valid: expected an e-mail address such as ops@example.com',
    ],
    [{ LEGO_NAMESPACE: 'Kube-Lego' }, `LEGO_NAMESPACE="Kube-Lego" is not valid: expected ${kubernetesName}`],
    [{ LEGO_NAMESPACE: '-lego' }, `LEGO_NAMESPACE="-lego" is not valid: expected ${kubernetesName}`],
    [
      { LEGO_NAMESPACE: 'a'.repeat(64) },
      `LEGO_NAMESPACE="${'a'.repeat(64)}" is not valid: expected ${kubernetesName}`,
    ],
    [{ LEGO_URL: 'acme.example/dir' }, `LEGO_URL="acme.example/dir" is not valid: expected ${httpUrl}`],
    [{ LEGO_URL: 'ftp://acme.example/' }, `LEGO_URL="ftp://acme.example/" is not valid: expected ${httpUrl}`],
    [
      { LEGO_SECRET_NAME: 'acme_account' },
      `LEGO_SECRET_NAME="acme_account" is not valid: expected ${kubernetesName}`,
    ],
    [
      { LEGO_SERVICE_NAME_NGINX: 'Solver' },
      `LEGO_SERVICE_NAME_NGINX="Solver" is not valid: expected ${kubernetesName}`,
    ],
    [
      { LEGO_SERVICE_NAME_GCE: 'solver.gce' },
      `LEGO_SERVICE_NAME_GCE="solver.gce" is not valid: expected ${kubernetesName}`,
    ],
    [
      { LEGO_INGRESS_NAME_NGINX: 'solver-' },
      `LEGO_INGRESS_NAME_NGINX="solver-" is not valid: expected ${kubernetesName}`,
    ],
    [
      { LEGO_SUPPORTED_INGRESS_CLASS: ',' },
      'LEGO_SUPPORTED_INGRESS_CLASS="," is not valid: expected a comma-separated list',
    ],
    [
      { LEGO_SUPPORTED_INGRESS_PROVIDER: 'nginx,traefik' },
      'LEGO_SUPPORTED_INGRESS_PROVIDER="traefik" is not valid: expected a list of nginx, gce',
    ],
    [
      { LEGO_SUPPORTED_INGRESS_PROVIDER: ', ,' },
      'LEGO_SUPPORTED_INGRESS_PROVIDER=", ," is not valid: expected a comma-separated list',
    ],
    [{ LEGO_PORT: '0' }, 'LEGO_PORT="0" is not valid: expected a whole number from 1 to 65535'],
    [{ LEGO_PORT: '65536' }, 'LEGO_PORT="65536" is not valid: expected a whole number from 1 to 65535'],
    [{ LEGO_PORT: '80a' }, 'LEGO_PORT="80a" is not valid: expected a whole number from 1 to 65535'],
    [{ LEGO_PORT: '-1' }, 'LEGO_PORT="-1" is not valid: expected a whole number from 1 to 65535'],
    [{ LEGO_PORT: '8080.5' }, 'LEGO_PORT="8080.5" is not valid: expected a whole number from 1 to 65535'],
    [{ LEGO_CHECK_INTERVAL: '500ms' }, `LEGO_CHECK_INTERVAL="500ms" is not valid: expected ${cycle}`],
    [{ LEGO_CHECK_INTERVAL: '0' }, `LEGO_CHECK_INTERVAL="0" is not valid: expected ${cycle}`],
    [{ LEGO_CHECK_INTERVAL: 'PT0.5S' }, `LEGO_CHECK_INTERVAL="PT0.5S" is not valid: expected ${cycle}`],
    [{ LEGO_CHECK_INTERVAL: '1d' }, `LEGO_CHECK_INTERVAL="1d" is not valid: expected ${cycle}`],
    [{ LEGO_CHECK_INTERVAL: 'R/P1M' }, `LEGO_CHECK_INTERVAL="R/P1M" is not valid: expected ${cycle}`],
    [{ LEGO_MINIMUM_VALIDITY: '30d' }, `LEGO_MINIMUM_VALIDITY="30d" is not valid: expected ${atLeast1ms}`],
    [{ LEGO_MINIMUM_VALIDITY: '0' }, `LEGO_MINIMUM_VALIDITY="0" is not valid: expected ${atLeast1ms}`],
    [
      { LEGO_DEFAULT_INGRESS_CLASS: 'traefik' },
      'LEGO_DEFAULT_INGRESS_CLASS="traefik" is not valid: expected one of the supported classes ' +
        '(LEGO_SUPPORTED_INGRESS_CLASS): nginx, gce',
    ],
    [
      { LEGO_DEFAULT_INGRESS_PROVIDER: 'Traefik' },
      'LEGO_DEFAULT_INGRESS_PROVIDER="Traefik" is not valid: expected one of nginx, gce',
    ],
    [
      { LEGO_DEFAULT_INGRESS_PROVIDER: 'gce', LEGO_SUPPORTED_INGRESS_PROVIDER: 'nginx' },
      'LEGO_DEFAULT_INGRESS_PROVIDER="gce" is not valid: expected one of the supported providers ' +
        '(LEGO_SUPPORTED_INGRESS_PROVIDER): nginx',
    ],
    [
      { LEGO_KUBE_API_URL: 'localhost:8080' },
      `LEGO_KUBE_API_URL="localhost:8080" is not valid: expected ${httpUrl}`,
    ],
    [
      { LEGO_LOG_LEVEL: 'LOUD' },
      'LEGO_LOG_LEVEL="LOUD" is not valid: expected one of trace, debug, info, warn, error, fatal',
    ],
    [{ LEGO_LOG_TYPE: 'XML' }, 'LEGO_LOG_TYPE="XML" is not valid: expected one of text, json'],
    [
      { LEGO_MAX_JOBS_IN_FLIGHT: '0' },
      'LEGO_MAX_JOBS_IN_FLIGHT="0" is not valid: expected a whole number from 1 to 10000',
    ],
    [
      { LEGO_RSA_KEYSIZE: '1024' },
      'LEGO_RSA_KEYSIZE="1024" is not valid: expected a whole number from 2048 to 8192',
    ],
    [
      { LEGO_RSA_KEYSIZE: '16384' },
      'LEGO_RSA_KEYSIZE="16384" is not valid: expected a whole number from 2048 to 8192',
    ],
    [
      { LEGO_RSA_KEYSIZE: 'big' },
      'LEGO_RSA_KEYSIZE="big" is not valid: expected a whole number from 2048 to 8192',
    ],
    [
      { LEGO_RSA_KEYSIZE: '3000' },
      'LEGO_RSA_KEYSIZE="3000" is not valid: expected a multiple of 1024 from 2048 to 8192',
    ],
    [
      { LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME: '5 minutes' },
      `LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME="5 minutes" is not valid: expected ${atLeast1ms}`,
    ],
    [
      { LEGO_EXPONENTIAL_BACKOFF_INITIAL_INTERVAL: '0' },
      `LEGO_EXPONENTIAL_BACKOFF_INITIAL_INTERVAL="0" is not valid: expected ${atLeast1ms}`,
    ],
    [
      { LEGO_EXPONENTIAL_BACKOFF_MAX_INITIAL_INTERVAL: 'abc' },
      `LEGO_EXPONENTIAL_BACKOFF_MAX_INITIAL_INTERVAL="abc" is not valid: expected ${atLeast1ms}`,
    ],
    [
      { LEGO_EXPONENTIAL_BACKOFF_MULTIPLIER: '0.5' },
      'LEGO_EXPONENTIAL_BACKOFF_MULTIPLIER="0.5" is not valid: expected a number of at least 1.0',
    ],
    [
      { LEGO_EXPONENTIAL_BACKOFF_MULTIPLIER: 'abc' },
      'LEGO_EXPONENTIAL_BACKOFF_MULTIPLIER="abc" is not valid: expected a number of at least 1.0',
    ],
    [
      { LEGO_EXPONENTIAL_BACKOFF_MULTIPLIER: 'Infinity' },
      'LEGO_EXPONENTIAL_BACKOFF_MULTIPLIER="Infinity" is not valid: expected a number of at least 1.0',
    ],
    [
      { LEGO_EXPONENTIAL_BACKOFF_MAX_MULTIPLIER: '0.9' },
      'LEGO_EXPONENTIAL_BACKOFF_MAX_MULTIPLIER="0.9" is not valid: expected a number of at least 1.0',
    ],
    [{ LEGO_JOB_TTL: '1 hour' }, `LEGO_JOB_TTL="1 hour" is not valid: expected ${goDuration} of at least 1s`],
    // Deleted as soon as it finishes: its outcome may be gone before it is read, and a failure spaces nothing.
    [{ LEGO_JOB_TTL: '0' }, `LEGO_JOB_TTL="0" is not valid: expected ${goDuration} of at least 1s`],
    [{ LEGO_JOB_TTL: '500ms' }, `LEGO_JOB_TTL="500ms" is not valid: expected ${goDuration} of at least 1s`],
    // A retry in a tight loop against the CA's rate limits.
    [
      { LEGO_RETRY_INITIAL_INTERVAL: '0' },
      `LEGO_RETRY_INITIAL_INTERVAL="0" is not valid: expected ${goDuration} of at least 1s`,
    ],
    [
      { LEGO_RETRY_MAX_INTERVAL: 'a day' },
      `LEGO_RETRY_MAX_INTERVAL="a day" is not valid: expected ${goDuration} of at least 1s`,
    ],
    [
      { LEGO_HTTP01_PORT: '70000' },
      'LEGO_HTTP01_PORT="70000" is not valid: expected a whole number from 1 to 65535',
    ],
    [{ LEGO_KEY_TYPE: 'dsa' }, 'LEGO_KEY_TYPE="dsa" is not valid: expected one of rsa, ecdsa'],
    [{ LEGO_LEADER_ELECTION: 'yes' }, 'LEGO_LEADER_ELECTION="yes" is not valid: expected one of true, false'],
    [{ LEGO_SELF_CHECK: 'no' }, 'LEGO_SELF_CHECK="no" is not valid: expected one of true, false'],
    [{ LEGO_RENEWAL_INFO: 'on' }, 'LEGO_RENEWAL_INFO="on" is not valid: expected one of true, false'],
    [{ LEGO_VIEW_PORT: 'off' }, 'LEGO_VIEW_PORT="off" is not valid: expected a whole number from 0 to 65535'],
    [
      { LEGO_SELF_CHECK_PORT: '0' },
      'LEGO_SELF_CHECK_PORT="0" is not valid: expected a whole number from 1 to 65535',
    ],
    [
      { LEGO_SELF_CHECK_DNS: 'dns.example' },
      'LEGO_SELF_CHECK_DNS="dns.example" is not valid: expected a comma-separated list of DNS server addresses such as 10.0.0.10:53',
    ],
    [
      { LEGO_CA_BUNDLE: '/etc/ssl/ca.pem' },
      'LEGO_CA_BUNDLE="/etc/ssl/ca.pem" is not valid: expected PEM certificates (-----BEGIN CERTIFICATE-----)',
    ],
  ];
  for (const [env, message] of table) {
    it(`refuses ${JSON.stringify(env)}`, () => {
      const error = configError(env);
      assert.equal(error.message, message);
      assert.equal(error.name, 'ConfigError');
      assert.ok(Object.keys(env).includes(error.variable), error.variable);
      assert.ok(message.startsWith(`${error.variable}=`), 'the message starts with the variable');
    });
  }

  it('quotes the value as given, trimmed', () => {
    assert.equal(
      configError({ LEGO_PORT: '  99999 ' }).message,
      'LEGO_PORT="99999" is not valid: expected a whole number from 1 to 65535',
    );
  });

  it('has a bad-value row for every variable that is checked', () => {
    const unchecked = [
      'LEGO_POD_IP',
      'LEGO_KUBE_ANNOTATION',
      'LEGO_WATCH_NAMESPACE',
      'LEGO_JOB_IMAGE',
      'LEGO_ACME_PROFILE',
      'LEGO_POD_NAME',
    ];
    const covered = new Set(table.map(([, message]) => message.slice(0, message.indexOf('='))));
    assert.deepEqual(
      VARIABLES.filter((variable) => !covered.has(variable) && !unchecked.includes(variable)),
      [],
    );
  });
});

const renewOrRetry = 'which must hold two checks';

describe('parseConfig settings that do not fit together', () => {
  const good: [env: Record<string, string>, expected: Partial<Config>][] = [
    // The renewal window holds exactly two checks.
    [
      { LEGO_MINIMUM_VALIDITY: '2h', LEGO_CHECK_INTERVAL: '1h', LEGO_RETRY_MAX_INTERVAL: '1h' },
      {
        minimumValidityMs: 2 * HOUR,
        checkInterval: { intervalMs: HOUR, repetitions: undefined },
        retryMaxIntervalMs: HOUR,
      },
    ],
    // A 6-day certificate is renewed 72h before it expires: two checks of 36h fit.
    [
      { LEGO_ACME_PROFILE: 'shortlived', LEGO_CHECK_INTERVAL: '36h' },
      { acmeProfile: 'shortlived', checkInterval: { intervalMs: 36 * HOUR, repetitions: undefined } },
    ],
    // A profile of unknown lifetime leaves the window to LEGO_MINIMUM_VALIDITY (720h).
    [
      { LEGO_ACME_PROFILE: 'custom', LEGO_CHECK_INTERVAL: '48h' },
      { acmeProfile: 'custom', checkInterval: { intervalMs: 48 * HOUR, repetitions: undefined } },
    ],
    // The retries' longest wait leaves exactly half the window.
    [
      { LEGO_ACME_PROFILE: 'shortlived', LEGO_RETRY_MAX_INTERVAL: '36h' },
      { acmeProfile: 'shortlived', retryMaxIntervalMs: 36 * HOUR },
    ],
    [
      { LEGO_RETRY_INITIAL_INTERVAL: '5s', LEGO_RETRY_MAX_INTERVAL: '5s' },
      { retryInitialIntervalMs: 5000, retryMaxIntervalMs: 5000 },
    ],
    [
      { LEGO_EXPONENTIAL_BACKOFF_INITIAL_INTERVAL: '5m', LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME: '5m' },
      { backoffInitialIntervalMs: 5 * MINUTE, backoffMaxElapsedMs: 5 * MINUTE },
    ],
  ];
  for (const [env, expected] of good) {
    it(`accepts ${JSON.stringify(env)}`, () => {
      assert.deepEqual(parseConfig(env), { ...DEFAULTS, ...expected });
    });
  }

  const table: [env: Record<string, string>, message: string][] = [
    [
      { LEGO_MINIMUM_VALIDITY: '1h', LEGO_CHECK_INTERVAL: '1h' },
      `LEGO_MINIMUM_VALIDITY="1h" does not fit LEGO_CHECK_INTERVAL="1h": certificates are renewed 1h before they expire, ${renewOrRetry} (2h): one to renew, one to retry; raise LEGO_MINIMUM_VALIDITY to 2h or more, or shorten LEGO_CHECK_INTERVAL to 30m or less`,
    ],
    [
      // kube-lego's 8h check with a minimum validity below 16h.
      { LEGO_MINIMUM_VALIDITY: '10h', LEGO_CHECK_INTERVAL: '8h', LEGO_RETRY_MAX_INTERVAL: '5m' },
      `LEGO_MINIMUM_VALIDITY="10h" does not fit LEGO_CHECK_INTERVAL="8h": certificates are renewed 10h before they expire, ${renewOrRetry} (16h): one to renew, one to retry; raise LEGO_MINIMUM_VALIDITY to 16h or more, or shorten LEGO_CHECK_INTERVAL to 5h or less`,
    ],
    [
      { LEGO_ACME_PROFILE: 'shortlived', LEGO_CHECK_INTERVAL: '48h' },
      `LEGO_ACME_PROFILE="shortlived" does not fit LEGO_CHECK_INTERVAL="48h": its 6-day certificates are renewed 72h before they expire, ${renewOrRetry} (96h): one to renew, one to retry; shorten LEGO_CHECK_INTERVAL to 36h or less`,
    ],
    [
      // kube-lego's old 8h default fits; a daily check of 37h does not.
      { LEGO_ACME_PROFILE: 'shortlived', LEGO_CHECK_INTERVAL: 'R/PT37H' },
      `LEGO_ACME_PROFILE="shortlived" does not fit LEGO_CHECK_INTERVAL="37h": its 6-day certificates are renewed 72h before they expire, ${renewOrRetry} (74h): one to renew, one to retry; shorten LEGO_CHECK_INTERVAL to 36h or less`,
    ],
    [
      { LEGO_ACME_PROFILE: 'tlsserver', LEGO_CHECK_INTERVAL: '200h' },
      `LEGO_ACME_PROFILE="tlsserver" does not fit LEGO_CHECK_INTERVAL="200h": its 45-day certificates are renewed 360h before they expire, ${renewOrRetry} (400h): one to renew, one to retry; shorten LEGO_CHECK_INTERVAL to 180h or less`,
    ],
    [
      // A minimum validity below the profile's window decides: it is the one to raise.
      {
        LEGO_ACME_PROFILE: 'tlsserver',
        LEGO_MINIMUM_VALIDITY: '10h',
        LEGO_CHECK_INTERVAL: '8h',
        LEGO_RETRY_MAX_INTERVAL: '5m',
      },
      `LEGO_MINIMUM_VALIDITY="10h" does not fit LEGO_CHECK_INTERVAL="8h": certificates are renewed 10h before they expire, ${renewOrRetry} (16h): one to renew, one to retry; raise LEGO_MINIMUM_VALIDITY to 16h or more, or shorten LEGO_CHECK_INTERVAL to 5h or less`,
    ],
    [
      { LEGO_MINIMUM_VALIDITY: '4h', LEGO_CHECK_INTERVAL: '1h', LEGO_RETRY_MAX_INTERVAL: '3h' },
      'LEGO_RETRY_MAX_INTERVAL="3h" does not fit LEGO_MINIMUM_VALIDITY="4h": certificates are renewed 4h before they expire, and a failed issuance may wait LEGO_RETRY_MAX_INTERVAL before its next attempt, which must leave half that time (2h) for the retries; set LEGO_RETRY_MAX_INTERVAL to 2h or less, or raise LEGO_MINIMUM_VALIDITY to 6h or more',
    ],
    [
      { LEGO_ACME_PROFILE: 'shortlived', LEGO_RETRY_MAX_INTERVAL: '48h' },
      'LEGO_RETRY_MAX_INTERVAL="48h" does not fit LEGO_ACME_PROFILE="shortlived": its 6-day certificates are renewed 72h before they expire, and a failed issuance may wait LEGO_RETRY_MAX_INTERVAL before its next attempt, which must leave half that time (36h) for the retries; set LEGO_RETRY_MAX_INTERVAL to 36h or less',
    ],
    [
      // The default longest wait (24h) does not fit a 10h window.
      { LEGO_MINIMUM_VALIDITY: '10h', LEGO_CHECK_INTERVAL: '1h', LEGO_RETRY_MAX_INTERVAL: '24h' },
      'LEGO_RETRY_MAX_INTERVAL="24h" does not fit LEGO_MINIMUM_VALIDITY="10h": certificates are renewed 10h before they expire, and a failed issuance may wait LEGO_RETRY_MAX_INTERVAL before its next attempt, which must leave half that time (5h) for the retries; set LEGO_RETRY_MAX_INTERVAL to 5h or less, or raise LEGO_MINIMUM_VALIDITY to 48h or more',
    ],
    [
      { LEGO_RETRY_INITIAL_INTERVAL: '2h', LEGO_RETRY_MAX_INTERVAL: '1h' },
      'LEGO_RETRY_INITIAL_INTERVAL="2h" does not fit LEGO_RETRY_MAX_INTERVAL="1h": the first wait before a retry would be longer than the longest; set LEGO_RETRY_INITIAL_INTERVAL to 1h or less, or raise LEGO_RETRY_MAX_INTERVAL to 2h or more',
    ],
    [
      { LEGO_EXPONENTIAL_BACKOFF_INITIAL_INTERVAL: '10m' },
      `LEGO_EXPONENTIAL_BACKOFF_INITIAL_INTERVAL="10m" does not fit LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME="5m": the self-check's first wait would be longer than all the time it has to retry; set LEGO_EXPONENTIAL_BACKOFF_INITIAL_INTERVAL to 5m or less, or raise LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME to 10m or more`,
    ],
    [
      // kube-lego's README spelling is named when that is the variable set.
      {
        LEGO_EXPONENTIAL_BACKOFF_MAX_INITIAL_INTERVAL: '1m',
        LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME: '30s',
      },
      `LEGO_EXPONENTIAL_BACKOFF_MAX_INITIAL_INTERVAL="1m" does not fit LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME="30s": the self-check's first wait would be longer than all the time it has to retry; set LEGO_EXPONENTIAL_BACKOFF_MAX_INITIAL_INTERVAL to 30s or less, or raise LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME to 1m or more`,
    ],
  ];
  for (const [env, message] of table) {
    it(`refuses ${JSON.stringify(env)}`, () => {
      const error = configError(env);
      assert.ok(error instanceof ConfigConflict, `not a ConfigConflict: ${error.message}`);
      assert.equal(error.message, message);
      assert.equal(error.name, 'ConfigConflict');
      assert.ok(Object.keys(env).includes(error.variable), error.variable);
      assert.ok(message.startsWith(`${error.variable}=`), 'the message starts with the variable');
      assert.ok(message.includes(` does not fit ${error.other}: `), error.other);
    });
  }
});

describe('checkSchedule with the diagram timer', () => {
  const everyHour = { intervalMs: HOUR, repetitions: undefined };
  const table: [env: Record<string, string>, timer: number | undefined, message: string | undefined][] = [
    [{}, HOUR, undefined],
    [{ LEGO_MINIMUM_VALIDITY: '2h', LEGO_RETRY_MAX_INTERVAL: '1h' }, HOUR, undefined],
    [
      { LEGO_MINIMUM_VALIDITY: '90m', LEGO_RETRY_MAX_INTERVAL: '10m' },
      HOUR,
      `LEGO_MINIMUM_VALIDITY="1h30m" does not fit the diagram's timer (every 1h): certificates are renewed 1h30m before they expire, ${renewOrRetry} (2h): one to renew, one to retry; raise LEGO_MINIMUM_VALIDITY to 2h or more, or set LEGO_CHECK_INTERVAL to 45m or less`,
    ],
    [
      { LEGO_ACME_PROFILE: 'shortlived' },
      48 * HOUR,
      `LEGO_ACME_PROFILE="shortlived" does not fit the diagram's timer (every 48h): its 6-day certificates are renewed 72h before they expire, ${renewOrRetry} (96h): one to renew, one to retry; set LEGO_CHECK_INTERVAL to 36h or less`,
    ],
    // LEGO_CHECK_INTERVAL overrides the timer: the timer's cycle does not matter.
    [{ LEGO_ACME_PROFILE: 'shortlived', LEGO_CHECK_INTERVAL: '1h' }, 48 * HOUR, undefined],
    // No variable and no timer: no periodic check, nothing to fit.
    [
      { LEGO_MINIMUM_VALIDITY: '1m', LEGO_RETRY_INITIAL_INTERVAL: '1s', LEGO_RETRY_MAX_INTERVAL: '30s' },
      undefined,
      undefined,
    ],
  ];
  for (const [env, timerMs, message] of table) {
    const timer = timerMs === undefined ? undefined : { ...everyHour, intervalMs: timerMs };
    it(`${message === undefined ? 'accepts' : 'refuses'} ${JSON.stringify(env)} with a timer of ${timerMs ?? 'none'} ms`, () => {
      const config = parseConfig(env);
      if (message === undefined) {
        checkSchedule(config, timer);
        return;
      }
      assert.throws(
        () => checkSchedule(config, timer),
        (error: unknown) => {
          assert.ok(error instanceof ConfigConflict);
          assert.equal(error.message, message);
          assert.equal(error.other, `the diagram's timer (every ${timerMs! / HOUR}h)`);
          return true;
        },
      );
    });
  }
});

describe('the variables read and the README', () => {
  const readme = readmeConfiguration();
  const read = [...new Set([...VARIABLES, ...variablesTheSourceReads()])].sort();

  it('the source scan sees every variable parseConfig reads', () => {
    const scanned = variablesTheSourceReads();
    assert.deepEqual(
      VARIABLES.filter((variable) => !scanned.includes(variable)),
      [],
    );
  });

  it("documents every variable the code reads in the README's Configuration tables", () => {
    const documented = new Set([...readme.settings, ...readme.aliases, ...readme.retired]);
    assert.deepEqual(
      read.filter((variable) => !documented.has(variable)),
      [],
    );
  });

  it("reads every variable of the README's settings table", () => {
    assert.ok(readme.settings.length > 0, 'the settings table has rows');
    assert.deepEqual(
      readme.settings.filter((variable) => !read.includes(variable)),
      [],
    );
  });

  it('reads every alias the README names', () => {
    assert.ok(readme.aliases.length > 0, 'the settings table names aliases');
    assert.deepEqual(
      readme.aliases.filter((variable) => !VARIABLES.includes(variable)),
      [],
    );
  });

  it('documents each variable once: as a setting, an alias, or one that no longer applies', () => {
    const all = [...readme.settings, ...readme.aliases, ...readme.retired];
    assert.deepEqual(
      all.filter((variable, index) => all.indexOf(variable) !== index),
      [],
    );
  });
});
