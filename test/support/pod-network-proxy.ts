/**
 * The local cluster's pod network, for a real ingress controller: a SOCKS5 proxy (RFC 1928, no
 * authentication, CONNECT only) on a loopback address of its own that connects a pod IP (10.244.X.Y, as
 * EndpointSlices name it) to the pod's loopback twin (127.0.X.Y, kubelet-network.ts), and refuses every other
 * destination.
 *
 * Traefik dials the endpoints of its EndpointSlices, which the API server keeps out of 127.0.0.0/8. Given this
 * proxy as `HTTP_PROXY=socks5://...` (its backend transport honours Go's `http.ProxyFromEnvironment`), it
 * reaches the pods while every connection stays on loopback (the network rule); Go sends loopback
 * destinations, such as the API server's, past the proxy. SOCKS, not an HTTP proxy: an HTTP proxy's request
 * line names the Host header Traefik passes on (the site's name), not the endpoint it chose.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { loopbackOf, POD_NETWORK } from './kubelet-network.ts';
import { claimAddress } from './loopback.ts';

/** The running proxy. */
export interface PodNetworkProxy {
  /** `socks5://<address>:<port>`, for `HTTP_PROXY`. */
  readonly url: string;
  /** One line per connection: where it went, or why not. */
  logs(): string;
  stop(): Promise<void>;
}

const VERSION = 5;
const NO_AUTHENTICATION = 0;
const CONNECT = 1;
const IPV4 = 1;
const REPLY_SUCCEEDED = 0;
const REPLY_NOT_ALLOWED = 2;
const REPLY_HOST_UNREACHABLE = 4;
const REPLY_COMMAND_NOT_SUPPORTED = 7;

/** Reads exactly `length` bytes from `socket` (what is buffered first). */
function readBytes(socket: Socket, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tryRead = () => {
      const chunk = socket.read(length) as Buffer | null;
      if (chunk === null) return false;
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      resolve(chunk);
      return true;
    };
    const onReadable = () => void tryRead();
    const onEnd = () => reject(new Error('closed during the SOCKS handshake'));
    if (tryRead()) return;
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
  });
}

/** A reply with the unspecified bound address. */
function reply(code: number): Buffer {
  return Buffer.from([VERSION, code, 0, IPV4, 0, 0, 0, 0, 0, 0]);
}

/** Starts the proxy on a loopback address it claims. */
export async function startPodNetworkProxy(): Promise<PodNetworkProxy> {
  const claim = await claimAddress();
  const lines: string[] = [];
  const log = (line: string) => lines.push(`${new Date().toISOString()} ${line}`);
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };

  async function handshake(client: Socket): Promise<void> {
    const [version, methodCount] = await readBytes(client, 2);
    const methods = await readBytes(client, methodCount ?? 0);
    if (version !== VERSION || !methods.includes(NO_AUTHENTICATION)) {
      client.end(Buffer.from([VERSION, 0xff]));
      return;
    }
    client.write(Buffer.from([VERSION, NO_AUTHENTICATION]));
    const [, command, , addressType] = await readBytes(client, 4);
    if (command !== CONNECT || addressType !== IPV4) {
      log(`command ${command} address type ${addressType} → refused`);
      client.end(reply(command === CONNECT ? REPLY_NOT_ALLOWED : REPLY_COMMAND_NOT_SUPPORTED));
      return;
    }
    const address = [...(await readBytes(client, 4))].join('.');
    const port = (await readBytes(client, 2)).readUInt16BE(0);
    const twin = loopbackOf(address);
    if (twin === undefined || twin === address) {
      log(`${address}:${port} → refused, not a pod IP of ${POD_NETWORK}`);
      client.end(reply(REPLY_NOT_ALLOWED));
      return;
    }
    const upstream = createConnection({ host: twin, port });
    track(upstream);
    upstream.once('connect', () => {
      log(`${address}:${port} → ${twin}:${port}`);
      client.write(reply(REPLY_SUCCEEDED));
      client.pipe(upstream).pipe(client);
    });
    upstream.once('error', (error) => {
      log(`${address}:${port} → ${twin}:${port} failed: ${error.message}`);
      if (!client.destroyed) client.end(reply(REPLY_HOST_UNREACHABLE));
    });
  }

  const server = createServer({ pauseOnConnect: false }, (client) => {
    track(client);
    handshake(client).catch((error: Error) => {
      log(`handshake failed: ${error.message}`);
      client.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: claim.address, port: 0 }, resolve);
  });
  const { port } = server.address() as { port: number };
  return {
    url: `socks5://${claim.address}:${port}`,
    logs: () => lines.join('\n'),
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await claim.release();
    },
  };
}
