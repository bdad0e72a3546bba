/**
 * Load or register account: the ACME account from the Secret `LEGO_SECRET_NAME`, registered (terms agreed)
 * on first use or when `LEGO_URL` names another CA than the stored account's (src/acme/account.ts).
 */
import { ensureAccount } from '../../src/acme/account.ts';
import type { IssuanceTask } from './services.ts';

/** The `loadAccount` implementation. */
export const loadAccount: IssuanceTask = async ({ services, log }) => {
  const { config } = services;
  const { client, account } = await ensureAccount(services.accountStore, {
    directoryUrl: config.url,
    ...(config.email !== undefined && { email: config.email }),
    ...(config.caBundle !== undefined && { caPem: config.caBundle }),
  });
  log.info({ directory: config.url, account: account.accountUrl }, 'ACME account ready');
  return { client, accountUrl: account.accountUrl ?? '' };
};
