// ACME Renewal Information against a real Pebble: the certificate identifier kube-lego computes is the one
// Pebble knows, the window and Retry-After it gives are read, a window moved into the past is seen, and an
// order naming the certificate it replaces is taken as a replacement, or made again without the hint when
// Pebble refuses it.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ariCertificateId } from '../../src/acme/certificate-id.ts';
import { MemoryAccountStore } from '../../src/acme/memory-account-store.ts';
import { RenewalInfoError, caRenewalInfo } from '../../src/acme/renewal-info.ts';
import { assertIssued, startAcmeWorld, type AcmeWorld } from './harness.ts';

const HOUR = 3_600_000;

let world: AcmeWorld;
let root: string;
before(async () => {
  world = await startAcmeWorld();
  root = await world.pebble.issuingRootPem();
});
after(async () => {
  await world?.stop();
});

const idOf = (leafPem: string) => ariCertificateId(new X509Certificate(leafPem).raw)!;

/**
 * Pebble 2.10 looks an order's `replaces` up by the serial without the DER's leading 00 (letsencrypt/
 * pebble#550), so it refuses a correct `replaces` for a serial whose first octet is 0x80 or more (about 1 in
 * 256 of its serials): the fallback is then what the test sees.
 */
const pebbleRefusesCorrectReplaces = (certificateId: string) =>
  Buffer.from(certificateId.split('.')[1]!, 'base64url')[0] === 0;

describe('ACME Renewal Information', () => {
  const store = new MemoryAccountStore();
  const ca = () => caRenewalInfo({ directoryUrl: world.pebble.directoryUrl, caPem: world.pebble.caCertPem });

  test("reads Pebble's window for a certificate it issued: inside its validity, asking again in 6 h", async () => {
    const issued = await world.issue(store, ['ari.shop.test']);
    const answer = await ca().ask(idOf(issued.leafPem));
    assert.ok(answer !== undefined, 'Pebble offers renewalInfo');
    const { start, end } = answer.window;
    assert.ok(issued.notBefore.getTime() <= start && start < end && end <= issued.notAfter.getTime());
    assert.equal(answer.retryAfterMs, 6 * HOUR);
  });

  test('sees a window the CA moved into the past', async () => {
    const issued = await world.issue(store, ['revoked.shop.test']);
    const past = { start: new Date(Date.now() - HOUR), end: new Date(Date.now() - HOUR + 1000) };
    await world.pebble.setRenewalWindow(issued.leafPem, past);
    const answer = await ca().ask(idOf(issued.leafPem));
    assert.deepEqual(answer?.window, { start: past.start.getTime(), end: past.end.getTime() });
  });

  test('orders a replacement naming the certificate it replaces, and once replaced, orders without', async (t) => {
    const first = await world.issue(store, ['renew.shop.test']);
    const replaces = idOf(first.leafPem);
    const renewed = await world.issue(store, ['renew.shop.test'], { replaces });
    assertIssued(renewed, ['renew.shop.test'], root);
    if (pebbleRefusesCorrectReplaces(replaces)) {
      t.diagnostic(`serial of ${replaces} starts with 00: Pebble refuses it (pebble#550), ordered without`);
      assert.match(renewed.replacementRefused ?? '', /could not find an order|500|badNonce/);
    } else {
      assert.equal(renewed.replacementRefused, undefined);
      assert.match(world.pebble.logs(), /ARI: order "[^"]+" is a replacement of "[^"]+"/);
    }
    const again = await world.issue(store, ['renew.shop.test'], { replaces });
    assertIssued(again, ['renew.shop.test'], root);
    assert.ok(again.replacementRefused !== undefined, 'a certificate is replaced once');
    t.diagnostic(`second replacement refused: ${again.replacementRefused}`);
  });

  test('says 404 for a certificate Pebble never issued', async () => {
    const issued = await world.issue(store, ['known.shop.test']);
    const [keyId] = idOf(issued.leafPem).split('.');
    await assert.rejects(ca().ask(`${keyId}.AQIDBAUGBwg`), (error: unknown) => {
      assert.ok(error instanceof RenewalInfoError);
      assert.equal(error.status, 404);
      return true;
    });
  });

  test('gives no window for a CA whose directory has no renewalInfo', async () => {
    const directory = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify({ newNonce: 'http://127.0.0.1/nonce', newOrder: 'http://127.0.0.1/order' }),
      );
    });
    await new Promise<void>((resolve) => directory.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = directory.address() as AddressInfo;
      const answer = await caRenewalInfo({ directoryUrl: `http://127.0.0.1:${port}/directory` }).ask(
        'AQI.AQI',
      );
      assert.equal(answer, undefined);
    } finally {
      directory.close();
    }
  });
});
