/**
 * The ACME account kept in the Secret `LEGO_SECRET_NAME` in `LEGO_NAMESPACE`: the account key, the account
 * URL, and the directory URL the account belongs to (so pointing `LEGO_URL` at another CA registers a new
 * account by itself). Creation and updates are atomic on the API server (create fails with 409 when the
 * Secret exists; an update carries the resourceVersion it read), which is what keeps two concurrent Jobs
 * from registering two accounts.
 */
import type { V1Secret } from '@kubernetes/client-node';
import type { AccountStore, StoredAccount } from '../acme/account.ts';
import { statusOf } from './api-error.ts';
import { objectPath, type KubeRest } from './rest-client.ts';

/** Data keys of the account Secret. */
export const ACCOUNT_KEYS = {
  key: 'account.key',
  url: 'account.url',
  directory: 'directory.url',
  email: 'email',
} as const;

const encode = (value: string) => Buffer.from(value).toString('base64');
const decode = (value: string | undefined) =>
  value === undefined ? undefined : Buffer.from(value, 'base64').toString();

/** The Secret body for an account. Pure. */
export function accountSecret(
  namespace: string,
  name: string,
  account: StoredAccount,
  resourceVersion?: string,
): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'kube-lego' },
      ...(resourceVersion !== undefined && { resourceVersion }),
    },
    data: {
      [ACCOUNT_KEYS.key]: encode(account.accountKeyPem),
      [ACCOUNT_KEYS.directory]: encode(account.directoryUrl),
      ...(account.accountUrl !== undefined && { [ACCOUNT_KEYS.url]: encode(account.accountUrl) }),
      ...(account.email !== undefined && { [ACCOUNT_KEYS.email]: encode(account.email) }),
    },
  };
}

/** {@link AccountStore} over a Secret. */
export class SecretAccountStore implements AccountStore {
  readonly #api: KubeRest;
  readonly #namespace: string;
  readonly #name: string;

  constructor(api: KubeRest, namespace: string, name: string) {
    this.#api = api;
    this.#namespace = namespace;
    this.#name = name;
  }

  async load(): Promise<{ account: StoredAccount; version: string } | undefined> {
    let secret: V1Secret;
    try {
      secret = await this.#api.get(objectPath('', 'secrets', this.#namespace, this.#name));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
    const data = secret.data ?? {};
    const accountKeyPem = decode(data[ACCOUNT_KEYS.key]);
    const directoryUrl = decode(data[ACCOUNT_KEYS.directory]);
    if (accountKeyPem === undefined || directoryUrl === undefined) {
      // A Secret from jetstack kube-lego (ACME v1) or made by hand: treat it as belonging to no directory,
      // so it is replaced by a new account through an update guarded by its resourceVersion.
      return {
        account: { accountKeyPem: accountKeyPem ?? '', directoryUrl: '' },
        version: secret.metadata?.resourceVersion ?? '',
      };
    }
    const accountUrl = decode(data[ACCOUNT_KEYS.url]);
    const email = decode(data[ACCOUNT_KEYS.email]);
    return {
      account: {
        accountKeyPem,
        directoryUrl,
        ...(accountUrl !== undefined && { accountUrl }),
        ...(email !== undefined && { email }),
      },
      version: secret.metadata?.resourceVersion ?? '',
    };
  }

  async create(account: StoredAccount): Promise<boolean> {
    try {
      await this.#api.post(
        objectPath('', 'secrets', this.#namespace),
        accountSecret(this.#namespace, this.#name, account),
      );
      return true;
    } catch (error) {
      if (statusOf(error) === 409) return false;
      throw error;
    }
  }

  async update(account: StoredAccount, version: string): Promise<boolean> {
    try {
      await this.#api.put(
        objectPath('', 'secrets', this.#namespace, this.#name),
        accountSecret(this.#namespace, this.#name, account, version),
      );
      return true;
    } catch (error) {
      if (statusOf(error) === 409) return false;
      throw error;
    }
  }
}
