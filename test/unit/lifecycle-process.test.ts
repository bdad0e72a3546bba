/** The lifecycle diagram as shipped: each path from a start event to an end event. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { parseConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { testCertificate } from '../support/certificates.ts';
import { issuedCertificate, request } from './certificate-request.ts';
import { lifecycleHarness, runThrough } from './lifecycle-harness.ts';

const DAY = 86_400_000;

/** A good certificate for shop.test as of `now`. */
const goodPair = (now: number) =>
  testCertificate({
    hosts: ['shop.test'],
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 89 * DAY),
  });

/** The Secret shop/shop-tls holding `pair`, with `metadata` and nothing of kube-lego's. */
function handWritten(pair: { crt: string; key: string }, metadata: V1ObjectMeta = {}) {
  return {
    metadata: { name: 'shop-tls', namespace: 'shop', ...metadata },
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': Buffer.from(pair.crt).toString('base64'),
      'tls.key': Buffer.from(pair.key).toString('base64'),
    },
  };
}

describe('certificate lifecycle process', () => {
  it('ends "valid" without a Job when the Secret holds a good certificate', async () => {
    const { runner, cluster, clock, config } = await lifecycleHarness();
    const pair = testCertificate({
      hosts: ['shop.test'],
      notBefore: new Date(clock.now - DAY),
      notAfter: new Date(clock.now + 89 * DAY),
    });
    cluster.writeCertificate(issuedCertificate(request(), pair, config));
    for (const start of ['message', 'timer'] as const) {
      const result = await runThrough(runner, cluster, { start, token: request(), key: 'shop/shop-tls' });
      assert.equal(result.end, 'valid', `${start}: ${result.error ?? ''}`);
    }
    assert.equal(cluster.launches.length, 0);
  });

  it('launches a Job for a missing Secret and ends "issued" when the Job succeeds', async () => {
    const { runner, cluster } = await lifecycleHarness();
    cluster.outcome = () => ({ succeeded: true, reason: 'Issued', message: 'issued by test CA' });
    const result = await runThrough(runner, cluster, {
      start: 'message',
      token: request(),
      key: 'shop/shop-tls',
    });
    assert.equal(result.end, 'issued');
    assert.deepEqual(
      result.path.filter((id) => id.startsWith('Task_')),
      [
        'Task_Deduplicate',
        'Task_InspectCertificate',
        'Task_FindIssuanceJob',
        'Task_ClaimJobSlot',
        'Task_LaunchIssuanceJob',
        'Task_ReadJobOutcome',
        'Task_RecordIssuance',
      ],
    );
    assert.equal(cluster.launches.length, 1);
    assert.deepEqual(
      cluster.events.map((event) => [event.type, event.reason, event.about.name]),
      [['Normal', 'CertificateIssued', 'shop']],
    );
  });

  it('ends "failed" with a Warning Event naming the reason when the Job fails', async () => {
    const { runner, cluster } = await lifecycleHarness();
    cluster.outcome = () => ({
      succeeded: false,
      reason: 'SelfCheckFailed',
      message: 'shop.test answered 404',
    });
    const result = await runThrough(runner, cluster, {
      start: 'message',
      token: request(),
      key: 'shop/shop-tls',
    });
    assert.equal(result.end, 'failed');
    assert.equal(cluster.events[0]?.type, 'Warning');
    assert.equal(cluster.events[0]?.reason, 'SelfCheckFailed');
    assert.match(cluster.events[0]!.message, /shop\.test answered 404/);
  });

  it('takes the error boundary to "failed" when a task throws, and does not crash', async () => {
    const { runner, cluster } = await lifecycleHarness();
    cluster.readError = new Error('secrets "shop-tls" is forbidden');
    const result = await runThrough(runner, cluster, {
      start: 'message',
      token: request(),
      key: 'shop/shop-tls',
    });
    assert.equal(result.end, 'failed');
    assert.match(cluster.events[0]!.message, /Inspect certificate: secrets "shop-tls" is forbidden/);
  });

  it('replaces a Job that already succeeded when its certificate is missing again', async () => {
    const { runner, cluster } = await lifecycleHarness();
    cluster.outcome = () => ({ succeeded: true, reason: 'Issued', message: '' });
    await runThrough(runner, cluster, { start: 'message', token: request(), key: 'shop/shop-tls' });
    // The Secret is still missing (say, deleted): the succeeded Job of the same name is stale.
    const again = await runThrough(runner, cluster, {
      start: 'timer',
      token: request(),
      key: 'shop/shop-tls',
    });
    assert.equal(again.end, 'issued');
    assert.ok(again.path.includes('Task_ReplaceIssuanceJob'), again.path.join(' '));
    assert.equal(cluster.replacements, 1);
  });

  it("leaves another controller's Secret alone: no Job, a Warning Event naming the Secret, its manager and the fix", async () => {
    const managers: [what: string, metadata: V1ObjectMeta, manager: string][] = [
      [
        "cert-manager's",
        { annotations: { 'cert-manager.io/certificate-name': 'shop', 'cert-manager.io/issuer-name': 'le' } },
        'managed by cert-manager (annotation cert-manager.io/certificate-name)',
      ],
      [
        'owned by a ConfigMap',
        { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'keeper', uid: 'uid-9' }] },
        'owned by ConfigMap keeper',
      ],
      [
        'owned by another Ingress',
        {
          ownerReferences: [
            { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'blog', uid: 'uid-b' },
          ],
        },
        'owned by Ingress blog',
      ],
      [
        'managed by Helm',
        { labels: { 'app.kubernetes.io/managed-by': 'Helm' } },
        'managed by Helm (label app.kubernetes.io/managed-by=Helm)',
      ],
    ];
    for (const [what, metadata, manager] of managers) {
      const { runner, cluster, clock } = await lifecycleHarness(
        undefined,
        parseConfig({ LEGO_KUBE_ANNOTATION: 'example.test/acme' }),
      );
      // Were a Job launched, it would succeed at once: the run would end "issued", not hang.
      cluster.outcome = () => ({ succeeded: true, reason: 'Issued', message: '' });
      // Expired: any Secret of kube-lego's in that state would be reissued at once.
      const expired = testCertificate({
        hosts: ['shop.test'],
        notBefore: new Date(clock.now - 100 * DAY),
        notAfter: new Date(clock.now - 10 * DAY),
      });
      cluster.secrets.set('shop/shop-tls', handWritten(expired, metadata));
      const before = structuredClone(cluster.secrets.get('shop/shop-tls'));
      for (const start of ['message', 'timer'] as const) {
        const result = await runThrough(runner, cluster, { start, token: request(), key: 'shop/shop-tls' });
        assert.equal(result.end, 'foreign', `${what}, ${start}: ${result.error ?? ''}`);
        assert.deepEqual(
          result.path.filter((id) => id.startsWith('Task_')),
          ['Task_Deduplicate', 'Task_InspectCertificate', 'Task_RecordForeignSecret'],
        );
      }
      assert.equal(cluster.launches.length, 0, `${what}: no Job`);
      assert.deepEqual(cluster.secrets.get('shop/shop-tls'), before, `${what}: the Secret as it was`);
      assert.deepEqual(
        cluster.events.map((event) => [event.type, event.reason, event.about.kind, event.about.name]),
        [
          ['Warning', 'ForeignSecret', 'Ingress', 'shop'],
          ['Warning', 'ForeignSecret', 'Ingress', 'shop'],
        ],
      );
      assert.equal(
        cluster.events[0]!.message,
        `certificate for Secret shop-tls not issued: the Secret is ${manager}, and kube-lego does not write ` +
          "over another controller's Secret; remove the example.test/acme annotation from Ingress shop or " +
          'name another secretName',
      );
    }
  });

  it("reissues a Secret without kube-lego's record (by hand, or jetstack kube-lego) as IssuerUnknown, and says why", async () => {
    const { runner, cluster, clock } = await lifecycleHarness();
    cluster.outcome = () => ({ succeeded: true, reason: 'Issued', message: 'issued by test CA' });
    cluster.secrets.set('shop/shop-tls', handWritten(goodPair(clock.now)));
    const result = await runThrough(runner, cluster, {
      start: 'timer',
      token: request(),
      key: 'shop/shop-tls',
    });
    assert.equal(result.end, 'issued', result.error);
    assert.equal(cluster.launches.length, 1);
    assert.deepEqual(
      cluster.events.map((event) => [event.type, event.reason]),
      [['Normal', 'CertificateIssued']],
    );
    assert.match(
      cluster.events[0]!.message,
      /^certificate for shop\.test written to Secret shop-tls \(IssuerUnknown: the Secret does not record the ACME directory that issued it .+\): issued by test CA$/,
    );
  });

  it('reissues a certificate kube-lego wrote from another LEGO_URL or profile, or for hosts the entry dropped', async () => {
    const { runner, cluster, clock, config } = await lifecycleHarness();
    cluster.outcome = () => ({ succeeded: true, reason: 'Issued', message: '' });
    const pair = goodPair(clock.now);
    const written = issuedCertificate(request(), pair, config);
    const cases: [reason: string, write: () => void, token: ReturnType<typeof request>][] = [
      [
        'IssuerChanged',
        () => cluster.writeCertificate({ ...written, issuerUrl: 'https://old.test/dir' }),
        request(),
      ],
      [
        'ProfileChanged',
        () => cluster.writeCertificate({ ...written, acmeProfile: 'shortlived' }),
        request(),
      ],
      [
        'HostsRemoved',
        () =>
          cluster.writeCertificate(
            issuedCertificate(
              request({ hosts: ['shop.test', 'www.shop.test'] }),
              testCertificate({
                hosts: ['shop.test', 'www.shop.test'],
                notBefore: new Date(clock.now - DAY),
                notAfter: new Date(clock.now + 89 * DAY),
              }),
              config,
            ),
          ),
        request(),
      ],
    ];
    for (const [reason, write, token] of cases) {
      cluster.secrets.clear();
      cluster.events.length = 0;
      write();
      const result = await runThrough(runner, cluster, { start: 'timer', token, key: token.key });
      assert.equal(result.end, 'issued', `${reason}: ${result.error ?? ''}`);
      assert.equal((result.output.inspectCertificate as { reason: string }).reason, reason);
      assert.match(cluster.events[0]!.message, new RegExp(`written to Secret shop-tls \\(${reason}: `));
    }
  });

  it("keeps a certificate not valid yet by this clock (behind the CA's): no Job", async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({
      level: 'debug',
      type: 'json',
      destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    });
    const { runner, cluster, clock, config } = await lifecycleHarness(
      undefined,
      parseConfig({}),
      undefined,
      log,
    );
    cluster.outcome = () => ({ succeeded: true, reason: 'Issued', message: '' });
    const early = testCertificate({
      hosts: ['shop.test'],
      notBefore: new Date(clock.now + 60_000),
      notAfter: new Date(clock.now + 90 * DAY),
    });
    cluster.writeCertificate(issuedCertificate(request(), early, config));
    const result = await runThrough(runner, cluster, {
      start: 'timer',
      token: request(),
      key: 'shop/shop-tls',
    });
    assert.equal(result.end, 'valid', result.error);
    assert.equal(cluster.launches.length, 0);
    const notYet = lines.filter((line) => /not valid yet by this clock/.test(String(line.msg)));
    assert.deepEqual(
      notYet.map((line) => [line.level, line.notBefore]),
      [[20, new Date(clock.now + 60_000).toISOString().replace(/\.\d{3}Z$/, '.000Z')]],
    );
  });
});
