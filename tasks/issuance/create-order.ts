/** Create order: a new ACME order for the entry's hosts, with the HTTP-01 challenge of each authorization. */
import type { Client } from 'acme-client';
import { createOrder as orderFor } from '../../src/acme/order.ts';
import type { IssuanceTask } from './services.ts';

/** The `createOrder` implementation. */
export const createOrder: IssuanceTask = async ({ token, services, output, log }) => {
  const { client } = output.loadAccount as { client: Client };
  const profile = services.config.acmeProfile;
  const created = await orderFor(client, token.hosts, {
    ...(profile !== undefined && { profile }),
    ...(token.replaces !== undefined && { replaces: token.replaces }),
  });
  if (created.replacementRefused !== undefined) {
    log.warn(
      { replaces: token.replaces, error: created.replacementRefused },
      'the CA refused the order as a replacement of the current certificate; ordered without `replaces`',
    );
  }
  log.info(
    {
      order: created.order.url,
      pending: created.challenges.length,
      alreadyValid: created.alreadyValid.length,
      ...(token.replaces !== undefined && {
        replaces: token.replaces,
        replaced: created.replacementRefused === undefined,
      }),
    },
    `order created for ${token.hosts.join(', ')}`,
  );
  return { ...created, orderUrl: created.order.url };
};
