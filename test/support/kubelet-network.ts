/**
 * The pod network of the local cluster: each pod has two names for one address.
 *
 * - Its **loopback address** 127.0.X.Y is where its processes listen and where everything dials: Linux
 *   routes all of 127.0.0.0/8 to `lo`, so every pod gets an address of its own with no set-up and no
 *   privilege, and the network rule (every connection to 127.0.0.0/8) holds.
 * - Its **pod IP** 10.244.X.Y is what the API shows (status.podIP, and so EndpointSlices). The API server
 *   refuses loopback addresses in EndpointSlices ("may not be in the loopback range (127.0.0.0/8,
 *   ::1/128)", the same rule as for Endpoints and externalIPs), so the real endpointslice controller could
 *   not publish a pod at 127.0.X.Y. Nothing dials a 10.244 address: the ingress router and the kubelet's
 *   probes translate it to its loopback twin first.
 *
 * The downward API (`fieldRef: status.podIP`) and `POD_IP` give a process its loopback address, the one
 * it can bind; `KUBELET_POD_IP` gives the 10.244 one, as the API shows it.
 *
 * Each kubelet claims a block 127.0.X.0/24 of its own, X from 0 up, by holding the claim socket of
 * loopback.ts on 127.0.X.1 (the kernel drops the claim when its process ends), so kubelets of test files
 * that run at the same time never hand out the same address: the first kubelet's pods get 127.0.0.2,
 * 127.0.0.3, ... Within the block, addresses go round robin from .2 to .254, skipping those of live pods.
 * Block 0 holds 127.0.0.1 too, which pods never get.
 */
import { isIPv4, type Server } from 'node:net';
import { holdClaim } from './loopback.ts';

/** The pod network, as the API sees it. 10.244.0.0/16 is kind's and flannel's default pod CIDR. */
export const POD_NETWORK = '10.244.0.0/16';
const POD_PREFIX = '10.244.';
const LOOPBACK_PREFIX = '127.0.';

/** The pod IP (10.244.X.Y) of a pod's loopback address (127.0.X.Y). */
export function podIPOf(loopback: string): string {
  if (!isIPv4(loopback) || !loopback.startsWith(LOOPBACK_PREFIX))
    throw new Error(`not a pod loopback address: ${loopback}`);
  return POD_PREFIX + loopback.slice(LOOPBACK_PREFIX.length);
}

/**
 * The loopback address to dial for an address found in the API: 10.244.X.Y becomes 127.0.X.Y, an address in
 * 127.0.0.0/8 stays; anything else is undefined, never to be dialled.
 */
export function loopbackOf(address: string): string | undefined {
  if (!isIPv4(address)) return undefined;
  if (address.startsWith(POD_PREFIX)) return LOOPBACK_PREFIX + address.slice(POD_PREFIX.length);
  if (address.startsWith('127.')) return address;
  return undefined;
}

/** Addresses of one kubelet's block, handed out to its pods. */
export interface AddressBlock {
  /** The next free loopback address of the block; throws when all 253 are in use. */
  take(): string;
  /** Makes an address free again. */
  release(loopback: string): void;
  /** Gives the block up. */
  close(): Promise<void>;
}

/** Claims a free block 127.0.X.0/24 for this process; the claim ends with the process at the latest. */
export async function claimAddressBlock(): Promise<AddressBlock> {
  for (let block = 0; block < 256; block += 1) {
    const claim = await holdClaim(`127.0.${block}.1`);
    if (claim) return addressBlock(block, claim);
  }
  throw new Error('no free address block 127.0.X.0/24: 256 kubelets hold one each');
}

function addressBlock(block: number, claim: Server): AddressBlock {
  const used = new Set<string>();
  let next = 2;
  return {
    take() {
      for (let tries = 0; tries < 253; tries += 1) {
        const host = next;
        next = next >= 254 ? 2 : next + 1;
        const loopback = `127.0.${block}.${host}`;
        if (!used.has(loopback)) {
          used.add(loopback);
          return loopback;
        }
      }
      throw new Error(`all 253 addresses of 127.0.${block}.0/24 are in use`);
    },
    release(loopback) {
      used.delete(loopback);
    },
    close: () => new Promise<void>((resolve) => claim.close(() => resolve())),
  };
}
