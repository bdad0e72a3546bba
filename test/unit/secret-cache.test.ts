/**
 * The certificate Secret cache: a periodic check of valid certificates the Secret watch reported reads no
 * Secret from the API server; anything else the cache would say is checked against a fresh read.
 */
import assert from 'node:assert/strict';
import type { V1Secret } from '@kubernetes/client-node';
import { describe, it } from 'node:test';
import { ingress, operatorHarness, until } from './operator-harness.ts';

type Harness = Awaited<ReturnType<typeof operatorHarness>>;

/** Counts the Secrets "Inspect certificate" reads from the (fake) API server. */
function countReads(cluster: Harness['cluster']): { reads: number } {
  const counter = { reads: 0 };
  const read = cluster.readTlsSecret.bind(cluster);
  cluster.readTlsSecret = (namespace, name) => {
    counter.reads += 1;
    return read(namespace, name);
  };
  return counter;
}

/** Announces `count` Ingresses with one entry each, and issues each certificate; returns their Secrets. */
async function issued({ operator, cluster, events, issue }: Harness, count: number): Promise<V1Secret[]> {
  for (let i = 0; i < count; i += 1)
    events.next({ type: 'ADDED', object: ingress(`shop-${i}`, [`shop-${i}-tls`]) });
  await until(() => cluster.jobs.size === count);
  for (const job of [...cluster.jobs.keys()]) issue(job);
  await operator.idle();
  return [...Array(count).keys()].map((i) => cluster.secrets.get(`shop/shop-${i}-tls`)!);
}

describe('certificate Secret cache', () => {
  it('checks valid certificates the watch reported without reading a Secret', async () => {
    const harness = await operatorHarness({ LEGO_MAX_JOBS_IN_FLIGHT: '100' });
    const secrets = await issued(harness, 20);
    for (const object of secrets) harness.secretEvents.next({ type: 'ADDED', object });
    const counter = countReads(harness.cluster);
    harness.operator.periodicCheck();
    await harness.operator.idle();
    assert.equal(counter.reads, 0);
    assert.equal(harness.cluster.jobs.size, 20, 'no Job launched');
  });

  it('reads a Secret the watch has not reported', async () => {
    const harness = await operatorHarness({ LEGO_MAX_JOBS_IN_FLIGHT: '100' });
    await issued(harness, 3);
    const counter = countReads(harness.cluster);
    harness.operator.periodicCheck();
    await harness.operator.idle();
    assert.equal(counter.reads, 3);
  });

  it('checks a cached certificate that looks due against a fresh read, and launches nothing when the fresh one is good', async () => {
    const harness = await operatorHarness({ LEGO_MAX_JOBS_IN_FLIGHT: '100' });
    const [written] = await issued(harness, 1);
    // The watch is a moment behind: it still reports the Secret without its certificate.
    const stale: V1Secret = { ...written!, data: {} };
    harness.secretEvents.next({ type: 'ADDED', object: stale });
    const counter = countReads(harness.cluster);
    const jobs = harness.cluster.launches.length;
    harness.operator.periodicCheck();
    await harness.operator.idle();
    assert.equal(counter.reads, 1);
    assert.equal(harness.cluster.launches.length, jobs, 'nothing launched');
  });

  it('forgets a Secret the watch reports deleted, and reads it again', async () => {
    const harness = await operatorHarness({ LEGO_MAX_JOBS_IN_FLIGHT: '100' });
    const [written] = await issued(harness, 1);
    harness.secretEvents.next({ type: 'ADDED', object: written! });
    const counter = countReads(harness.cluster);
    harness.operator.periodicCheck();
    await harness.operator.idle();
    assert.equal(counter.reads, 0);
    harness.secretEvents.next({ type: 'DELETED', object: written! });
    await harness.operator.idle();
    assert.ok(counter.reads >= 1, 'the "Secret changed" run read it from the API server');
  });
});
