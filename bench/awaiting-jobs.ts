/**
 * Certificates awaiting their Jobs: 1,000 annotated Ingresses without a Secret, each run launching an
 * issuance Job that never finishes (the fake cluster's default). Runs never wait for a Job (a "Job finished"
 * token comes later), so what the operator holds for them is its index and its Job-watch bookkeeping, not
 * 1,000 live engines. Measures the operator's heap and RSS then (target: under 100 MiB heap), and how long an
 * unrelated new Ingress takes from its ADDED event to its Job launched (target: under 1 s), against a
 * baseline of none awaiting. Run with `--expose-gc` (npm run bench does).
 */
import type { V1Ingress } from '@kubernetes/client-node';
import { Subject } from 'rxjs';
import { parseConfig } from '../src/config.ts';
import type { WatchEvent } from '../src/kube/list-watch.ts';
import { createLogger } from '../src/log.ts';
import { Operator } from '../src/operator.ts';
import { loadDefinition } from '../src/process/definition.ts';
import { systemClock } from '../src/process/schedule.ts';
import { lifecycleTasks } from '../tasks/index.ts';
import { FakeCluster } from '../test/unit/fake-cluster.ts';
import { lifecycleXml } from '../test/unit/lifecycle-harness.ts';

const MiB = 1024 * 1024;
const HEAP_TARGET_MIB = 100;
const LATENCY_TARGET_MS = 1000;
/** New Ingresses inspected one at a time after the awaiting ones, for the latency figures. */
const PROBES = 20;

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const met = (ok: boolean) => (ok ? 'met' : 'not met');

/** An annotated Ingress in namespace `shop` with one tls entry, host `<name>.test`. */
function ingress(name: string): WatchEvent<V1Ingress> {
  return {
    type: 'ADDED',
    object: {
      metadata: {
        name,
        namespace: 'shop',
        uid: `uid-${name}`,
        resourceVersion: '1',
        annotations: { 'kubernetes.io/tls-acme': 'true' },
      },
      spec: { tls: [{ secretName: `${name}-tls`, hosts: [`${name}.test`] }] },
    },
  };
}

/** Resolves once `condition` holds, checking at every turn of the event loop; fails after 30 s. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = performance.now() + 30_000;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met within 30 s');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Heap and RSS with `count` certificates awaiting their Jobs, then the latency of `PROBES` new Ingresses. */
async function measure(count: number) {
  const config = parseConfig({ LEGO_CHECK_INTERVAL: '24h' });
  const cluster = new FakeCluster({ namespace: config.namespace });
  const events = new Subject<WatchEvent<V1Ingress>>();
  const definition = await loadDefinition(
    await lifecycleXml(),
    'certificate-lifecycle',
    new Set(Object.keys(lifecycleTasks)),
  );
  const operator = new Operator({
    config,
    log: createLogger({ level: 'info', type: 'json', destination: { write: () => {} } }),
    cluster,
    ingressEvents: events,
    jobEvents: cluster.jobEvents,
    definition,
    clock: systemClock,
  });
  operator.start();
  for (let index = 0; index < count; index += 1) events.next(ingress(`awaiting-${index}`));
  await operator.idle();
  const { running, queued } = operator.status;
  if (cluster.jobs.size !== count) throw new Error(`${cluster.jobs.size} Jobs launched, not ${count}`);
  if (running !== 0 || queued !== 0) throw new Error(`${running} runs running, ${queued} queued after idle`);
  gc();
  const { heapUsed, rss } = process.memoryUsage();
  const latencies: number[] = [];
  for (let probe = 0; probe < PROBES; probe += 1) {
    const launched = cluster.launches.length;
    const started = performance.now();
    events.next(ingress(`probe-${probe}`));
    await until(() => cluster.launches.length > launched);
    latencies.push(performance.now() - started);
    const job = cluster.jobs.get(cluster.launches.at(-1)!)?.job;
    const certificate = job?.metadata?.annotations?.['kube-lego.io/certificate'];
    if (certificate !== `shop/probe-${probe}-tls`) throw new Error(`probe ${probe} launched ${certificate}`);
  }
  await operator.idle();
  await operator.stop();
  return { heapMiB: heapUsed / MiB, rssMiB: rss / MiB, latencies };
}

/** Prints the figures for none and for `awaiting` certificates awaiting their Jobs; returns them. */
export async function benchAwaitingJobs(awaiting = 1_000): Promise<Record<string, number>> {
  const baseline = await measure(0);
  gc();
  const loaded = await measure(awaiting);
  const kibEach = ((loaded.heapMiB - baseline.heapMiB) * 1024) / awaiting;
  for (const [count, figures] of [
    [0, baseline],
    [awaiting, loaded],
  ] as const) {
    const heapOk = figures.heapMiB < HEAP_TARGET_MIB;
    const worst = Math.max(...figures.latencies);
    console.log(
      `awaiting Jobs, ${count} certificates: heap ${figures.heapMiB.toFixed(1)} MiB, RSS ${figures.rssMiB.toFixed(1)} MiB ` +
        `(target under ${HEAP_TARGET_MIB} MiB heap: ${met(heapOk)})`,
    );
    console.log(
      `awaiting Jobs, ${count} certificates: new Ingress inspected and its Job launched in median ` +
        `${median(figures.latencies).toFixed(1)} ms, max ${worst.toFixed(1)} ms over ${PROBES} ` +
        `(target under ${LATENCY_TARGET_MS} ms: ${met(worst < LATENCY_TARGET_MS)})`,
    );
  }
  console.log(`awaiting Jobs: ${kibEach.toFixed(1)} KiB of heap per certificate awaiting its Job`);
  return {
    awaiting_jobs_baseline_heap_mib: baseline.heapMiB,
    awaiting_jobs_heap_mib: loaded.heapMiB,
    awaiting_jobs_rss_mib: loaded.rssMiB,
    awaiting_jobs_kib_per_certificate: kibEach,
    awaiting_jobs_new_ingress_median_ms: median(loaded.latencies),
    awaiting_jobs_new_ingress_max_ms: Math.max(...loaded.latencies),
  };
}

if (import.meta.main) await benchAwaitingJobs(Number(process.argv[2] ?? 1_000));
