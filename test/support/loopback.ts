/**
 * Loopback addresses for the test servers: each component of a sandbox (etcd, kube-apiserver,
 * kube-controller-manager, Pebble, challtestsrv, the ingress router, an ACME test's responder) gets a
 * 127.X.Y.Z address of its own and listens there on its usual, fixed port. Two components can then never
 * be handed the same port, because no two ever share an address.
 *
 * An address is claimed by binding a TCP socket on it at {@link CLAIM_PORT} and holding it until the claim
 * is released (or the process ends, when the kernel releases it): binding is atomic across processes, so
 * test files that run at the same time never claim the same address, and no lock file outlives its owner.
 * The claim port is just below Linux's ephemeral range (32768–60999), so no client socket ever takes it.
 *
 * Component addresses come from 127.1.0.0 to 127.127.255.255; the process kubelet's pod blocks use
 * 127.0.X.0/24 (kubelet-network.ts), the same mechanism with the claim on 127.0.X.1.
 */
import { createServer, type Server } from 'node:net';

/** The port whose socket marks an address as claimed. */
export const CLAIM_PORT = 32767;

/** A loopback address this process holds until `release()`. */
export interface ClaimedAddress {
  /** The address, 127.X.Y.Z. */
  readonly address: string;
  /** Gives the address up. */
  release(): Promise<void>;
}

/** Binds the claim socket on `address`; resolves with it, or with undefined when someone holds it. */
export function holdClaim(address: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve(undefined);
      else reject(error);
    });
    server.listen({ port: CLAIM_PORT, host: address, exclusive: true }, () => {
      // The claim must not keep a test process alive by itself.
      server.unref();
      resolve(server);
    });
  });
}

const FIRST = (1 << 16) + 1; // 127.1.0.1, as an offset in 127.0.0.0/8
const LAST = (128 << 16) - 2; // 127.127.255.254
const SPAN = LAST - FIRST + 1;

function addressAt(offset: number): string {
  return `127.${(offset >> 16) & 255}.${(offset >> 8) & 255}.${offset & 255}`;
}

/** Where this process starts looking: random, so addresses just given up by others are rarely reused at once. */
let cursor = Math.floor(Math.random() * SPAN);

/** Claims a free component address in 127.1.0.0–127.127.255.255 for this process. */
export async function claimAddress(): Promise<ClaimedAddress> {
  for (let tries = 0; tries < 1000; tries += 1) {
    const offset = FIRST + (cursor % SPAN);
    cursor += 1;
    if ((offset & 255) === 0 || (offset & 255) === 255) continue;
    const address = addressAt(offset);
    const claim = await holdClaim(address);
    if (claim) {
      return {
        address,
        release: () => new Promise<void>((resolve) => claim.close(() => resolve())),
      };
    }
  }
  throw new Error('no free loopback address after 1000 tries (is 127.0.0.0/8 routed to lo?)');
}

/** Claims `count` component addresses at once; releases them all if one claim fails. */
export async function claimAddresses(count: number): Promise<ClaimedAddress[]> {
  const claimed: ClaimedAddress[] = [];
  try {
    for (let i = 0; i < count; i += 1) claimed.push(await claimAddress());
    return claimed;
  } catch (error) {
    await Promise.all(claimed.map((claim) => claim.release()));
    throw error;
  }
}
