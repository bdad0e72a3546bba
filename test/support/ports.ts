/**
 * Free ports on 127.0.0.1 for the servers the tests start. A port is free when asked; a server started
 * right after takes it, unless another process happens to pick the same one in between (rare).
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function isUdpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.on('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/** A TCP port free on 127.0.0.1; with `udp`, one free for both TCP and UDP (as a DNS server needs). */
export async function freePort(options: { udp?: boolean } = {}): Promise<number> {
  for (;;) {
    const port = await freeTcpPort();
    if (!options.udp || (await isUdpPortFree(port))) return port;
  }
}
