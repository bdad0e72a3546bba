/** The periodic check: one timer-started token per known certificate, on the diagram's cycle or LEGO_CHECK_INTERVAL. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ingress, operatorHarness, until } from './operator-harness.ts';

const HOUR = 3_600_000;

describe('periodic check', () => {
  it("runs every certificate through the timer start on the diagram's cycle (R/PT1H)", async () => {
    const { operator, cluster, clock, events, lines, issue } = await operatorHarness();
    events.next({ type: 'ADDED', object: ingress('shop', ['a-tls', 'b-tls']) });
    await until(() => cluster.jobs.size === 2);
    for (const job of cluster.jobs.keys()) issue(job);
    await operator.idle();
    assert.equal(operator.cycle?.intervalMs, HOUR);
    clock.advance(HOUR - 1);
    await operator.idle();
    assert.equal(lines.filter((line) => line.trigger === 'periodic').length, 0);
    clock.advance(1);
    await until(() => lines.filter((line) => line.trigger === 'periodic').length === 2);
    assert.deepEqual(
      lines.filter((line) => line.trigger === 'periodic').map((line) => [line.certificate, line.end]),
      [
        ['shop/a-tls', 'valid'],
        ['shop/b-tls', 'valid'],
      ],
    );
    await operator.stop();
  });

  it('renews through the periodic check once a certificate enters its renewal window', async () => {
    const { operator, cluster, clock, events, lines, issue } = await operatorHarness({
      LEGO_CHECK_INTERVAL: '24h',
    });
    events.next({ type: 'ADDED', object: ingress('shop', ['shop-tls']) });
    await until(() => cluster.jobs.size === 1);
    issue([...cluster.jobs.keys()][0]!); // an 89-day certificate: renewal from 30 days before expiry
    await operator.idle();
    clock.advance(58 * 24 * HOUR);
    await operator.idle();
    assert.equal(cluster.jobs.size, 1, 'still valid after 58 days');
    clock.advance(24 * HOUR);
    await until(() => cluster.jobs.size === 2);
    assert.ok(lines.some((line) => /RenewalDue|renewal was due/.test(JSON.stringify(line))));
    await operator.stop();
  });

  it('takes LEGO_CHECK_INTERVAL over the diagram', async () => {
    const { operator } = await operatorHarness({ LEGO_CHECK_INTERVAL: '8h' });
    assert.equal(operator.cycle?.intervalMs, 8 * HOUR);
    await operator.stop();
  });
});
