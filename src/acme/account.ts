/**
 * The ACME account: its key and URL, kept in a store (in the cluster, the Secret `LEGO_SECRET_NAME`), and
 * the rules that keep exactly one account per directory however many issuance Jobs start at once.
 *
 * - The stored account records the directory URL it belongs to. When `LEGO_URL` names another directory
 *   (staging to production), the stored account is replaced by a new one, through an update guarded by the
 *   version that was read: no one has to delete the Secret by hand.
 * - The key is written to the store before it is registered. Creating the record is atomic (the loser of a
 *   race gets `false`, the API server's 409), so every Job that starts at the same time ends up with the
 *   same key; registering one key twice at the CA returns the same account (RFC 8555 §7.3.1), so they all
 *   end up with the same account. The account URL is stored afterwards.
 * - Registration agrees to the CA's terms of service, as kube-lego did.
 */
import { createPrivateKey } from 'node:crypto';
import type { Client } from 'acme-client';
import { crypto as acmeCrypto } from 'acme-client';
import { AcmeError, messageOf } from './errors.ts';
import { createAcmeClient, explainFailures, type CaTrust } from './transport.ts';

/** The account as the store keeps it. `accountKeyPem` is secret and must never be logged. */
export interface StoredAccount {
  /** The ACME directory URL the account belongs to. */
  directoryUrl: string;
  /** The account URL the CA gave; absent between writing the key and registering it. */
  accountUrl?: string;
  /** PEM of the account's private key. */
  accountKeyPem: string;
  /** The contact e-mail the account was registered or last updated with. */
  email?: string;
}

/**
 * Where the account is kept: a port, implemented over a Kubernetes Secret in `src/kube` and in memory for
 * tests (`MemoryAccountStore`). Writes are optimistic: `version` is the store's version
 * of what `load` returned (a Secret's resourceVersion).
 */
export interface AccountStore {
  /** The stored account and its version, or undefined when there is none. */
  load(): Promise<{ account: StoredAccount; version: string } | undefined>;
  /** Stores `account` when nothing is stored yet; false when something is (409). */
  create(account: StoredAccount): Promise<boolean>;
  /** Replaces the stored account when its version is still `version`; false on a conflict (409). */
  update(account: StoredAccount, version: string): Promise<boolean>;
}

/** Options of {@link ensureAccount}. */
export interface EnsureAccountOptions extends CaTrust {
  /** The ACME directory URL (`LEGO_URL`). */
  directoryUrl: string;
  /** Contact e-mail (`LEGO_EMAIL`); when given and different from the stored one, the account is updated. */
  email?: string;
  /** How many times to re-read the store after losing a race before giving up; default 10. */
  maxAttempts?: number;
}

/** A client signed in as the account, and the account as stored. */
export interface EnsuredAccount {
  /** An acme-client Client that knows the account URL. */
  client: Client;
  /** The stored account the client uses. */
  account: StoredAccount;
}

/** Whether `pem` is a private key node can use; an empty or damaged key means the record must be replaced. */
function isUsableKey(pem: string): boolean {
  try {
    return createPrivateKey(pem).type === 'private';
  } catch {
    return false;
  }
}

/**
 * A new account record for `directoryUrl` with a new ECDSA P-256 key (the account key only signs requests
 * to the CA, and P-256 is what Let's Encrypt's own clients use), not yet registered.
 */
async function newAccount(directoryUrl: string, email: string | undefined): Promise<StoredAccount> {
  const accountKeyPem = (await acmeCrypto.createPrivateEcdsaKey('P-256')).toString();
  return { directoryUrl, accountKeyPem, ...(email !== undefined && { email }) };
}

/**
 * The account for `directoryUrl`: loads it from `store`, creating, registering or replacing it as the rules
 * above say, and returns a client signed in as it. Failures are {@link AcmeError}s of step `account`; errors
 * of the store itself (API server unreachable) pass through unchanged.
 *
 * Every pass re-reads the store and takes one step (create the record, replace a record of another
 * directory, or register the key and store the URL); a step lost to another Job just leads to the next
 * pass. Registering is done on every call, also when the URL is stored: the CA answers a known key with the
 * existing account, which checks that the account still exists (a CA that lost it, such as a restarted
 * Pebble, gets the same key registered again) and updates the contact e-mail.
 */
export async function ensureAccount(
  store: AccountStore,
  options: EnsureAccountOptions,
): Promise<EnsuredAccount> {
  const { directoryUrl, email } = options;
  const maxAttempts = options.maxAttempts ?? 10;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const loaded = await store.load();
    if (loaded === undefined) {
      await store.create(await newAccount(directoryUrl, email));
      continue;
    }
    const { account, version } = loaded;
    if (account.directoryUrl !== directoryUrl || !isUsableKey(account.accountKeyPem)) {
      await store.update(await newAccount(directoryUrl, email), version);
      continue;
    }
    const client = createAcmeClient({ ...options, accountKeyPem: account.accountKeyPem });
    const contactEmail = email ?? account.email;
    try {
      await explainFailures(() =>
        client.createAccount({
          termsOfServiceAgreed: true,
          ...(contactEmail !== undefined && { contact: [`mailto:${contactEmail}`] }),
        }),
      );
    } catch (error) {
      const message = `registering the ACME account at ${directoryUrl} failed: ${messageOf(error)}`;
      throw new AcmeError('account', [], message, { cause: error });
    }
    const accountUrl = client.getAccountUrl();
    const registered: StoredAccount = {
      directoryUrl,
      accountUrl,
      accountKeyPem: account.accountKeyPem,
      ...(contactEmail !== undefined && { email: contactEmail }),
    };
    if (account.accountUrl === accountUrl && account.email === registered.email) {
      return { client, account };
    }
    if (await store.update(registered, version)) return { client, account: registered };
  }
  throw new AcmeError(
    'account',
    [],
    `the ACME account store kept changing: no stable account for ${directoryUrl} after ${maxAttempts} attempts`,
  );
}
