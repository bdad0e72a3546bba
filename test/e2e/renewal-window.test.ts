/**
 * The CA's renewal window (ACME Renewal Information, RFC 9773), end to end on the local cluster with a real
 * Pebble:
 * - after issuing, the operator asks Pebble for the certificate's window once, and not again before
 *   Pebble's Retry-After (6 h) however often it checks the certificate;
 * - when the CA moves the window into the past (a certificate it is revoking), the next ask renews the
 *   certificate at once, with one new order that names the old certificate in `replaces`. A running
 *   operator asks at the Retry-After; the test has a new leader ask at its first check instead, as
 *   after any restart or failover.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { CoreV1Api, type V1Job } from '@kubernetes/client-node';
import { ariCertificateId } from '../../src/acme/certificate-id.ts';
import { eventually } from '../support/cluster-testing.ts';
import { ordersFor } from '../support/pebble-orders.ts';
import type { Sandbox } from '../support/sandbox.ts';
import {
  ingressManifest,
  jobsOf,
  leaderPod,
  logEntries,
  networking,
  operatorRuns,
  rolloutRestart,
  validSecret,
  watchJobs,
} from './e2e-harness.ts';
import { sandboxSuite } from './sandbox-suite.ts';

const HOST = 'ari.shop.test';
const CERTIFICATE = 'shop/ari-tls';

/** The leaf certificate (PEM) in a tls Secret. */
async function leafOf(sandbox: Sandbox): Promise<string> {
  const secret = await sandbox.kube
    .makeApiClient(CoreV1Api)
    .readNamespacedSecret({ namespace: 'shop', name: 'ari-tls' });
  const chain = Buffer.from(secret.data!['tls.crt']!, 'base64').toString();
  return chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/)![0];
}

/** The value of the `issue` container's environment variable `name` in a Job. */
const envOf = (job: V1Job, name: string) =>
  job
    .spec!.template.spec!.containers.find((container) => container.name === 'issue')!
    .env!.find((entry) => entry.name === name)?.value;

describe('renewal windows, end to end', () => {
  let sandbox: Sandbox;
  let jobs: Awaited<ReturnType<typeof watchJobs>>;
  sandboxSuite({
    settings: { LEGO_CHECK_INTERVAL: '5s' },
    setUp: async (started) => {
      sandbox = started;
      jobs = await watchJobs(started.kube);
    },
    cleanUp: async () => jobs?.stop(),
  });
  const account = () => ({ kube: sandbox.kube, caPem: sandbox.pebble.caCertPem });
  /** The leader's log lines saying what the CA's window is for the certificate. */
  const windowsLogged = (pod: string) =>
    logEntries(sandbox, pod).filter(
      (entry) => entry['certificate'] === CERTIFICATE && entry['msg'] === "the CA's renewal window",
    );

  it('asks the CA for the window once after issuing, not again before its Retry-After', async () => {
    await networking(sandbox.kube).createNamespacedIngress({
      namespace: 'shop',
      body: ingressManifest('ari', [{ secretName: 'ari-tls', hosts: [HOST] }]),
    });
    await validSecret(sandbox, 'shop', 'ari-tls', [HOST]);
    const leader = (await leaderPod(sandbox))!;
    const [logged] = await eventually('the window asked for', async () => {
      const found = windowsLogged(leader);
      return found.length > 0 ? found : undefined;
    });
    const leaf = new X509Certificate(await leafOf(sandbox));
    const renewAt = Date.parse(String(logged!['renewAt']));
    assert.ok(renewAt > Date.now() && renewAt < Date.parse(leaf.validTo), `renewal at ${logged!['renewAt']}`);
    const since = Date.now();
    await eventually('two more periodic checks ending valid', async () => {
      const checks = (await operatorRuns(sandbox, CERTIFICATE, leader)).filter(
        (run) => run.trigger === 'periodic' && run.end === 'valid' && run.startedAt > since,
      );
      return checks.length >= 2;
    });
    assert.equal(windowsLogged(leader).length, 1, 'asked once');
  });

  it('renews at once, naming the certificate it replaces, when the CA moves the window into the past', async (t) => {
    const oldLeaf = await leafOf(sandbox);
    const oldId = ariCertificateId(new X509Certificate(oldLeaf).raw)!;
    const ordersBefore = (await ordersFor(account(), [HOST])).length;
    await sandbox.pebble.setRenewalWindow(oldLeaf, {
      start: new Date(Date.now() - 3_600_000),
      end: new Date(Date.now() - 3_599_000),
    });
    // Any replica that leads from here on asks the CA afresh: during the rollout an old replica may lead for a
    // while, and it asks at its first check as leader just as a new one does.
    const restarting = Date.now();
    await rolloutRestart(sandbox);
    const replacement = await eventually('a Job for the reason RenewalWindow', async () =>
      jobsOf(jobs, CERTIFICATE).find(
        (job) => job.metadata!.annotations!['kube-lego.io/reason'] === 'RenewalWindow',
      ),
    );
    assert.equal(envOf(replacement, 'LEGO_CERT_REPLACES'), oldId);
    await eventually('a new certificate in the Secret', async () => (await leafOf(sandbox)) !== oldLeaf);
    const renewedAfterMs = Date.now() - restarting;
    await validSecret(sandbox, 'shop', 'ari-tls', [HOST]);
    assert.equal((await ordersFor(account(), [HOST])).length, ordersBefore + 1, 'one new order');
    const pebbleSawReplacement = /ARI: order "[^"]+" is a replacement of "[^"]+"/.test(sandbox.pebble.logs());
    // Pebble 2.10 refuses a correct `replaces` whose serial starts with 00 (pebble#550): the Job then ordered without.
    const serialWithLeadingZero = Buffer.from(oldId.split('.')[1]!, 'base64url')[0] === 0;
    assert.equal(pebbleSawReplacement, !serialWithLeadingZero, 'Pebble took the order as a replacement');
    t.diagnostic(`renewed ${renewedAfterMs} ms after the rollout restart began`);
    process.stderr.write(
      `renewal window in the past: renewed ${renewedAfterMs} ms after the rollout restart began\n`,
    );
  });
});
