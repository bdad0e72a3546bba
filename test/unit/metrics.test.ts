/**
 * The operator's metrics, driven through the operator over the fake cluster: runs by trigger and end,
 * issuance attempts, results and durations, the certificates' expiry and renewal times (dropped when no
 * Ingress claims a certificate, and when the operator stops), task durations, the load gauges, and label
 * values that never carry a host.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LETS_ENCRYPT_STAGING } from '../../src/config.ts';
import { Metrics, reasonLabel } from '../../src/metrics.ts';
import { certificateTimes } from '../../src/operator.ts';
import { testCertificate } from '../support/certificates.ts';
import { ingress, operatorHarness, until } from './operator-harness.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;

type Harness = Awaited<ReturnType<typeof operatorHarness>>;

/**
 * The value of the series `series` (default: the metric's own name; `_count` or `_sum` of a histogram) of
 * metric `name` whose labels are exactly `labels`; undefined when there is none.
 */
async function sample(
  metrics: Metrics,
  name: string,
  labels: Record<string, string> = {},
  series = name,
): Promise<number | undefined> {
  const metric = metrics.registry.getSingleMetric(name);
  assert.ok(metric !== undefined, `${name} is registered`);
  // Histograms name each value's series (`_bucket`, `_sum`, `_count`); other metrics do not.
  const values = (await metric.get()).values as { value: number; labels: object; metricName?: string }[];
  const wanted = Object.entries(labels);
  const found = values.find(
    (value) =>
      (value.metricName ?? name) === series &&
      Object.keys(value.labels).length === wanted.length &&
      wanted.every(([label, text]) => (value.labels as Record<string, unknown>)[label] === text),
  );
  return found?.value;
}

/** An operator counting into fresh metrics (without the Node process metrics). */
async function measured() {
  const metrics = new Metrics({ processMetrics: false });
  const harness = await operatorHarness({}, 64, undefined, undefined, metrics);
  return { ...harness, metrics };
}

/** Stores a certificate of kube-lego's for `secret` (host `<secret>.test`) of Ingress `ingressName`. */
function storeCertificate(
  { cluster }: Harness,
  secret: string,
  ingressName: string,
  notBefore: number,
  notAfter: number,
): void {
  const hosts = [`${secret}.test`];
  const pair = testCertificate({ hosts, notBefore: new Date(notBefore), notAfter: new Date(notAfter) });
  cluster.writeCertificate({
    namespace: 'shop',
    secretName: secret,
    ingressName,
    ingressUid: `uid-${ingressName}`,
    hosts,
    chainPem: pair.crt,
    keyPem: pair.key,
    issuerUrl: LETS_ENCRYPT_STAGING,
    acmeProfile: undefined,
    notAfter: new Date(notAfter),
  });
}

/** A certificate time as the gauges give it: whole seconds (X.509 times have no fractions). */
const seconds = (ms: number) => Math.floor(ms / 1000);

describe('metrics', () => {
  it("counts a new Ingress's Job as an attempt for SecretMissing, and its run by trigger and end", async () => {
    const { operator, cluster, events, metrics } = await measured();
    events.next({ type: 'ADDED', object: ingress('shop', ['shop-tls']) });
    await until(() => cluster.jobs.size === 1);
    await operator.idle();
    assert.equal(await sample(metrics, 'kube_lego_issuance_attempts_total', { reason: 'SecretMissing' }), 1);
    assert.equal(await sample(metrics, 'kube_lego_runs_total', { trigger: 'ingress', end: 'launched' }), 1);
    assert.equal(await sample(metrics, 'kube_lego_certificates'), 1);
    assert.equal(
      await sample(metrics, 'kube_lego_certificate_expiry_timestamp_seconds', {
        namespace: 'shop',
        secret: 'shop-tls',
      }),
      undefined,
      'no certificate read: no expiry',
    );
    await operator.stop();
  });

  it("records an issued Job's result and its time from creation to end, and the new certificate's times at once", async () => {
    const { operator, cluster, clock, events, lines, issue, metrics } = await measured();
    events.next({ type: 'ADDED', object: ingress('shop', ['shop-tls']) });
    await until(() => cluster.jobs.size === 1);
    await operator.idle();
    const [job] = [...cluster.jobs.keys()];
    // As the API server stamps it: the Job watch reads the creation time from the Job.
    cluster.jobs.get(job!)!.job.metadata!.creationTimestamp = new Date(clock.now());
    clock.advance(90_000);
    const issuedAt = clock.now();
    issue(job!);
    await until(() => lines.some((line) => line.end === 'issued'));
    await operator.idle();
    assert.equal(
      await sample(metrics, 'kube_lego_issuance_results_total', { result: 'issued', reason: 'Issued' }),
      1,
    );
    assert.equal(await sample(metrics, 'kube_lego_runs_total', { trigger: 'job', end: 'issued' }), 1);
    const duration = { result: 'issued' };
    const name = 'kube_lego_issuance_duration_seconds';
    assert.equal(await sample(metrics, name, duration, `${name}_count`), 1);
    assert.equal(await sample(metrics, name, duration, `${name}_sum`), 90);

    // The recorded issuance is checked again at once (no periodic check ran): the Secret the Job wrote.
    assert.equal(await sample(metrics, 'kube_lego_runs_total', { trigger: 'recheck', end: 'valid' }), 1);
    assert.equal(
      await sample(metrics, 'kube_lego_runs_total', { trigger: 'periodic', end: 'valid' }),
      undefined,
    );
    const labels = { namespace: 'shop', secret: 'shop-tls' };
    const expiry = await sample(metrics, 'kube_lego_certificate_expiry_timestamp_seconds', labels);
    assert.equal(expiry, seconds(issuedAt + 89 * DAY));
    // 90 days of lifetime: renewed with a third (30 days, as LEGO_MINIMUM_VALIDITY's 720h) left.
    assert.equal(
      await sample(metrics, 'kube_lego_certificate_renewal_timestamp_seconds', labels),
      expiry! - 30 * 86_400,
    );
    await operator.stop();
  });

  it('records a failed Job by its reason and the certificate as backing off; its retry is an attempt', async () => {
    const { operator, cluster, clock, events, lines, metrics } = await measured();
    events.next({ type: 'ADDED', object: ingress('shop', ['shop-tls']) });
    await until(() => cluster.jobs.size === 1);
    await operator.idle();
    const [job] = [...cluster.jobs.keys()];
    cluster.finish(job!, {
      succeeded: false,
      reason: 'SelfCheckFailed',
      message: 'shop-tls.test answered 404',
    });
    await until(() => lines.some((line) => line.end === 'failed'));
    await operator.idle();
    assert.equal(
      await sample(metrics, 'kube_lego_issuance_results_total', {
        result: 'failed',
        reason: 'SelfCheckFailed',
      }),
      1,
    );
    assert.equal(await sample(metrics, 'kube_lego_runs_total', { trigger: 'job', end: 'failed' }), 1);
    assert.equal(await sample(metrics, 'kube_lego_certificates_backing_off'), 1);
    const name = 'kube_lego_issuance_duration_seconds';
    assert.equal(
      await sample(metrics, name, { result: 'failed' }, `${name}_count`),
      undefined,
      'a Job without a creation time has no duration',
    );

    clock.advance(MINUTE);
    await until(() => cluster.replacements === 1);
    await operator.idle();
    assert.equal(await sample(metrics, 'kube_lego_certificates_backing_off'), 0);
    assert.equal(await sample(metrics, 'kube_lego_runs_total', { trigger: 'retry', end: 'launched' }), 1);
    assert.equal(await sample(metrics, 'kube_lego_issuance_attempts_total', { reason: 'SecretMissing' }), 2);
    await operator.stop();
  });

  it('gives the times of a certificate found due, its renewal time in the past', async () => {
    const harness = await measured();
    const { operator, cluster, clock, events, metrics } = harness;
    const notAfter = clock.now() + 10 * DAY;
    storeCertificate(harness, 'shop-tls', 'shop', clock.now() - 80 * DAY, notAfter);
    events.next({ type: 'ADDED', object: ingress('shop', ['shop-tls']) });
    await until(() => cluster.jobs.size === 1);
    await operator.idle();
    assert.equal(await sample(metrics, 'kube_lego_issuance_attempts_total', { reason: 'RenewalDue' }), 1);
    const labels = { namespace: 'shop', secret: 'shop-tls' };
    assert.equal(
      await sample(metrics, 'kube_lego_certificate_expiry_timestamp_seconds', labels),
      seconds(notAfter),
    );
    assert.equal(
      await sample(metrics, 'kube_lego_certificate_renewal_timestamp_seconds', labels),
      seconds(notAfter) - 30 * 86_400,
    );
    await operator.stop();
  });

  it("drops a certificate's series when no Ingress claims it any more, and all of them when stopped", async () => {
    const harness = await measured();
    const { operator, clock, events, metrics } = harness;
    for (const secret of ['a-tls', 'b-tls']) {
      storeCertificate(harness, secret, 'shop', clock.now() - DAY, clock.now() + 89 * DAY);
    }
    events.next({ type: 'ADDED', object: ingress('shop', ['a-tls', 'b-tls']) });
    await operator.idle();
    const expiry = (secret: string) =>
      sample(metrics, 'kube_lego_certificate_expiry_timestamp_seconds', { namespace: 'shop', secret });
    assert.equal(await sample(metrics, 'kube_lego_runs_total', { trigger: 'ingress', end: 'valid' }), 2);
    assert.notEqual(await expiry('a-tls'), undefined);
    assert.notEqual(await expiry('b-tls'), undefined);

    events.next({ type: 'MODIFIED', object: ingress('shop', ['a-tls'], { resourceVersion: '2' }) });
    await operator.idle();
    assert.equal(await expiry('b-tls'), undefined, 'its entry removed');
    assert.notEqual(await expiry('a-tls'), undefined);

    events.next({ type: 'DELETED', object: ingress('shop', ['a-tls'], { resourceVersion: '2' }) });
    await operator.idle();
    assert.equal(await expiry('a-tls'), undefined, 'its Ingress deleted');

    events.next({ type: 'ADDED', object: ingress('shop', ['a-tls'], { resourceVersion: '3' }) });
    await operator.idle();
    assert.notEqual(await expiry('a-tls'), undefined);
    assert.equal(await sample(metrics, 'kube_lego_certificates'), 1);
    await operator.stop();
    assert.equal(await expiry('a-tls'), undefined, 'a stopped operator (a standby) reports no certificate');
    assert.equal(await sample(metrics, 'kube_lego_certificates'), 0);
  });

  it('keeps counting across operators on one Metrics, the new one reporting its certificates', async () => {
    const first = await measured();
    storeCertificate(first, 'shop-tls', 'shop', first.clock.now() - DAY, first.clock.now() + 89 * DAY);
    first.events.next({ type: 'ADDED', object: ingress('shop', ['shop-tls']) });
    await first.operator.idle();
    await first.operator.stop();
    const second = await operatorHarness({}, 64, undefined, first, first.metrics);
    second.events.next({ type: 'ADDED', object: ingress('shop', ['shop-tls']) });
    await second.operator.idle();
    const { metrics } = first;
    assert.equal(await sample(metrics, 'kube_lego_runs_total', { trigger: 'ingress', end: 'valid' }), 2);
    assert.notEqual(
      await sample(metrics, 'kube_lego_certificate_expiry_timestamp_seconds', {
        namespace: 'shop',
        secret: 'shop-tls',
      }),
      undefined,
    );
    assert.equal(await sample(metrics, 'kube_lego_certificates'), 1);
    await second.operator.stop();
  });

  it("observes each task's duration by implementation, and counts a task's errors", async () => {
    const { operator, cluster, events, lines, metrics } = await measured();
    cluster.readError = new Error('secrets "shop-tls" is forbidden');
    events.next({ type: 'ADDED', object: ingress('shop', ['shop-tls']) });
    await until(() => lines.some((line) => line.end === 'failed'));
    await operator.idle();
    const name = 'kube_lego_task_duration_seconds';
    for (const task of ['deduplicate', 'inspectCertificate', 'recordFailure']) {
      assert.equal(await sample(metrics, name, { task }, `${name}_count`), 1, task);
    }
    assert.equal(await sample(metrics, name, { task: 'launchIssuanceJob' }, `${name}_count`), undefined);
    assert.equal(await sample(metrics, 'kube_lego_task_errors_total', { task: 'inspectCertificate' }), 1);
    assert.equal(await sample(metrics, 'kube_lego_task_errors_total', { task: 'recordFailure' }), undefined);
    assert.equal(await sample(metrics, 'kube_lego_runs_total', { trigger: 'ingress', end: 'failed' }), 1);
    assert.equal(
      await sample(metrics, 'kube_lego_issuance_results_total', {
        result: 'failed',
        reason: 'IssuanceError',
      }),
      undefined,
      'a task error is no issuance result',
    );
    await operator.stop();
  });

  it('puts no host, message or other free text in a label value', async () => {
    const { operator, cluster, events, lines, metrics } = await measured();
    events.next({ type: 'ADDED', object: ingress('shop', ['shop-tls', 'other-tls']) });
    await until(() => cluster.jobs.size === 2);
    await operator.idle();
    const [first, second] = [...cluster.jobs.keys()];
    cluster.finish(first!, {
      succeeded: false,
      reason: 'SelfCheckFailed',
      message: 'shop-tls.test answered 404',
    });
    // A reason that is not a CamelCase word, as a broken Job could write.
    cluster.finish(second!, { succeeded: false, reason: 'dns: other-tls.test: NXDOMAIN', message: '' });
    await until(() => lines.filter((line) => line.end === 'failed').length === 2);
    await operator.idle();
    assert.equal(
      await sample(metrics, 'kube_lego_issuance_results_total', { result: 'failed', reason: 'Other' }),
      1,
    );
    const text = await metrics.registry.metrics();
    assert.match(text, /kube_lego_issuance_results_total\{result="failed",reason="SelfCheckFailed"\} 1/);
    assert.doesNotMatch(text, /\.test/, 'no host');
    assert.doesNotMatch(text, /answered|NXDOMAIN/, 'no message');
    await operator.stop();
  });
});

describe('certificate times', () => {
  const verdict = { valid: false, foreign: false, message: '' } as const;

  it('computes the renewal time of a certificate the policy found due, as the policy would', () => {
    const notBefore = Date.UTC(2026, 0, 1);
    const notAfter = notBefore + 90 * DAY;
    assert.deepEqual(certificateTimes({ ...verdict, reason: 'RenewalDue', notBefore, notAfter }, 30 * DAY), {
      notAfter,
      renewAt: notAfter - 30 * DAY,
    });
    assert.deepEqual(
      certificateTimes(
        { ...verdict, valid: true, reason: 'Valid', notBefore, notAfter, renewAt: notBefore + DAY },
        30 * DAY,
      ),
      { notAfter, renewAt: notBefore + DAY },
      "a valid verdict's own renewal time (the CA's window, when it gives one) is kept",
    );
  });

  it('gives none for a Secret without a certificate of ours', () => {
    assert.equal(certificateTimes({ ...verdict, reason: 'SecretMissing' }, 30 * DAY), undefined);
    assert.equal(
      certificateTimes(
        { ...verdict, foreign: true, reason: 'ForeignSecret', notBefore: 0, notAfter: DAY },
        30 * DAY,
      ),
      undefined,
    );
  });
});

describe('reason labels', () => {
  it('keeps CamelCase reasons and turns anything else into Other', () => {
    assert.equal(reasonLabel('SelfCheckFailed'), 'SelfCheckFailed');
    assert.equal(reasonLabel('HostsRemoved'), 'HostsRemoved');
    assert.equal(reasonLabel('selfCheckFailed'), 'Other');
    assert.equal(reasonLabel('Self check failed for shop.test'), 'Other');
    assert.equal(reasonLabel(''), 'Other');
    assert.equal(reasonLabel(`A${'b'.repeat(64)}`), 'Other', 'longer than 64 characters');
  });
});

describe('replica gauges', () => {
  it('reports leadership and counts watch restarts by watch', async () => {
    const metrics = new Metrics({ processMetrics: false });
    assert.equal(await sample(metrics, 'kube_lego_leader'), 0, 'standby until told otherwise');
    metrics.setLeader(true);
    assert.equal(await sample(metrics, 'kube_lego_leader'), 1);
    metrics.watchRestarted('ingress');
    metrics.watchRestarted('ingress');
    metrics.watchRestarted('job');
    assert.equal(await sample(metrics, 'kube_lego_watch_restarts_total', { watch: 'ingress' }), 2);
    assert.equal(await sample(metrics, 'kube_lego_watch_restarts_total', { watch: 'job' }), 1);
    assert.equal(await sample(metrics, 'kube_lego_watch_restarts_total', { watch: 'secret' }), undefined);
    metrics.setLeader(false);
    assert.equal(await sample(metrics, 'kube_lego_leader'), 0);
  });
});
