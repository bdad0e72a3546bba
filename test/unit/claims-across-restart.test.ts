/**
 * Two Ingresses naming one Secret with different hosts, as the operator's initial list reports them after
 * a restart: whichever comes first, the one Job launched is for the older Ingress's hosts, as it was
 * before the restart. No Job for the newer Ingress's hosts, no flip back.
 */
import assert from 'node:assert/strict';
import type { V1Ingress } from '@kubernetes/client-node';
import { describe, it } from 'node:test';
import { operatorHarness, until } from './operator-harness.ts';

/** An annotated Ingress created at `created` whose one tls entry names Secret shop-tls for `host`. */
function claimant(name: string, created: string, host: string): V1Ingress {
  return {
    metadata: {
      name,
      namespace: 'shop',
      uid: `uid-${name}`,
      resourceVersion: '1',
      creationTimestamp: new Date(created),
      annotations: { 'kubernetes.io/tls-acme': 'true' },
    },
    spec: { tls: [{ secretName: 'shop-tls', hosts: [host] }] },
  };
}

const older = claimant('storefront', '2026-01-01T00:00:00Z', 'shop.test');
const newer = claimant('promo', '2026-06-01T00:00:00Z', 'promo.test');

/** The hosts each launched Job was asked to certify. */
function launchedHosts(cluster: Awaited<ReturnType<typeof operatorHarness>>['cluster']): string[] {
  return [...cluster.jobs.values()].map(
    (objects) =>
      objects.job.spec!.template.spec!.containers[0]!.env!.find((entry) => entry.name === 'LEGO_CERT_HOSTS')!
        .value!,
  );
}

describe('the claim on a Secret across a restart', () => {
  for (const [order, listed] of [
    ['older first', [older, newer]],
    ['newer first', [newer, older]],
  ] as const) {
    it(`launches one Job, for the older Ingress's hosts, when the list reports the ${order}`, async () => {
      const { operator, cluster, events, issue } = await operatorHarness();
      // The initial list: reported in one go, as list-watch.ts does.
      for (const object of listed) events.next({ type: 'ADDED', object });
      await until(() => cluster.jobs.size === 1);
      issue([...cluster.jobs.keys()][0]!);
      // Every token of the list has run: the second finds the certificate valid.
      await operator.idle();
      assert.deepEqual(launchedHosts(cluster), ['shop.test']);
      await operator.stop();
    });
  }
});
