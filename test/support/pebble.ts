/**
 * Pebble, Let's Encrypt's test ACME CA, with pebble-challtestsrv as its DNS server, for the ACME tests.
 *
 * Both listen on a loopback address of their own (claimed through loopback.ts) at their usual ports
 * ({@link PEBBLE_PORTS}), and every name resolves to 127.0.0.0/8: challtestsrv answers A queries with
 * `challengeAddress` (or what addARecord set) and AAAA queries with nothing, so Pebble never dials ::1 or
 * anything outside the machine. Pebble validates HTTP-01 challenges at `challengeAddress:httpPort`, where
 * the test runs its own HTTP server (the ingress router, in the end-to-end tests).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIPv4 } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBinaries } from './binaries.ts';
import { claimAddress } from './loopback.ts';
import { startProcess, type OwnedProcess } from './processes.ts';
import { createCertificateAuthority, issueServerCertificate } from './tls.ts';

/** A certificate profile Pebble offers (RFC draft "ACME profiles"), as in Pebble's config file. */
export interface PebbleProfile {
  readonly description: string;
  /** Lifetime of the certificates issued under this profile, in seconds. */
  readonly validityPeriod: number;
}

/** Options of startPebble. */
export interface PebbleOptions {
  /**
   * The loopback address every name resolves to unless addARecord says otherwise: where the test's HTTP
   * server that answers `/.well-known/acme-challenge/` listens. Default 127.0.0.1 (nothing listens there
   * at `httpPort`: fine when nothing is validated).
   */
  readonly challengeAddress?: string;
  /** Port where Pebble fetches HTTP-01 challenge responses. Default {@link HTTP01_PORT}. */
  readonly httpPort?: number;
  /** Certificate profiles by name. Default: Let's Encrypt's lifetimes, `default` 90 days, `tlsserver` 45, `shortlived` 6. */
  readonly profiles?: Readonly<Record<string, PebbleProfile>>;
  /**
   * Whether Pebble may reuse a valid authorization for a new order (it does half of the time by default).
   * `false` sets PEBBLE_AUTHZREUSE=0, so every order has to be validated.
   */
  readonly authzReuse?: boolean;
  /**
   * Seconds Pebble asks clients to wait (`Retry-After`) on authorizations being validated and orders being
   * finalized. Default 1, as Let's Encrypt-like CAs do; 0 sends no header (benchmarks of our own latency).
   */
  readonly retryAfterSeconds?: number;
}

/** A running Pebble and its DNS server. */
export interface Pebble {
  /** The ACME directory URL, https://<its address>:14000/dir. */
  readonly directoryUrl: string;
  /** PEM of the CA of Pebble's HTTPS certificate (directory and management): give it to clients as their trust. */
  readonly caCertPem: string;
  /** Base URL of Pebble's management interface (HTTPS, same trust): /roots/0, /intermediates/0, ... */
  readonly managementUrl: string;
  /** Address of the DNS server Pebble resolves through, <its address>:8053 (UDP and TCP). */
  readonly dnsServer: string;
  /** The address every name resolves to unless addARecord says otherwise. */
  readonly challengeAddress: string;
  /** Port where Pebble fetches HTTP-01 challenge responses, on the address a name resolves to. */
  readonly httpPort: number;
  /** PEM of the root that issued certificates chain to (management /roots/0). */
  issuingRootPem(): Promise<string>;
  /** Makes the DNS server answer A queries for `host` with `ip` alone, an address in 127.0.0.0/8. */
  addARecord(host: string, ip: string): Promise<void>;
  /**
   * Moves the renewal window Pebble gives for a certificate it issued (its management API's
   * `/set-renewal-info/`), as a CA does for a certificate it is about to revoke.
   */
  setRenewalWindow(certificatePem: string, window: { start: Date; end: Date }): Promise<void>;
  /**
   * Freezes Pebble (SIGSTOP), as a CA that stops answering: requests to it hang until they time out; its
   * accounts and orders are kept. challtestsrv (DNS) goes on.
   */
  pause(): void;
  /** Lets a paused Pebble answer again. */
  resume(): void;
  /** Everything Pebble and challtestsrv have logged so far. */
  logs(): string;
  /** Stops both processes and removes the temporary files. */
  stop(): Promise<void>;
}

const DAY = 24 * 60 * 60;

/** Pebble's usual HTTP-01 port (its default `httpPort`): where test servers answer challenges. */
export const HTTP01_PORT = 5002;

/** Ports on Pebble's own address: Pebble's and challtestsrv's defaults. */
export const PEBBLE_PORTS = {
  directory: 14000,
  management: 15000,
  /** TLS-ALPN-01 validation port: dialled on a name's address, never used by our tests. */
  tlsAlpn: 5001,
  dns: 8053,
  dnsManagement: 8055,
} as const;

/**
 * Let's Encrypt's default lifetime alone. Pebble picks a random profile for an order that names none ("in
 * true pebble chaos fashion"), so with several profiles an order without one gets 90, 45 or 6 days by
 * chance: the end-to-end sandbox offers this one, so its certificates' lifetimes (and renewal times) are
 * the same every run.
 */
export const DEFAULT_PROFILE_ONLY: Readonly<Record<string, PebbleProfile>> = {
  default: { description: 'The default profile: 90 days', validityPeriod: 90 * DAY },
};

const DEFAULT_PROFILES: Readonly<Record<string, PebbleProfile>> = {
  default: { description: 'The default profile: 90 days', validityPeriod: 90 * DAY },
  tlsserver: { description: 'Like Let’s Encrypt tlsserver: 45 days', validityPeriod: 45 * DAY },
  shortlived: { description: 'Like Let’s Encrypt shortlived: 6 days', validityPeriod: 6 * DAY },
};

/** Answer of a request made with `fetchText`. */
interface TextResponse {
  readonly status: number;
  readonly body: string;
}

/** GET (or POST `body` as JSON) to an http: or https: URL, trusting `ca` for https. */
function fetchText(url: string, options: { ca?: string; body?: unknown } = {}): Promise<TextResponse> {
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: payload === undefined ? 'GET' : 'POST',
        // Pebble answers 400 to requests without a User-Agent.
        headers: { 'user-agent': 'kube-lego-tests' },
        ...(options.ca === undefined ? {} : { ca: options.ca }),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Like fetchText, but resolves with the body of a 200 answer only, and rejects with any other. */
async function fetchOk(url: string, options: { ca?: string; body?: unknown } = {}): Promise<string> {
  const { status, body } = await fetchText(url, options);
  if (status !== 200) throw new Error(`${url}: HTTP ${status}: ${body}`);
  return body;
}

/**
 * Resolves once `probe` resolves, calling it every 100 ms for up to 30 s; rejects with its last error and
 * the logs then, or as soon as one of `processes` exits.
 */
async function waitUntilReady(
  what: string,
  probe: () => Promise<unknown>,
  processes: readonly OwnedProcess[],
  logs: () => string,
): Promise<void> {
  let exited: OwnedProcess | undefined;
  for (const p of processes) void p.exited.then(() => (exited ??= p));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`${exited.name} exited before ${what} was ready:\n${logs()}`);
    try {
      await probe();
      return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`${what} not ready after 30 s (${String(error)}):\n${logs()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Starts pebble-challtestsrv (DNS only) and Pebble on a loopback address of their own, building them first
 * if the binary cache does not have them, and resolves once Pebble's directory answers. A failed start
 * stops what it started and gives the address up.
 */
export async function startPebble(options: PebbleOptions = {}): Promise<Pebble> {
  const binaries = await ensureBinaries(['pebble', 'pebble-challtestsrv']);
  const dir = await mkdtemp(join(tmpdir(), 'kube-lego-pebble-'));
  const { address, release } = await claimAddress();
  const processes: OwnedProcess[] = [];
  const logs = (): string => processes.map((p) => `--- ${p.name}\n${p.output()}`).join('');
  const stop = async (): Promise<void> => {
    await Promise.all(processes.map((p) => p.stop()));
    await release();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ca = await createCertificateAuthority('kube-lego test Pebble TLS CA');
    const serving = await issueServerCertificate(ca, { dnsNames: ['localhost'], ipAddresses: [address] });
    await writeFile(join(dir, 'cert.pem'), serving.certPem);
    await writeFile(join(dir, 'key.pem'), serving.keyPem, { mode: 0o600 });

    const challengeAddress = options.challengeAddress ?? '127.0.0.1';
    const dnsServer = `${address}:${PEBBLE_PORTS.dns}`;
    const challtestsrvManagement = `${address}:${PEBBLE_PORTS.dnsManagement}`;
    const challtestsrvUrl = `http://${challtestsrvManagement}`;
    const challtestsrv = startProcess('pebble-challtestsrv', binaries['pebble-challtestsrv'], [
      ...['-dnsserver', dnsServer, '-management', challtestsrvManagement],
      ...['-defaultIPv4', challengeAddress, '-defaultIPv6', ''],
      ...['-http01', '', '-https01', '', '-tlsalpn01', '', '-doh', ''],
    ]);
    processes.push(challtestsrv);
    // Any HTTP answer means the management server, started last, is up.
    await waitUntilReady(
      'challtestsrv',
      () => fetchText(`${challtestsrvUrl}/dns-request-history`),
      processes,
      logs,
    );

    const listenAddress = `${address}:${PEBBLE_PORTS.directory}`;
    const management = `${address}:${PEBBLE_PORTS.management}`;
    const httpPort = options.httpPort ?? HTTP01_PORT;
    const config = {
      pebble: {
        listenAddress,
        managementListenAddress: management,
        certificate: join(dir, 'cert.pem'),
        privateKey: join(dir, 'key.pem'),
        httpPort,
        tlsPort: PEBBLE_PORTS.tlsAlpn,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        retryAfter: { authz: options.retryAfterSeconds ?? 1, order: options.retryAfterSeconds ?? 1 },
        keyAlgorithm: 'ecdsa',
        profiles: options.profiles ?? DEFAULT_PROFILES,
      },
    };
    await writeFile(join(dir, 'pebble-config.json'), JSON.stringify(config, null, 2));
    const env: Record<string, string> = { PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' };
    if (options.authzReuse === false) env['PEBBLE_AUTHZREUSE'] = '0';
    const pebble = startProcess(
      'pebble',
      binaries.pebble,
      ['-config', join(dir, 'pebble-config.json'), '-dnsserver', dnsServer],
      env,
    );
    processes.push(pebble);
    const directoryUrl = `https://${listenAddress}/dir`;
    await waitUntilReady('pebble', () => fetchOk(directoryUrl, { ca: ca.certPem }), processes, logs);

    const managementUrl = `https://${management}`;
    return {
      directoryUrl,
      caCertPem: ca.certPem,
      managementUrl,
      dnsServer,
      challengeAddress,
      httpPort,
      issuingRootPem: () => fetchOk(`${managementUrl}/roots/0`, { ca: ca.certPem }),
      async addARecord(host, ip) {
        if (!isIPv4(ip) || !ip.startsWith('127.'))
          throw new Error(`${ip} is outside 127.0.0.0/8: tests only use loopback`);
        // challtestsrv adds to the addresses it has for the host: clear them first, so `ip` is the only one.
        await fetchOk(`${challtestsrvUrl}/clear-a`, { body: { host } });
        await fetchOk(`${challtestsrvUrl}/add-a`, { body: { host, addresses: [ip] } });
      },
      async setRenewalWindow(certificatePem, window) {
        const ariResponse = {
          suggestedWindow: { start: window.start.toISOString(), end: window.end.toISOString() },
        };
        await fetchOk(`${managementUrl}/set-renewal-info/`, {
          ca: ca.certPem,
          body: { Certificate: certificatePem, ARIResponse: JSON.stringify(ariResponse) },
        });
      },
      pause: () => pebble.pause(),
      resume: () => pebble.resume(),
      logs,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
