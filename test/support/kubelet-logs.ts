/**
 * The process kubelet's log endpoint: what the API server calls for `kubectl logs` (`pods/log`), an HTTPS
 * server on 127.0.0.1 answering `GET /containerLogs/<namespace>/<pod>/<container>` with the container's log
 * (`tailLines` and `limitBytes` honoured). The API server does not verify a kubelet's serving certificate
 * unless given `--kubelet-certificate-authority` (not given), so a self-signed one serves; it reaches the
 * endpoint at the Node's InternalIP and `status.daemonEndpoints.kubeletEndpoint.Port`
 * (`--kubelet-preferred-address-types=InternalIP`).
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { testCertificate } from './certificates.ts';

/** Reads a container's log; undefined for a container the kubelet does not know. */
export type ContainerLog = (namespace: string, pod: string, container: string) => string | undefined;

/** The last `lines` lines of `text` (a trailing newline ends the last line, it starts none). */
function tail(text: string, lines: number): string {
  const all = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  const kept = all.slice(Math.max(0, all.length - lines));
  return kept.length === 0 ? '' : `${kept.join('\n')}\n`;
}

/** Starts the endpoint on 127.0.0.1, an ephemeral port; resolves with the server and its port. */
export async function startLogEndpoint(read: ContainerLog): Promise<{ server: Server; port: number }> {
  const day = 86_400_000;
  const { crt, key } = testCertificate({
    hosts: ['process-kubelet'],
    notBefore: new Date(Date.now() - day),
    notAfter: new Date(Date.now() + 30 * day),
  });
  const server = createServer({ cert: crt, key }, (request, response) => {
    const url = new URL(request.url ?? '/', 'https://kubelet');
    const match = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    const text = match === null ? undefined : read(match[1]!, match[2]!, match[3]!);
    if (text === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('no such container\n');
      return;
    }
    const lines = Number(url.searchParams.get('tailLines') ?? '');
    let body =
      Number.isInteger(lines) && lines >= 0 && url.searchParams.has('tailLines') ? tail(text, lines) : text;
    const limit = Number(url.searchParams.get('limitBytes') ?? '');
    if (Number.isInteger(limit) && limit > 0) body = body.slice(0, limit);
    response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}
