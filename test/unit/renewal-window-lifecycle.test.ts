/**
 * The CA's renewal window on the lifecycle diagram: "Check renewal window" after a valid certificate, the
 * gateway "In renewal window?", and the Job that replaces the certificate naming it in `replaces`.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { ariCertificateId } from '../../src/acme/certificate-id.ts';
import { RenewalInfoCache } from '../../src/acme/renewal-info-cache.ts';
import type { RenewalInfoAnswer, RenewalInfoSource } from '../../src/acme/renewal-info.ts';
import { parseConfig } from '../../src/config.ts';
import { testCertificate } from '../support/certificates.ts';
import { issuedCertificate, request } from './certificate-request.ts';
import { lifecycleHarness, runThrough, silentLog } from './lifecycle-harness.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A CA whose window the test moves, answering with Pebble's Retry-After of 6 h; it counts the asks. */
function fakeCa(now: number) {
  const ca = {
    window: { start: now + 58 * DAY, end: now + 60 * DAY },
    asks: [] as string[],
    source: {
      async ask(certificateId: string): Promise<RenewalInfoAnswer> {
        ca.asks.push(certificateId);
        return { window: ca.window, retryAfterMs: 6 * HOUR, explanationUrl: 'https://ca.test/incident' };
      },
    } satisfies RenewalInfoSource,
  };
  return ca;
}

/** A harness whose Secret shop/shop-tls holds a 90-day certificate of the CA, issued a day ago. */
async function withCertificate(renewalInfo: boolean) {
  const config = parseConfig({});
  const now = Date.now();
  const ca = fakeCa(now);
  const harness = await lifecycleHarness(
    undefined,
    config,
    undefined,
    silentLog,
    renewalInfo ? new RenewalInfoCache(ca.source) : undefined,
  );
  harness.clock.now = now;
  const pair = testCertificate({
    hosts: ['shop.test'],
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 89 * DAY),
    authorityKeyIdHex: '69885b6b87464041e1b37b847ba0ae2cde01c8d4',
  });
  harness.cluster.writeCertificate(issuedCertificate(request(), pair, config));
  const certificateId = ariCertificateId(new X509Certificate(pair.crt).raw)!;
  const check = () =>
    runThrough(harness.runner, harness.cluster, { start: 'timer', token: request(), key: 'shop/shop-tls' });
  return { ...harness, ca, certificateId, check };
}

const envOf = (cluster: Awaited<ReturnType<typeof withCertificate>>['cluster'], name: string) =>
  [...cluster.jobs.values()][0]!.job.spec!.template.spec!.containers[0]!.env!.find(
    (entry) => entry.name === name,
  )?.value;

describe('renewal windows on the lifecycle diagram', () => {
  it("keeps a certificate before its point of the CA's window, asking the CA once per Retry-After", async () => {
    const { ca, certificateId, check, clock, cluster } = await withCertificate(true);
    for (let i = 0; i < 3; i += 1) {
      const result = await check();
      assert.equal(result.end, 'valid', result.error);
      assert.ok(result.path.includes('Task_CheckRenewalWindow'));
      const renewAt = (result.output.checkRenewalWindow as { verdict: { renewAt: number } }).verdict.renewAt;
      assert.ok(renewAt >= ca.window.start && renewAt < ca.window.end, "the renewal time is the CA window's");
      clock.now += HOUR;
    }
    assert.deepEqual(ca.asks, [certificateId]);
    clock.now += 3 * HOUR;
    await check();
    assert.equal(ca.asks.length, 2, 'asked again once the Retry-After passed');
    assert.equal(cluster.launches.length, 0);
  });

  it('renews at once, replacing the certificate, when the CA moves its window into the past', async () => {
    const { ca, certificateId, check, clock, cluster } = await withCertificate(true);
    assert.equal((await check()).end, 'valid');
    ca.window = { start: clock.now - HOUR, end: clock.now - HOUR + 1000 };
    clock.now += 6 * HOUR;
    cluster.outcome = () => ({ succeeded: true, reason: 'Issued', message: 'issued by test CA' });
    const result = await check();
    assert.equal(result.end, 'issued', result.error);
    assert.deepEqual(
      result.path.filter((id) => id.startsWith('Task_') || id.startsWith('Gateway_')).slice(0, 6),
      [
        'Task_Deduplicate',
        'Gateway_Collapsed',
        'Task_InspectCertificate',
        'Gateway_CertificateValid',
        'Task_CheckRenewalWindow',
        'Gateway_RenewalWindow',
      ],
    );
    assert.equal(envOf(cluster, 'LEGO_CERT_REPLACES'), certificateId);
    const [job] = cluster.jobs.values();
    assert.equal(job!.job.metadata!.annotations!['kube-lego.io/reason'], 'RenewalWindow');
    const [event] = cluster.events;
    assert.equal(event!.reason, 'CertificateIssued');
    assert.match(
      event!.message,
      /RenewalWindow: the CA's renewal window is .* \(see https:\/\/ca\.test\/incident\)/,
    );
  });

  it("follows a CA window past the lifetime rule only to half that rule's margin before expiry", async () => {
    const { ca, check, clock } = await withCertificate(true);
    // The certificate's notAfter, in whole seconds as X.509 has it.
    const notAfter = Math.floor((clock.now + 89 * DAY) / 1000) * 1000;
    ca.window = { start: notAfter - 2 * HOUR, end: notAfter - HOUR };
    const result = await check();
    assert.equal(result.end, 'valid');
    const { verdict } = result.output.checkRenewalWindow as {
      verdict: { renewAt: number; notAfter: number };
    };
    assert.equal(verdict.notAfter, notAfter);
    // 90 days: the lifetime rule renews 30 days before expiry; the CA's later window is followed to 15.
    assert.equal(verdict.renewAt, notAfter - 15 * DAY);
  });

  it('renews by the lifetime rule alone with LEGO_RENEWAL_INFO=false, asking the CA nothing', async () => {
    const { ca, check, clock, cluster } = await withCertificate(false);
    ca.window = { start: clock.now - HOUR, end: clock.now - HOUR + 1000 };
    const result = await check();
    assert.equal(result.end, 'valid');
    assert.deepEqual(ca.asks, []);
    assert.equal(cluster.launches.length, 0);
  });
});
