/** The operator over the in-memory cluster, fed Ingress and certificate Secret events by the test. */
import type { V1Ingress, V1Secret } from '@kubernetes/client-node';
import { Subject } from 'rxjs';
import { parseConfig } from '../../src/config.ts';
import { orderFromEnv } from '../../src/issuance/job-contract.ts';
import type { WatchEvent } from '../../src/kube/list-watch.ts';
import { createLogger } from '../../src/log.ts';
import type { Metrics } from '../../src/metrics.ts';
import { loadDefinition } from '../../src/process/definition.ts';
import { Operator } from '../../src/operator.ts';
import { lifecycleTasks } from '../../tasks/index.ts';
import type { OperatorView } from '../../src/view/operator-view.ts';
import { testCertificate } from '../support/certificates.ts';
import { FakeCluster } from './fake-cluster.ts';
import { FakeClock } from './fake-clock.ts';
import { lifecycleXml } from './lifecycle-harness.ts';

const DAY = 86_400_000;

/** An annotated Ingress with one tls entry per secret name, host `<secret>.test`. */
export function ingress(
  name: string,
  secrets: string[],
  extra: Partial<V1Ingress['metadata']> = {},
): V1Ingress {
  return {
    metadata: {
      name,
      namespace: 'shop',
      uid: `uid-${name}`,
      resourceVersion: '1',
      creationTimestamp: new Date(Date.UTC(2026, 0, 1)),
      annotations: { 'kubernetes.io/tls-acme': 'true' },
      ...extra,
    },
    spec: { tls: secrets.map((secretName) => ({ secretName, hosts: [`${secretName}.test`] })) },
  };
}

/** Resolves when `condition` holds, polling; fails after `ms`. */
export async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Builds and starts an operator on the shipped diagram (or `xml`), on a new fake cluster and clock, or on
 * those of a previous operator (`restartOn`: a restart, the cluster's state kept); `lines` collects its JSON log lines,
 * `events` and `secretEvents` feed its Ingress and Secret watches; the fake cluster's `jobEvents` its Job
 * watch (a Job the test finishes is seen finished); `metrics`, when given, counts what it does.
 */
export async function operatorHarness(
  env: Record<string, string> = {},
  maxConcurrentRuns = 64,
  xml?: string,
  restartOn?: { cluster: FakeCluster; clock: FakeClock },
  metrics?: Metrics,
  view?: OperatorView,
) {
  const config = parseConfig(env);
  const cluster = restartOn?.cluster ?? new FakeCluster({ namespace: config.namespace });
  const clock = restartOn?.clock ?? new FakeClock(Date.now());
  cluster.now = () => clock.now();
  const events = new Subject<WatchEvent<V1Ingress>>();
  const secretEvents = new Subject<WatchEvent<V1Secret>>();
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    level: 'debug',
    type: 'json',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const definition = await loadDefinition(
    xml ?? (await lifecycleXml()),
    'certificate-lifecycle',
    new Set(Object.keys(lifecycleTasks)),
  );
  const operator = new Operator({
    config,
    log,
    cluster,
    ingressEvents: events,
    secretEvents,
    jobEvents: cluster.jobEvents,
    definition,
    clock,
    maxConcurrentRuns,
    ...(metrics !== undefined && { metrics }),
    ...(view !== undefined && { view }),
  });
  operator.start();
  /** Ends a Job successfully, writing a good certificate for its order as the real Job would (its env). */
  const issue = (jobName: string) => {
    const objects = cluster.jobs.get(jobName)!;
    const env = Object.fromEntries(
      objects.job.spec!.template.spec!.containers[0]!.env!.map((entry) => [entry.name, entry.value]),
    );
    const order = orderFromEnv(env);
    const notAfter = new Date(clock.now() + 89 * DAY);
    const pair = testCertificate({ hosts: order.hosts, notBefore: new Date(clock.now() - DAY), notAfter });
    cluster.writeCertificate({
      ...order,
      chainPem: pair.crt,
      keyPem: pair.key,
      issuerUrl: env.LEGO_URL!,
      acmeProfile: env.LEGO_ACME_PROFILE,
      notAfter,
    });
    cluster.finish(jobName, { succeeded: true, reason: 'Issued', message: '' });
  };
  return { operator, cluster, clock, events, secretEvents, lines, issue };
}
