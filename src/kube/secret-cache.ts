/**
 * The certificate Secrets kube-lego wrote, as its Secret watch last reported them (label-selected, so only
 * those), by `namespace/name`: "Inspect certificate" reads a certificate from here instead of asking the API
 * server, so a periodic check of many valid certificates reads no Secret unless it changed.
 *
 * It holds what the watch already holds (the same objects), and never says a Secret is absent: a Secret
 * it does not have (not written by kube-lego, not listed yet) is read from the API server. The watch's
 * re-lists report the Secrets that vanished meanwhile as deleted, so nothing stale outlives a dropped watch.
 */
import type { V1Secret } from '@kubernetes/client-node';
import { tlsSecretOf, type TlsSecret } from '../certificate/secret.ts';
import type { WatchEvent } from './list-watch.ts';

/** The watched certificate Secrets. */
export class SecretCache {
  readonly #secrets = new Map<string, V1Secret>();

  /** Takes in one event of the certificate Secret watch. */
  update({ type, object }: WatchEvent<V1Secret>): void {
    const key = `${object.metadata?.namespace}/${object.metadata?.name}`;
    if (type === 'DELETED') this.#secrets.delete(key);
    else this.#secrets.set(key, object);
  }

  /** The Secret as last watched; undefined when the watch has not reported it (read it from the API). */
  get(namespace: string, name: string): TlsSecret | undefined {
    const secret = this.#secrets.get(`${namespace}/${name}`);
    return secret === undefined ? undefined : tlsSecretOf(secret);
  }

  /** How many Secrets it holds. */
  get size(): number {
    return this.#secrets.size;
  }
}
