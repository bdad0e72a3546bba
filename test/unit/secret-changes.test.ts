/**
 * The certificate Secret watch as a trigger: a Secret kube-lego wrote that is deleted or changed starts a
 * run at the diagram's "Secret changed" start event for the certificate that claims it, at once, not at
 * the next periodic check. The initial list and the Jobs' own writes (ADDED) start nothing, nor does a
 * Secret no annotated Ingress claims; a diagram without that start event is told about, once.
 */
import assert from 'node:assert/strict';
import type { V1Secret } from '@kubernetes/client-node';
import { describe, it } from 'node:test';
import { lifecycleXml } from './lifecycle-harness.ts';
import { ingress, operatorHarness, until } from './operator-harness.ts';

type Harness = Awaited<ReturnType<typeof operatorHarness>>;

/** A Secret as the watch reports it. */
const secret = (namespace: string, name: string): V1Secret => ({
  metadata: { namespace, name, uid: `uid-secret-${name}`, resourceVersion: '2' },
});

/** Announces Ingress shop with entry shop-tls and lets its first Job issue a good certificate. */
async function issueFirst({ operator, cluster, events, issue }: Harness): Promise<void> {
  events.next({ type: 'ADDED', object: ingress('shop', ['shop-tls']) });
  await until(() => cluster.jobs.size === 1);
  issue([...cluster.jobs.keys()][0]!);
  await operator.idle();
}

describe('certificate Secret changes', () => {
  it('reissues a certificate whose Secret was deleted, through the "Secret changed" start, without waiting for the periodic check', async () => {
    const harness = await operatorHarness();
    const { operator, cluster, secretEvents, lines, issue } = harness;
    await issueFirst(harness);
    const from = lines.length;
    cluster.secrets.delete('shop/shop-tls');
    secretEvents.next({ type: 'DELETED', object: secret('shop', 'shop-tls') });
    // The need is the same (a missing Secret) as the first time, so the Job has the same name: the old one,
    // succeeded, is stale and replaced.
    await until(() => cluster.replacements === 1);
    issue([...cluster.jobs.keys()][0]!);
    await operator.idle();
    // The Secret watch's run ends at the launch; the Job watch's run records the new Job's outcome.
    assert.deepEqual(
      lines
        .slice(from)
        .filter((line) => line.trigger === 'secret' || line.trigger === 'job')
        .map((line) => [line.trigger, line.certificate, line.end]),
      [
        ['secret', 'shop/shop-tls', 'launched'],
        ['job', 'shop/shop-tls', 'issued'],
      ],
    );
    assert.equal(lines.filter((line) => line.trigger === 'periodic').length, 0, 'no periodic check ran');
    await operator.stop();
  });

  it('inspects a Secret someone changed, and leaves it alone while still valid', async () => {
    const harness = await operatorHarness();
    const { operator, cluster, secretEvents, lines } = harness;
    await issueFirst(harness);
    secretEvents.next({ type: 'MODIFIED', object: secret('shop', 'shop-tls') });
    await until(() => lines.some((line) => line.trigger === 'secret'));
    await operator.idle();
    assert.deepEqual(
      lines.filter((line) => line.trigger === 'secret').map((line) => [line.certificate, line.end]),
      [['shop/shop-tls', 'valid']],
    );
    assert.equal(cluster.jobs.size, 1, 'no new Job for a valid certificate');
    await operator.stop();
  });

  it('starts nothing for ADDED Secrets or for a Secret no annotated Ingress claims', async () => {
    const harness = await operatorHarness();
    const { operator, secretEvents, lines } = harness;
    await issueFirst(harness);
    secretEvents.next({ type: 'ADDED', object: secret('shop', 'shop-tls') });
    secretEvents.next({ type: 'DELETED', object: secret('shop', 'unclaimed-tls') });
    secretEvents.next({ type: 'MODIFIED', object: secret('other', 'shop-tls') });
    await operator.idle();
    assert.deepEqual(
      lines.filter((line) => line.trigger === 'secret'),
      [],
    );
    await operator.stop();
  });

  it('says once that a diagram without a "Secret changed" start leaves deleted Secrets to the periodic check', async () => {
    const shipped = await lifecycleXml();
    const withoutSecretStart = shipped
      .replace(/\s*<bpmn:startEvent id="StartEvent_SecretChanged"[\s\S]*?<\/bpmn:startEvent>/, '')
      .replace(/\s*<bpmn:incoming>Flow_SecretChanged<\/bpmn:incoming>/, '')
      .replace(/\s*<bpmn:sequenceFlow id="Flow_SecretChanged"[^>]*\/>/, '')
      .replace(/\s*<bpmndi:BPMNShape id="StartEvent_SecretChanged_di"[\s\S]*?<\/bpmndi:BPMNShape>/, '')
      .replace(/\s*<bpmndi:BPMNEdge id="Flow_SecretChanged_di"[\s\S]*?<\/bpmndi:BPMNEdge>/, '');
    assert.notEqual(withoutSecretStart, shipped);
    const harness = await operatorHarness({}, 64, withoutSecretStart);
    const { operator, cluster, secretEvents, lines } = harness;
    await issueFirst(harness);
    cluster.secrets.delete('shop/shop-tls');
    secretEvents.next({ type: 'DELETED', object: secret('shop', 'shop-tls') });
    await operator.idle();
    assert.equal(cluster.jobs.size, 1, 'nothing started');
    assert.equal(
      lines.filter((line) => /no message start event for message SecretChanged/.test(String(line.msg)))
        .length,
      1,
    );
    await operator.stop();
  });
});
