/**
 * A burst beyond `LEGO_MAX_JOBS_IN_FLIGHT`: the certificates past the limit end at "waiting for a Job
 * slot", never more Jobs run at once than the limit, each Job that ends lets the longest-waiting
 * certificate launch ("Job slot free"), and every certificate is issued: none lost, none left for the
 * periodic check.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ingress, operatorHarness, until } from './operator-harness.ts';

/** The certificates whose runs ended at `end`, in order, as `trigger certificate`. */
const ended = (lines: Record<string, unknown>[], end: string) =>
  lines.filter((line) => line.end === end).map((line) => `${line.trigger} ${line.certificate}`);

describe('Jobs in flight', () => {
  it('runs at most LEGO_MAX_JOBS_IN_FLIGHT Jobs, launches the waiting in the order they came, and issues all', async () => {
    const { operator, cluster, events, lines, issue } = await operatorHarness({
      LEGO_MAX_JOBS_IN_FLIGHT: '2',
    });
    const running = () =>
      [...cluster.jobs.keys()].filter((name) => cluster.jobObject(name).status?.conditions === undefined);
    let mostRunning = 0;
    cluster.jobEvents.subscribe(() => (mostRunning = Math.max(mostRunning, running().length)));
    for (let index = 0; index < 5; index += 1) {
      events.next({ type: 'ADDED', object: ingress(`site-${index}`, [`site-${index}-tls`]) });
    }
    await operator.idle();
    assert.equal(cluster.jobs.size, 2);
    assert.deepEqual(ended(lines, 'waiting for a Job slot'), [
      'ingress shop/site-2-tls',
      'ingress shop/site-3-tls',
      'ingress shop/site-4-tls',
    ]);
    assert.equal(operator.status.waitingForJobSlot, 3);
    while (cluster.secrets.size < 5) {
      const [first] = running();
      assert.ok(first !== undefined, `a Job runs while ${5 - cluster.secrets.size} certificates lack theirs`);
      issue(first);
      await operator.idle();
    }
    assert.deepEqual(ended(lines, 'launched'), [
      'ingress shop/site-0-tls',
      'ingress shop/site-1-tls',
      'slot shop/site-2-tls',
      'slot shop/site-3-tls',
      'slot shop/site-4-tls',
    ]);
    assert.equal(ended(lines, 'issued').length, 5);
    assert.equal(mostRunning, 2, 'never more than the limit at once');
    assert.deepEqual(operator.status.jobsInFlight, 0);
    assert.deepEqual(operator.status.waitingForJobSlot, 0);
    await operator.stop();
  });

  it('gives the turn of a certificate whose Ingress was deleted while it waited to the next', async () => {
    const { operator, cluster, events, lines, issue } = await operatorHarness({
      LEGO_MAX_JOBS_IN_FLIGHT: '1',
    });
    for (const name of ['first', 'gone', 'last']) {
      events.next({ type: 'ADDED', object: ingress(name, [`${name}-tls`]) });
    }
    await operator.idle();
    events.next({ type: 'DELETED', object: ingress('gone', ['gone-tls']) });
    await operator.idle();
    issue([...cluster.jobs.keys()][0]!);
    await until(() => cluster.jobs.size === 2);
    await operator.idle();
    assert.deepEqual(ended(lines, 'launched'), ['ingress shop/first-tls', 'slot shop/last-tls']);
    await operator.stop();
  });

  it('gives back at once a slot claimed by a run that then launched nothing', async () => {
    const { operator, cluster, events, lines } = await operatorHarness({ LEGO_MAX_JOBS_IN_FLIGHT: '1' });
    const launch = cluster.launchIssuance.bind(cluster);
    let failures = 1;
    cluster.launchIssuance = async (objects) => {
      if (failures-- > 0) throw Object.assign(new Error('API server unavailable'), { code: 503 });
      return launch(objects);
    };
    events.next({ type: 'ADDED', object: ingress('unlucky', ['unlucky-tls']) });
    await operator.idle();
    assert.equal(operator.status.jobsInFlight, 0, 'the failed launch holds no slot');
    events.next({ type: 'ADDED', object: ingress('next', ['next-tls']) });
    await operator.idle();
    assert.deepEqual(ended(lines, 'launched'), ['ingress shop/next-tls']);
    await operator.stop();
  });
});
