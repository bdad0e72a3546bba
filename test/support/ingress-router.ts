/**
 * An ingress controller for the local cluster: an HTTP server on a loopback address of its own that routes each request by the
 * cluster's Ingress objects (see ingress-router-table.ts for the matching rules) to a ready endpoint of the
 * backend Service, taken from its EndpointSlices. Pebble's `httpPort` points here in the end-to-end tests
 * and the demo, so HTTP-01 validation travels the same path as on a real cluster: Ingress → Service →
 * endpoint → pod.
 *
 * Network rule: the router dials EndpointSlice addresses only, translated to their loopback twins
 * (10.244.X.Y → 127.0.X.Y, see kubelet-network.ts: the API server refuses loopback addresses in
 * EndpointSlices, so pod IPs there are 10.244.X.Y); an address of neither range is skipped. Never a
 * Service ClusterIP, never an ExternalName.
 *
 * Answers of its own: 404 when no rule of a served Ingress matches, 503 when the Service, its port or a
 * ready endpoint is missing, 502 when the endpoint does not answer. Each carries a one-line plain text body
 * saying why, and the header `x-ingress-router` naming the route or the reason.
 */
import {
  createServer,
  request as httpRequest,
  type ClientRequest,
  type IncomingHttpHeaders,
  type Server,
} from 'node:http';
import {
  CoreV1Api,
  DiscoveryV1Api,
  NetworkingV1Api,
  type KubeConfig,
  type V1EndpointSlice,
  type V1Ingress,
  type V1Service,
} from '@kubernetes/client-node';
import {
  findRoute,
  hostOfHeader,
  isServed,
  type ClassPolicy,
  type RouteTarget,
} from './ingress-router-table.ts';
import { loopbackOf } from './kubelet-network.ts';
import { claimAddress } from './loopback.ts';
import { HTTP01_PORT } from './pebble.ts';
import { inform } from './kubelet-watch.ts';

/** Options of {@link startIngressRouter}. */
export interface IngressRouterOptions {
  /** Access to the cluster (the control plane's kubeConfig()). */
  readonly kubeConfig: KubeConfig;
  /**
   * The loopback address to listen on, claimed by the caller (who gives it up). Default: one the router
   * claims itself through loopback.ts and gives up when it stops.
   */
  readonly address?: string;
  /** Port on that address. Default {@link HTTP01_PORT}, where Pebble validates HTTP-01 challenges. */
  readonly port?: number;
  /** The ingress classes served (annotation `kubernetes.io/ingress.class` or spec.ingressClassName). Default: `['nginx']`. */
  readonly ingressClass?: readonly string[];
  /** Whether to serve Ingresses that name no class. Default: false. */
  readonly withoutClass?: boolean;
}

/** Where a request would go, as {@link IngressRouter.route} tells. */
export type RouteDecision =
  | { readonly status: 200; readonly target: RouteTarget; readonly address: string; readonly port: number }
  | { readonly status: 404 | 503; readonly reason: string; readonly target?: RouteTarget };

/** A running ingress router. */
export interface IngressRouter {
  /** Its loopback address. */
  readonly address: string;
  /** Its port on that address. */
  readonly port: number;
  /** `http://<address>:<port>`. */
  readonly url: string;
  /** Where a request for `host` (a Host header; any port is ignored) and `path` would go now. */
  route(host: string, path: string): RouteDecision;
  /** The router's own log: one line per request and per problem. */
  logs(): string;
  /** Stops watching and closes the server (and its connections). */
  stop(): Promise<void>;
}

/** Headers that concern one connection only, which a proxy must not forward (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function forwardable(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase()),
  );
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name) && !named.has(name)),
  );
}

/** `text` as a header value may carry it: arrows as `->`, anything else outside printable ASCII as `?`. */
function headerSafe(text: string): string {
  return text.replaceAll('→', '->').replace(/[^\x20-\x7e]/g, '?');
}

/** Starts the router; resolves once it listens and has listed Ingresses, Services and EndpointSlices. */
export async function startIngressRouter(options: IngressRouterOptions): Promise<IngressRouter> {
  const config = options.kubeConfig;
  const policy: ClassPolicy = {
    classes: options.ingressClass ?? ['nginx'],
    withoutClass: options.withoutClass ?? false,
  };
  const lines: string[] = [];
  const log = (line: string) => {
    lines.push(`${new Date().toISOString()} ${line}\n`);
    if (lines.length > 5000) lines.splice(0, 1000);
  };
  // An address given by the caller is the caller's to give up.
  const claim =
    options.address === undefined
      ? await claimAddress()
      : { address: options.address, release: async (): Promise<void> => {} };
  const { address } = claim;
  const port = options.port ?? HTTP01_PORT;
  const networking = config.makeApiClient(NetworkingV1Api);
  const core = config.makeApiClient(CoreV1Api);
  const discovery = config.makeApiClient(DiscoveryV1Api);
  const onRetry = (what: string) => (error: unknown) => log(`${what} watch: ${String(error)}`);
  const ingresses = inform<V1Ingress>(
    config,
    '/apis/networking.k8s.io/v1/ingresses',
    () => networking.listIngressForAllNamespaces(),
    undefined,
    onRetry('ingress'),
  );
  const services = inform<V1Service>(
    config,
    '/api/v1/services',
    () => core.listServiceForAllNamespaces(),
    undefined,
    onRetry('service'),
  );
  const slices = inform<V1EndpointSlice>(
    config,
    '/apis/discovery.k8s.io/v1/endpointslices',
    () => discovery.listEndpointSliceForAllNamespaces(),
    undefined,
    onRetry('endpointslice'),
  );
  const informers = [ingresses, services, slices];
  const turns = new Map<string, number>();
  /** Requests to endpoints in flight, destroyed by stop(). */
  const upstreams = new Set<ClientRequest>();
  let stopped = false;

  function route(hostHeader: string, path: string): RouteDecision {
    const host = hostOfHeader(hostHeader);
    const served = [...ingresses.store.values()].filter((ingress) => isServed(ingress, policy));
    const target = findRoute(served, host, path);
    if (target === undefined) return { status: 404, reason: `no served Ingress rule for ${host}${path}` };
    const serviceName = `${target.namespace}/${target.service}`;
    const service = services.store.get(serviceName);
    if (service === undefined) return { status: 503, reason: `no Service ${serviceName}`, target };
    if (service.spec?.type === 'ExternalName') {
      return { status: 503, reason: `Service ${serviceName} is ExternalName: not dialled`, target };
    }
    const wanted = target.port;
    const servicePort = service.spec?.ports?.find((port) =>
      wanted.name !== undefined ? port.name === wanted.name : port.port === wanted.number,
    );
    if (servicePort === undefined) {
      return {
        status: 503,
        reason: `Service ${serviceName} has no port ${wanted.name ?? wanted.number}`,
        target,
      };
    }
    const portName = servicePort.name ?? '';
    const candidates: { address: string; port: number }[] = [];
    for (const slice of slices.store.values()) {
      if (slice.metadata?.namespace !== target.namespace) continue;
      if (slice.metadata?.labels?.['kubernetes.io/service-name'] !== target.service) continue;
      if (slice.addressType !== 'IPv4') continue;
      const port = slice.ports?.find((candidate) => (candidate.name ?? '') === portName)?.port;
      if (port === undefined) continue;
      for (const endpoint of slice.endpoints ?? []) {
        if (endpoint.conditions?.ready === false) continue;
        const address = loopbackOf(endpoint.addresses[0] ?? '');
        if (address !== undefined) candidates.push({ address, port });
      }
    }
    if (candidates.length === 0) {
      return {
        status: 503,
        reason: `no ready endpoint of Service ${serviceName} port ${portName || servicePort.port}`,
        target,
      };
    }
    candidates.sort((a, b) => `${a.address}:${a.port}`.localeCompare(`${b.address}:${b.port}`));
    const turn = turns.get(serviceName) ?? 0;
    turns.set(serviceName, turn + 1);
    const chosen = candidates[turn % candidates.length]!;
    return { status: 200, target, address: chosen.address, port: chosen.port };
  }

  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const host = request.headers.host ?? '';
    const decision = route(host, path);
    const summary = `${request.method} ${host}${request.url}`;
    if (decision.status !== 200) {
      log(`${summary} → ${decision.status} ${decision.reason}`);
      response.writeHead(decision.status, {
        'content-type': 'text/plain',
        'x-ingress-router': headerSafe(decision.reason),
      });
      response.end(`${decision.reason}\n`);
      return;
    }
    const via = `${decision.target.ingress} → ${decision.target.namespace}/${decision.target.service} → ${decision.address}:${decision.port}`;
    const clientAddress = request.socket.remoteAddress ?? '';
    const headers = forwardable(request.headers);
    headers['x-forwarded-for'] = [headers['x-forwarded-for'], clientAddress].filter(Boolean).join(', ');
    headers['x-forwarded-host'] = host;
    headers['x-forwarded-proto'] = 'http';
    headers['x-real-ip'] = clientAddress;
    const upstream = httpRequest(
      {
        host: decision.address,
        port: decision.port,
        method: request.method,
        path: request.url,
        headers,
        agent: false,
      },
      (answer) => {
        if (stopped) {
          answer.destroy();
          return;
        }
        log(`${summary} → ${via} ${answer.statusCode}`);
        response.writeHead(answer.statusCode ?? 502, answer.statusMessage, {
          ...forwardable(answer.headers),
          'x-ingress-router': headerSafe(via),
        });
        answer.pipe(response);
      },
    );
    upstreams.add(upstream);
    upstream.on('close', () => upstreams.delete(upstream));
    // The client gave up (or stop() closed its connection): so does the request to the endpoint.
    response.on('close', () => {
      if (!response.writableFinished) upstream.destroy();
    });
    upstream.on('error', (error) => {
      log(`${summary} → ${via} failed: ${error.message}`);
      if (stopped || response.destroyed) return;
      if (!response.headersSent) {
        response.writeHead(502, {
          'content-type': 'text/plain',
          'x-ingress-router': headerSafe(`${via}: ${error.message}`),
        });
        response.end(`${via}: ${error.message}\n`);
      } else {
        response.destroy(error);
      }
    });
    request.pipe(upstream);
  });
  try {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`ingress router: no list from the API server in 30 s\n${lines.join('')}`)),
        30_000,
      );
    });
    await Promise.race([Promise.all(informers.map((informer) => informer.synced)), timeout]).finally(() =>
      clearTimeout(timer),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, address, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    for (const informer of informers) informer.stop();
    await claim.release();
    throw new Error(`ingress router: ${(error as Error).message}`, { cause: error });
  }
  log(
    `listening on ${address}:${port}, serving classes ${policy.classes.join(', ')}${policy.withoutClass ? ' and none' : ''}`,
  );
  return {
    address,
    port,
    url: `http://${address}:${port}`,
    route,
    logs: () => lines.join(''),
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const informer of informers) informer.stop();
      for (const upstream of upstreams) upstream.destroy();
      upstreams.clear();
      // closeAllConnections() ends every connection, idle or not, so close() calls back at once; the
      // timer only bounds stop() should a connection linger anyway.
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        timer = setTimeout(resolve, 2000);
      });
      clearTimeout(timer);
      await claim.release();
    },
  };
}
