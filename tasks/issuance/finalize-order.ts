/**
 * Finalize order: a CSR for the hosts signed by the certificate's new private key (`LEGO_KEY_TYPE`,
 * `LEGO_RSA_KEYSIZE`; made since the Job started, src/acme/keys.ts), finalization, and the download of the
 * chain.
 */
import type { Client } from 'acme-client';
import { createCsr } from '../../src/acme/keys.ts';
import { finalizeOrder as finalize, type CreatedOrder } from '../../src/acme/order.ts';
import type { IssuanceTask } from './services.ts';

/** The `finalizeOrder` implementation. */
export const finalizeOrder: IssuanceTask = async ({ token, services, output, log }) => {
  const { client } = output.loadAccount as { client: Client };
  const { order } = output.createOrder as CreatedOrder;
  const keyPem = await services.certificateKey();
  const csrPem = await createCsr(token.hosts, keyPem);
  const chain = await finalize(client, order, csrPem);
  log.info(
    { notAfter: chain.notAfter.toISOString(), certificate: chain.certificateUrl },
    'certificate issued',
  );
  return { chain, keyPem, notAfter: chain.notAfter.toISOString() };
};
