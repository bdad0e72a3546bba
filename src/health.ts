/**
 * The operator's HTTP endpoints on LEGO_PORT, for the Deployment's probes:
 * - `/healthz` (liveness) answers 200 whenever the process can answer at all: the answer comes from the
 *   event loop, so a blocked or dead loop fails the probe by its timeout. It does not follow the watches: an
 *   API server outage must not get the pod restarted, since a new pod would meet the same outage.
 * - `/readyz` (readiness) answers 503, naming them, while watches are not connected (before their first
 *   list, and while they reconnect after a failure), else 200; a standby replica (another holds the leader
 *   Lease) has no watches and answers `200 standby`: it is ready to take over.
 * - `/metrics` answers the Prometheus text exposition of the metrics (src/metrics.ts), when given them:
 *   on the same port, so the Deployment needs no second port and a Service for scraping names `http`.
 */
import { createServer, type Server } from 'node:http';

/** What the endpoints report on. */
export interface HealthState {
  /** Names of the watches that are not connected now; empty when all are. */
  disconnectedWatches(): string[];
  /** Whether this replica waits for the leader Lease (no watches to report); default false. */
  standby?(): boolean;
}

/** What `/metrics` serves: a prom-client Registry fits. */
export interface MetricsExposition {
  /** The exposition's content type, e.g. `text/plain; version=0.0.4; charset=utf-8`. */
  readonly contentType: string;
  /** The metrics in that format. */
  metrics(): Promise<string>;
}

/** The connection state of the operator's watches, as their `onConnected` callbacks report it. */
export class WatchStates implements HealthState {
  readonly #connected = new Map<string, boolean>();

  /**
   * Tracks one watch from now on, as not connected until it reports otherwise; the result is its
   * `onConnected` callback (src/kube/list-watch.ts).
   */
  track(name: string): (connected: boolean) => void {
    this.#connected.set(name, false);
    return (connected) => this.#connected.set(name, connected);
  }

  /** Forgets every watch (they stopped: this replica no longer leads). */
  clear(): void {
    this.#connected.clear();
  }

  /** Names of the tracked watches that are not connected now. */
  disconnectedWatches(): string[] {
    return [...this.#connected].filter(([, connected]) => !connected).map(([name]) => name);
  }
}

/** Starts the health server (with `/metrics` when given `metrics`); resolves once it listens. */
export async function startHealthServer(
  port: number,
  host: string,
  state: HealthState,
  metrics?: MetricsExposition,
): Promise<Server> {
  const server = createServer((request, response) => {
    const answer = (status: number, text: string) => {
      response.writeHead(status, { 'content-type': 'text/plain' });
      response.end(`${text}\n`);
    };
    if (request.url === '/healthz') answer(200, 'ok');
    else if (request.url === '/metrics' && metrics !== undefined) {
      metrics.metrics().then(
        (text) => {
          response.writeHead(200, { 'content-type': metrics.contentType });
          response.end(text);
        },
        // A collect callback failed: the scrape fails (Prometheus records `up` 0), the process goes on.
        (error: Error) => answer(500, `metrics failed: ${error.message}`),
      );
    } else if (request.url === '/readyz') {
      if (state.standby?.() === true) return answer(200, 'standby');
      const disconnected = state.disconnectedWatches();
      if (disconnected.length === 0) answer(200, 'ok');
      else answer(503, `not connected: ${disconnected.map((name) => `${name} watch`).join(', ')}`);
    } else answer(404, 'not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
