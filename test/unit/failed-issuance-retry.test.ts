/**
 * A failed issuance is retried for its certificate alone, with exponential back-off whose state lives on the
 * failed Job: retried when the back-off runs out ("Retry due"), not at once and not at the next periodic
 * check; the wait doubles per failure in a row; the CA's Retry-After is honoured; a restart holds the
 * back-off and does not record the failure again; new hosts start afresh; a task error backs off too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IssuanceOutcome } from '../../src/issuance/job-contract.ts';
import { ingress, operatorHarness, until } from './operator-harness.ts';

const MINUTE = 60_000;

const ended = (lines: Record<string, unknown>[], end: string) =>
  lines.filter((line) => line.end === end).map((line) => `${line.trigger} ${line.certificate}`);

const selfCheckFailed: IssuanceOutcome = {
  succeeded: false,
  reason: 'SelfCheckFailed',
  message: 'shop-tls.test answered 404',
};

/** An operator whose one Ingress's first Job has just failed (recorded). */
async function failedOnce(env: Record<string, string> = {}, outcome: IssuanceOutcome = selfCheckFailed) {
  const harness = await operatorHarness(env);
  const { operator, cluster, events, lines } = harness;
  events.next({ type: 'ADDED', object: ingress('shop', ['shop-tls']) });
  await until(() => cluster.jobs.size === 1);
  await operator.idle();
  const job = [...cluster.jobs.keys()][0]!;
  cluster.finish(job, outcome);
  await until(() => ended(lines, 'failed').length === 1);
  await operator.idle();
  return { ...harness, job, failedAt: harness.clock.now() };
}

describe('retry of a failed issuance', () => {
  it('records the failure on the Job, deletes its solver objects, and names the next attempt', async () => {
    const { operator, cluster, job, failedAt } = await failedOnce();
    const annotations = cluster.jobs.get(job)!.job.metadata!.annotations!;
    const retryAt = new Date(failedAt + MINUTE).toISOString();
    assert.equal(annotations['kube-lego.io/failures'], '1');
    assert.equal(annotations['kube-lego.io/retry-at'], retryAt);
    assert.equal(annotations['kube-lego.io/outcome-recorded'], 'SelfCheckFailed');
    assert.equal(cluster.jobs.get(job)!.job.spec!.ttlSecondsAfterFinished, 60 + 3600, 'kept until its retry');
    assert.ok(cluster.closedSolvers.has(job), 'solver Service and Ingress deleted as the Job ended');
    const warning = cluster.events.at(-1)!;
    assert.equal(warning.reason, 'SelfCheckFailed');
    assert.match(warning.message, new RegExp(`next attempt at ${retryAt} \\(1 failure\\(s\\) in a row\\)`));
    await operator.stop();
  });

  it('holds back until the back-off runs out, then retries, doubling the wait per failure', async () => {
    const { operator, cluster, clock, secretEvents, lines, job, issue } = await failedOnce();
    // Whatever comes meanwhile (the Secret changed, the periodic check) finds the back-off: no Job.
    secretEvents.next({ type: 'DELETED', object: { metadata: { namespace: 'shop', name: 'shop-tls' } } });
    operator.periodicCheck();
    await operator.idle();
    assert.deepEqual(ended(lines, 'backing off'), ['secret shop/shop-tls', 'periodic shop/shop-tls']);
    clock.advance(MINUTE - 1);
    await operator.idle();
    assert.equal(cluster.replacements, 0, 'not before the back-off runs out');
    clock.advance(1);
    await until(() => cluster.replacements === 1);
    await operator.idle();
    assert.deepEqual(ended(lines, 'launched').at(-1), 'retry shop/shop-tls');
    assert.equal(cluster.jobs.get(job)!.job.metadata!.annotations!['kube-lego.io/previous-failures'], '1');

    const secondFailure = clock.now();
    cluster.finish(job, selfCheckFailed);
    await until(() => ended(lines, 'failed').length === 2);
    const annotations = cluster.jobs.get(job)!.job.metadata!.annotations!;
    assert.equal(annotations['kube-lego.io/failures'], '2');
    assert.equal(annotations['kube-lego.io/retry-at'], new Date(secondFailure + 2 * MINUTE).toISOString());
    clock.advance(2 * MINUTE);
    await until(() => cluster.replacements === 2);
    await operator.idle();
    issue(job);
    await until(() => ended(lines, 'issued').length === 1);
    await operator.idle();
    assert.equal(
      cluster.jobs.get(job)!.job.metadata!.annotations!['kube-lego.io/outcome-recorded'],
      'Issued',
    );
    assert.ok(cluster.closedSolvers.has(job));
    assert.equal(operator.status.backingOff, 0);
    await operator.stop();
  });

  it("honours the CA's Retry-After when it is later than the back-off", async () => {
    const { operator, cluster, job, failedAt } = await failedOnce(
      {},
      {
        succeeded: false,
        reason: 'CreateOrderFailed',
        message: 'rateLimited: too many new orders recently',
        retryAt: new Date(Date.now() + 3 * 3_600_000).toISOString(),
      },
    );
    const retryAt = Date.parse(cluster.jobs.get(job)!.job.metadata!.annotations!['kube-lego.io/retry-at']!);
    assert.ok(retryAt - failedAt > 2.9 * 3_600_000, `retry at ${new Date(retryAt).toISOString()}`);
    await operator.stop();
  });

  it('holds the back-off across a restart and does not record the failure again', async () => {
    const first = await failedOnce();
    await first.operator.stop();
    const warnings = first.cluster.events.length;
    const second = await operatorHarness({}, 64, undefined, first);
    // The new operator's initial lists: the Ingress, and the failed Job (its outcome recorded already).
    second.events.next({ type: 'ADDED', object: ingress('shop', ['shop-tls']) });
    second.cluster.jobEvents.next({ type: 'ADDED', object: second.cluster.jobObject(first.job) });
    await second.operator.idle();
    assert.deepEqual(ended(second.lines, 'backing off'), ['ingress shop/shop-tls']);
    assert.deepEqual(ended(second.lines, 'failed'), [], 'the failure is not recorded again');
    assert.equal(second.cluster.events.length, warnings, 'no second Event');
    assert.equal(second.cluster.replacements, 0, 'no retry at start');
    second.clock.advance(MINUTE);
    await until(() => second.cluster.replacements === 1);
    await second.operator.idle();
    assert.deepEqual(ended(second.lines, 'launched'), ['retry shop/shop-tls']);
    await second.operator.stop();
  });

  it('starts afresh when the Ingress asks for other hosts', async () => {
    const { operator, cluster, events, lines } = await failedOnce();
    const changed = ingress('shop', ['shop-tls'], { resourceVersion: '2' });
    changed.spec!.tls![0]!.hosts = ['www.shop-tls.test'];
    events.next({ type: 'MODIFIED', object: changed });
    await until(() => cluster.jobs.size === 2);
    await operator.idle();
    const fresh = [...cluster.jobs.values()].at(-1)!.job.metadata!.annotations!;
    assert.equal(fresh['kube-lego.io/previous-failures'], '0');
    assert.equal(fresh['kube-lego.io/hosts'], 'www.shop-tls.test');
    assert.deepEqual(ended(lines, 'launched').at(-1), 'ingress shop/shop-tls');
    await operator.stop();
  });

  it('backs off a task error too, and retries when it runs out', async () => {
    const { operator, cluster, clock, events, lines } = await operatorHarness();
    cluster.readError = new Error('secrets "shop-tls" is forbidden');
    events.next({ type: 'ADDED', object: ingress('shop', ['shop-tls']) });
    await until(() => ended(lines, 'failed').length === 1);
    assert.match(cluster.events.at(-1)!.message, /Inspect certificate: .*next attempt at .*\(1 failure/);
    clock.advance(MINUTE);
    await until(() => ended(lines, 'failed').length === 2);
    assert.match(cluster.events.at(-1)!.message, /\(2 failure\(s\) in a row\)/);
    cluster.readError = undefined;
    clock.advance(2 * MINUTE - 1);
    await operator.idle();
    assert.equal(cluster.jobs.size, 0, 'not before the doubled wait');
    clock.advance(1);
    await until(() => cluster.jobs.size === 1);
    await operator.idle();
    assert.deepEqual(ended(lines, 'launched'), ['retry shop/shop-tls']);
    await operator.stop();
  });
});
