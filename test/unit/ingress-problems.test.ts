/**
 * Bad Ingresses get a warning log line and a Warning Event naming the Ingress and the fix, once; no crash.
 * The tests wait for the operator's state (idle: runs end at a Job's launch), never for a fixed time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ingress, operatorHarness } from './operator-harness.ts';

describe('bad Ingress input', () => {
  it('reports each problem once per change, as a log line and an Event on the Ingress', async () => {
    const { operator, cluster, events, lines } = await operatorHarness();
    const bad = ingress('shop', []);
    bad.spec = { tls: [{ hosts: ['shop.test'] }, { secretName: 'wild-tls', hosts: ['*.shop.test'] }] };
    events.next({ type: 'ADDED', object: bad });
    events.next({
      type: 'MODIFIED',
      object: { ...bad, metadata: { ...bad.metadata, resourceVersion: '2' } },
    });
    await operator.idle();
    const warnings = lines.filter((line) => line.level === 40).map((line) => line.msg);
    assert.deepEqual(warnings, [
      'Ingress shop/shop: spec.tls[0] has no secretName: name the Secret to keep the certificate in',
      'Ingress shop/shop: spec.tls[1] (secret wild-tls): "*.shop.test" is a wildcard, which HTTP-01 cannot validate: list the hosts instead',
    ]);
    assert.deepEqual(
      cluster.events.map((event) => [
        event.type,
        event.reason,
        `${event.about.namespace}/${event.about.name}`,
      ]),
      [
        ['Warning', 'MissingSecretName', 'shop/shop'],
        ['Warning', 'BadHost', 'shop/shop'],
      ],
    );
    assert.equal(cluster.launches.length, 0);
    await operator.stop();
  });

  it('issues for the good entries of an Ingress that also has a bad one', async () => {
    const { operator, cluster, events } = await operatorHarness();
    const mixed = ingress('shop', ['shop-tls']);
    mixed.spec!.tls!.push({ secretName: 'ip-tls', hosts: ['10.0.0.1'] });
    events.next({ type: 'ADDED', object: mixed });
    await operator.idle();
    assert.equal(cluster.jobs.size, 1);
    const env = cluster.jobs.values().next().value!.job.spec!.template.spec!.containers[0]!.env!;
    assert.equal(env.find((entry) => entry.name === 'LEGO_CERT_HOSTS')?.value, 'shop-tls.test');
    assert.equal(cluster.events[0]?.reason, 'BadHost');
    await operator.stop();
  });

  it('ignores an Ingress of an unsupported class with one warning', async () => {
    const { operator, cluster, events, lines } = await operatorHarness();
    const traefik = ingress('shop', ['shop-tls']);
    traefik.spec!.ingressClassName = 'traefik';
    events.next({ type: 'ADDED', object: traefik });
    await operator.idle();
    assert.equal(cluster.launches.length, 0);
    assert.match(
      String(lines.find((line) => line.level === 40)?.msg),
      /ingress class "traefik" is not supported/,
    );
    await operator.stop();
  });
});
