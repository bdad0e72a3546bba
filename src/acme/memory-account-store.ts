/** An {@link AccountStore} in memory, with the same create and update semantics as the Secret-backed one. */
import type { AccountStore, StoredAccount } from './account.ts';

/**
 * Keeps one account in memory. `create` fails when an account is stored, `update` when the version given
 * is not the current one, as the API server does with a Secret (409); every write makes a new version. The
 * counters let tests see how many writes happened.
 */
export class MemoryAccountStore implements AccountStore {
  #stored: { account: StoredAccount; version: string } | undefined;
  #nextVersion = 1;
  /** Successful writes (create and update). */
  writes = 0;
  /** Writes refused because of a conflict. */
  conflicts = 0;

  /** Starts empty, or holding `initial`. */
  constructor(initial?: StoredAccount) {
    if (initial) this.#stored = { account: { ...initial }, version: String(this.#nextVersion++) };
  }

  /** The stored account and its version, copied. */
  async load(): Promise<{ account: StoredAccount; version: string } | undefined> {
    await Promise.resolve();
    return this.#stored && { account: { ...this.#stored.account }, version: this.#stored.version };
  }

  /** Stores `account` unless one is stored already. */
  async create(account: StoredAccount): Promise<boolean> {
    await Promise.resolve();
    if (this.#stored) {
      this.conflicts++;
      return false;
    }
    this.#write(account);
    return true;
  }

  /** Replaces the stored account when `version` is current. */
  async update(account: StoredAccount, version: string): Promise<boolean> {
    await Promise.resolve();
    if (this.#stored?.version !== version) {
      this.conflicts++;
      return false;
    }
    this.#write(account);
    return true;
  }

  /** The stored account as it is now, without a round trip (for assertions). */
  get current(): StoredAccount | undefined {
    return this.#stored && { ...this.#stored.account };
  }

  #write(account: StoredAccount): void {
    this.#stored = { account: { ...account }, version: String(this.#nextVersion++) };
    this.writes++;
  }
}
