/**
 * Bursts of Ingress events go through the diagram's Deduplicate task: few Jobs, nothing lost. A run ends at
 * its Job's launch (it does not wait for the Job), so Deduplicate collapses a burst while a token inspects
 * and launches; a token admitted after that launch finds the running Job ("adopted"): no second Job.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ingress, operatorHarness } from './operator-harness.ts';

const ends = (lines: Record<string, unknown>[], end: string) =>
  lines.filter((line) => line.end === end).length;

describe('deduplication of bursts', () => {
  it('launches one Job for a burst of 1,000 events on one Ingress, and records it once', async () => {
    const { operator, cluster, events, lines, issue } = await operatorHarness({
      LEGO_MAX_JOBS_IN_FLIGHT: '100',
    });
    for (let version = 1; version <= 1000; version += 1) {
      events.next({
        type: 'MODIFIED',
        object: ingress('shop', ['shop-tls'], { resourceVersion: String(version) }),
      });
    }
    await operator.idle();
    assert.equal(cluster.jobs.size, 1, 'one Job: later admitted tokens adopt it');
    const admitted = ends(lines, 'launched') + ends(lines, 'adopted');
    assert.equal(ends(lines, 'launched'), 1, 'one launch');
    // Each adoption makes sure of the running Job's solver objects, through the same idempotent call.
    assert.equal(cluster.launches.length, admitted);
    assert.equal(
      admitted + ends(lines, 'collapsed'),
      1000,
      'every token ends launched, adopted or collapsed',
    );
    assert.ok(admitted < 50, `most of the burst collapses: ${admitted} admitted`);
    issue([...cluster.jobs.keys()][0]!);
    await operator.idle();
    assert.deepEqual([ends(lines, 'issued'), ends(lines, 'failed')], [1, 0], 'the Job recorded once');
    await operator.stop();
  });

  it('gives the adhesive counts for 100 keys x 2 bursts', async () => {
    // Per key and burst, 10 events queued at once. Burst 1: the first token is admitted, the second waits,
    // each later one replaces the waiting one (8 collapsed); the admitted one ends at its launch, then the
    // waiting one runs and finds the Job running (adopted). Burst 2: 2 adopted per key (the Jobs still run).
    // When the Jobs end, each is recorded once. Totals: 100 launched, 300 adopted, 1,600 collapsed, 100 Jobs,
    // 100 issued.
    const { operator, cluster, events, lines, issue } = await operatorHarness(
      { LEGO_MAX_JOBS_IN_FLIGHT: '1000' },
      1000,
    );
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
    await operator.idle();
    assert.deepEqual(
      [ends(lines, 'launched'), ends(lines, 'adopted'), ends(lines, 'collapsed'), cluster.jobs.size],
      [100, 100, 800, 100],
    );
    burst(2);
    await operator.idle();
    for (const job of cluster.jobs.keys()) issue(job);
    await operator.idle();
    assert.deepEqual(
      [
        ends(lines, 'issued'),
        ends(lines, 'launched'),
        ends(lines, 'adopted'),
        ends(lines, 'collapsed'),
        cluster.jobs.size,
      ],
      [100, 100, 300, 1600, 100],
    );
    await operator.stop();
  });
});
