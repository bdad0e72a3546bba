/**
 * The operator's side of the process view: each run's end, each Job's end and each Event reach the view, so
 * the page shows where certificates stand; a stopped operator (no longer leading) shows nothing of its own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OperatorView } from '../../src/view/operator-view.ts';
import { ingress, operatorHarness, until } from './operator-harness.ts';

describe('the operator in the process view', () => {
  it('shows a certificate waiting for its Job at "launched", then issued, valid, with its Event', async () => {
    const view = new OperatorView('certificate-lifecycle', () => Date.now());
    const { operator, cluster, events, issue } = await operatorHarness(
      {},
      64,
      undefined,
      undefined,
      undefined,
      view,
    );
    events.next({ type: 'ADDED', object: ingress('shop', ['shop-tls']) });
    await until(() => cluster.jobs.size === 1);
    await operator.idle();
    const launched = view.lifecycle.snapshot().elements['EndEvent_JobLaunched'];
    assert.deepEqual(
      launched?.waiting.map((entry) => entry.certificate),
      ['shop/shop-tls'],
    );
    assert.equal(view.certificates.list()[0]?.stateText, 'renewing (SecretMissing)');

    issue([...cluster.jobs.keys()][0]!);
    await until(() => view.lifecycle.snapshot().elements['EndEvent_Issued'] !== undefined);
    await operator.idle();
    const snapshot = view.lifecycle.snapshot();
    assert.equal(snapshot.elements['EndEvent_JobLaunched']?.waiting.length ?? 0, 0, 'no longer waiting');
    assert.equal(snapshot.elements['EndEvent_Issued']?.endedCount, 1);
    for (const element of Object.values(snapshot.elements)) assert.equal(element.standing.length, 0);
    const [status] = view.certificates.list();
    assert.equal(status?.state, 'valid');
    assert.ok(status?.notAfter !== undefined && status.renewAt !== undefined);
    assert.equal(status?.lastEvent?.reason, 'CertificateIssued');

    await operator.stop();
    assert.deepEqual(view.certificates.list(), []);
    assert.equal(
      view.lifecycle.snapshot().elements['EndEvent_Issued']?.endedCount,
      1,
      'the last hour stays counted',
    );
  });

  it('drops a certificate no Ingress claims any more', async () => {
    const view = new OperatorView('certificate-lifecycle', () => Date.now());
    const { operator, cluster, events } = await operatorHarness(
      {},
      64,
      undefined,
      undefined,
      undefined,
      view,
    );
    events.next({ type: 'ADDED', object: ingress('shop', ['shop-tls']) });
    await until(() => cluster.jobs.size === 1);
    await operator.idle();
    assert.equal(view.certificates.list().length, 1);
    events.next({ type: 'DELETED', object: ingress('shop', ['shop-tls']) });
    await operator.idle();
    assert.deepEqual(view.certificates.list(), []);
    assert.equal(view.lifecycle.snapshot().elements['EndEvent_JobLaunched']?.waiting.length ?? 0, 0);
    await operator.stop();
  });
});
