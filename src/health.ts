/**
 * The operator's HTTP endpoints on LEGO_PORT: `/healthz` (the process is alive and its Ingress watch is
 * connected) and `/readyz` (the first Ingress list has been read), for the Deployment's probes.
 */
import { createServer, type Server } from 'node:http';

/** What the endpoints report on. */
export interface HealthState {
  watchConnected(): boolean;
  synced(): boolean;
}

/** Starts the health server; resolves once it listens. */
export async function startHealthServer(port: number, host: string, state: HealthState): Promise<Server> {
  const server = createServer((request, response) => {
    const answer = (ok: boolean, reason: string) => {
      response.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      response.end(ok ? 'ok\n' : `${reason}\n`);
    };
    if (request.url === '/healthz') answer(state.watchConnected(), 'Ingress watch not connected');
    else if (request.url === '/readyz') answer(state.synced(), 'Ingresses not listed yet');
    else {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
