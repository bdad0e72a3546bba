/** Bursts of Ingress events go through the diagram's Deduplicate task: few Jobs, nothing lost. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ingress, operatorHarness, until } from './operator-harness.ts';

const ends = (lines: Record<string, unknown>[], end: string) =>
  lines.filter((line) => line.end === end).length;

describe('deduplication of bursts', () => {
  it('launches at most 2 Jobs for a burst of 1,000 events on one Ingress', async () => {
    const { operator, cluster, events, lines, issue } = await operatorHarness();
    for (let version = 1; version <= 1000; version += 1) {
      events.next({
        type: 'MODIFIED',
        object: ingress('shop', ['shop-tls'], { resourceVersion: String(version) }),
      });
    }
    await until(() => ends(lines, 'collapsed') === 998 && operator.status.running === 2);
    assert.equal(cluster.jobs.size, 1, 'one Job in flight while the burst collapses');
    issue([...cluster.jobs.keys()][0]!);
    await operator.idle();
    assert.ok(cluster.launches.length <= 2, `launches: ${cluster.launches.length}`);
    assert.equal(cluster.jobs.size, 1);
    assert.deepEqual([ends(lines, 'issued'), ends(lines, 'valid'), ends(lines, 'collapsed')], [1, 1, 998]);
    await operator.stop();
  });

  it('gives the adhesive counts for 100 keys x 2 bursts', async () => {
    // Per key and burst, 10 events while the key's Job runs. Burst 1: the first token is admitted and
    // launches the Job, each later one replaces the waiting one (8 collapsed, 1 waiting). Burst 2: all
    // 10 replace the waiting one in turn (10 collapsed, 1 waiting). When the Jobs end, the 100 waiting
    // tokens run and find valid certificates. Totals: 100 issued, 100 valid, 1,800 collapsed, 100 Jobs.
    const { operator, cluster, events, lines, issue } = await operatorHarness({}, 1000);
    const secrets = Array.from({ length: 100 }, (_, index) => `site-${index}-tls`);
    const burst = (round: number) => {
      for (let repeat = 0; repeat < 10; repeat += 1) {
        secrets.forEach((secret, index) =>
          events.next({
            type: 'MODIFIED',
            object: ingress(`site-${index}`, [secret], { resourceVersion: `${round}-${repeat}` }),
          }),
        );
      }
    };
    burst(1);
    await until(() => ends(lines, 'collapsed') === 800 && cluster.jobs.size === 100);
    burst(2);
    await until(() => ends(lines, 'collapsed') === 1800);
    for (const job of cluster.jobs.keys()) issue(job);
    await operator.idle();
    assert.deepEqual(
      [ends(lines, 'issued'), ends(lines, 'valid'), ends(lines, 'collapsed'), cluster.jobs.size],
      [100, 100, 1800, 100],
    );
    await operator.stop();
  });
});
