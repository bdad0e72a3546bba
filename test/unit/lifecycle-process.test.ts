/** The lifecycle diagram as shipped: each path from a start event to an end event. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testCertificate } from '../support/certificates.ts';
import { request } from './certificate-request.ts';
import { lifecycleHarness } from './lifecycle-harness.ts';

const DAY = 86_400_000;

describe('certificate lifecycle process', () => {
  it('ends "valid" without a Job when the Secret holds a good certificate', async () => {
    const { runner, cluster, clock } = await lifecycleHarness();
    const { crt, key } = testCertificate({
      hosts: ['shop.test'],
      notBefore: new Date(clock.now - DAY),
      notAfter: new Date(clock.now + 89 * DAY),
    });
    cluster.secrets.set('shop/shop-tls', { 'tls.crt': crt, 'tls.key': key });
    for (const start of ['message', 'timer'] as const) {
      const result = await runner.run({ start, token: request(), key: 'shop/shop-tls' });
      assert.equal(result.end, 'valid', `${start}: ${result.error ?? ''}`);
    }
    assert.equal(cluster.launches.length, 0);
  });

  it('launches a Job for a missing Secret and ends "issued" when the Job succeeds', async () => {
    const { runner, cluster } = await lifecycleHarness();
    cluster.outcome = () => ({ succeeded: true, reason: 'Issued', message: 'issued by test CA' });
    const result = await runner.run({ start: 'message', token: request(), key: 'shop/shop-tls' });
    assert.equal(result.end, 'issued');
    assert.deepEqual(
      result.path.filter((id) => id.startsWith('Task_')),
      [
        'Task_Deduplicate',
        'Task_InspectCertificate',
        'Task_LaunchIssuanceJob',
        'Task_AwaitJobOutcome',
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
    const result = await runner.run({ start: 'message', token: request(), key: 'shop/shop-tls' });
    assert.equal(result.end, 'failed');
    assert.equal(cluster.events[0]?.type, 'Warning');
    assert.equal(cluster.events[0]?.reason, 'SelfCheckFailed');
    assert.match(cluster.events[0]!.message, /shop\.test answered 404/);
  });

  it('takes the error boundary to "failed" when a task throws, and does not crash', async () => {
    const { runner, cluster } = await lifecycleHarness();
    cluster.readError = new Error('secrets "shop-tls" is forbidden');
    const result = await runner.run({ start: 'message', token: request(), key: 'shop/shop-tls' });
    assert.equal(result.end, 'failed');
    assert.match(cluster.events[0]!.message, /Inspect certificate: secrets "shop-tls" is forbidden/);
  });

  it('replaces a Job that already succeeded when its certificate is missing again, and adopts a failed one', async () => {
    const { runner, cluster } = await lifecycleHarness();
    cluster.outcome = () => ({ succeeded: true, reason: 'Issued', message: '' });
    await runner.run({ start: 'message', token: request(), key: 'shop/shop-tls' });
    // The Secret is still missing (say, deleted): the succeeded Job of the same name is stale.
    const again = await runner.run({ start: 'timer', token: request(), key: 'shop/shop-tls' });
    assert.equal(again.end, 'issued');
    assert.equal(cluster.replacements, 1);

    cluster.outcome = () => ({ succeeded: false, reason: 'SelfCheckFailed', message: 'x.test answered 404' });
    const failing = request({ secretName: 'other-tls' });
    await runner.run({ start: 'message', token: failing, key: failing.key });
    const retried = await runner.run({ start: 'timer', token: failing, key: failing.key });
    assert.equal(retried.end, 'failed', 'the failed Job is adopted: its outcome stands until it expires');
    assert.equal(cluster.replacements, 1);
  });
});
