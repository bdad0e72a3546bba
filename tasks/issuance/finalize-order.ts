/**
 * Finalize order: a new private key for the certificate (`LEGO_KEY_TYPE`, `LEGO_RSA_KEYSIZE`), a CSR for the
 * hosts, finalization, and the download of the chain.
 */
import type { Client } from 'acme-client';
import { createKeyAndCsr } from '../../src/acme/keys.ts';
import { finalizeOrder as finalize, type CreatedOrder } from '../../src/acme/order.ts';
import type { IssuanceTask } from './services.ts';

/** The `finalizeOrder` implementation. */
export const finalizeOrder: IssuanceTask = async ({ token, services, output, log }) => {
  const { client } = output.loadAccount as { client: Client };
  const { order } = output.createOrder as CreatedOrder;
  const { keyPem, csrPem } = await createKeyAndCsr(token.hosts, {
    type: services.config.keyType,
    rsaKeySize: services.config.rsaKeySize,
  });
  const chain = await finalize(client, order, csrPem);
  log.info(
    { notAfter: chain.notAfter.toISOString(), certificate: chain.certificateUrl },
    'certificate issued',
  );
  return { chain, keyPem, notAfter: chain.notAfter.toISOString() };
};
