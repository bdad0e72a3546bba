/**
 * No run waits for a Job: a run ends at its Job's launch ("launched"), and the watch of the issuance Jobs
 * starts the "Job finished" run that records the outcome, once per Job.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ingress, operatorHarness, until } from './operator-harness.ts';

const ended = (lines: Record<string, unknown>[], end: string) =>
  lines.filter((line) => line.end === end).map((line) => `${line.trigger} ${line.certificate}`);

describe('Job finished', () => {
  it('launches for a new Ingress at once while 70 Jobs run, with 8 run slots', async () => {
    const { operator, cluster, events, lines } = await operatorHarness({ LEGO_MAX_JOBS_IN_FLIGHT: '100' }, 8);
    for (let index = 0; index < 70; index += 1) {
      events.next({ type: 'ADDED', object: ingress(`slow-${index}`, [`slow-${index}-tls`]) });
    }
    await operator.idle();
    assert.equal(cluster.jobs.size, 70, 'every Job still running');
    assert.equal(operator.status.running, 0, 'no run holds a slot while its Job runs');
    events.next({ type: 'ADDED', object: ingress('new', ['new-tls']) });
    await until(() => cluster.jobs.size === 71);
    await operator.idle();
    assert.deepEqual(ended(lines, 'launched').at(-1), 'ingress shop/new-tls');
    assert.equal(ended(lines, 'launched').length, 71);
    await operator.stop();
  });

  it('records a finished Job once, however often the watch reports it', async () => {
    const { operator, cluster, events, lines, issue } = await operatorHarness();
    events.next({ type: 'ADDED', object: ingress('shop', ['shop-tls', 'other-tls']) });
    await until(() => cluster.jobs.size === 2);
    await operator.idle();
    const [good, bad] = [...cluster.jobs.keys()];
    issue(good!);
    cluster.finish(bad!, { succeeded: false, reason: 'SelfCheckFailed', message: 'answered 404' });
    // Later events of the same finished Jobs (the TTL controller, a re-list) start nothing.
    for (const name of [good!, bad!]) {
      cluster.jobEvents.next({ type: 'MODIFIED', object: cluster.jobObject(name) });
      cluster.jobEvents.next({ type: 'ADDED', object: cluster.jobObject(name) });
    }
    await operator.idle();
    assert.deepEqual(ended(lines, 'issued'), ['job shop/shop-tls']);
    assert.deepEqual(ended(lines, 'failed'), ['job shop/other-tls']);
    assert.deepEqual(
      cluster.events.map((event) => [event.type, event.reason]),
      [
        ['Normal', 'CertificateIssued'],
        ['Warning', 'SelfCheckFailed'],
      ],
    );
    assert.match(cluster.events[0]!.message, /\(SecretMissing: /, 'says why the Job was launched');
    await operator.stop();
  });

  it('records once a Job that finished while the operator was down, listed before its Ingress', async () => {
    const { operator, cluster, events, lines } = await operatorHarness();
    events.next({ type: 'ADDED', object: ingress('shop', ['shop-tls']) });
    await until(() => cluster.jobs.size === 1);
    await operator.idle();
    const [name] = [...cluster.jobs.keys()];
    // The operator "restarts": it forgets the Ingress, the Job fails unseen, then the new process's Job
    // list comes before its Ingress list.
    events.next({ type: 'DELETED', object: ingress('shop', ['shop-tls']) });
    cluster.finish(name!, { succeeded: false, reason: 'OrderRejected', message: 'no' }, true);
    cluster.jobEvents.next({ type: 'ADDED', object: cluster.jobObject(name!) });
    await operator.idle();
    assert.deepEqual(ended(lines, 'failed'), [], 'held: no Ingress claims the certificate yet');
    assert.ok(lines.some((line) => /no Ingress claims \(yet\): held/.test(String(line.msg))));
    events.next({ type: 'ADDED', object: ingress('shop', ['shop-tls']) });
    cluster.jobEvents.next({ type: 'MODIFIED', object: cluster.jobObject(name!) });
    await operator.idle();
    assert.deepEqual(ended(lines, 'failed'), ['job shop/shop-tls']);
    assert.deepEqual(
      cluster.events.map((event) => event.reason),
      ['OrderRejected'],
    );
    await operator.stop();
  });

  it('records nothing for a Job finished for a certificate no Ingress claims any more (held, debug)', async () => {
    const { operator, cluster, events, lines } = await operatorHarness();
    events.next({ type: 'ADDED', object: ingress('shop', ['shop-tls']) });
    await until(() => cluster.jobs.size === 1);
    await operator.idle();
    const [name] = [...cluster.jobs.keys()];
    events.next({ type: 'DELETED', object: ingress('shop', ['shop-tls']) });
    cluster.finish(name!, { succeeded: false, reason: 'IngressGone', message: 'gone' });
    await operator.idle();
    assert.deepEqual(ended(lines, 'failed'), []);
    assert.deepEqual(cluster.events, []);
    await operator.stop();
  });
  it('checks the certificate again when a Job a run adopted while it ran has finished', async () => {
    const { operator, cluster, events, secretEvents, lines, issue } = await operatorHarness();
    events.next({ type: 'ADDED', object: ingress('shop', ['shop-tls']) });
    await until(() => cluster.jobs.size === 1);
    await operator.idle();
    // The Secret is deleted while the Job runs (the Job has written it, or not): the run finds it running.
    secretEvents.next({
      type: 'DELETED',
      object: { metadata: { namespace: 'shop', name: 'shop-tls' } },
    });
    await operator.idle();
    assert.deepEqual(ended(lines, 'launched'), ['ingress shop/shop-tls']);
    assert.deepEqual(ended(lines, 'adopted'), ['secret shop/shop-tls']);
    issue([...cluster.jobs.keys()][0]!);
    cluster.secrets.delete('shop/shop-tls'); // deleted after the Job wrote it, before the Job ended
    await until(() => cluster.replacements === 1);
    await operator.idle();
    assert.deepEqual(ended(lines, 'issued'), ['job shop/shop-tls']);
    assert.deepEqual(ended(lines, 'launched').at(-1), 'recheck shop/shop-tls');
    await operator.stop();
  });
});
