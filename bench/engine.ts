/**
 * The process host's cost: host + engine time per token for a certificate that is valid (no Job), and the
 * operator's heap during and after a periodic check of 10,000 annotated Ingresses with valid certificates, and how many
 * Secrets that check reads from the API server (none: the Secret watch's cache serves them).
 * Targets: at most 3 ms per token, at most 150 MB of heap. Run with `--expose-gc` (npm run bench does).
 */
import type { V1Ingress, V1Secret } from '@kubernetes/client-node';
import { Subject } from 'rxjs';
import { parseConfig } from '../src/config.ts';
import type { WatchEvent } from '../src/kube/list-watch.ts';
import { createLogger } from '../src/log.ts';
import { Operator } from '../src/operator.ts';
import { loadDefinition } from '../src/process/definition.ts';
import { systemClock } from '../src/process/schedule.ts';
import { lifecycleTasks } from '../tasks/index.ts';
import { testCertificate } from '../test/support/certificates.ts';
import { FakeCluster } from '../test/unit/fake-cluster.ts';
import { lifecycleXml } from '../test/unit/lifecycle-harness.ts';

const DAY = 86_400_000;
const MiB = 1024 * 1024;

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Builds an operator over the in-memory cluster with `count` annotated Ingresses holding valid certificates. */
async function operatorWith(count: number) {
  const cluster = new FakeCluster();
  const notAfter = new Date(Date.now() + 80 * DAY);
  const pair = testCertificate({ hosts: ['shop.test'], notBefore: new Date(Date.now() - DAY), notAfter });
  const events = new Subject<WatchEvent<V1Ingress>>();
  const secretEvents = new Subject<WatchEvent<V1Secret>>();
  const definition = await loadDefinition(
    await lifecycleXml(),
    'certificate-lifecycle',
    new Set(Object.keys(lifecycleTasks)),
  );
  const config = parseConfig({ LEGO_CHECK_INTERVAL: '24h' });
  const operator = new Operator({
    config,
    log: createLogger({ level: 'warn', type: 'json' }),
    cluster,
    ingressEvents: events,
    secretEvents,
    definition,
    clock: systemClock,
  });
  operator.start();
  for (let index = 0; index < count; index += 1) {
    const namespace = `ns-${index}`;
    cluster.writeCertificate({
      namespace,
      secretName: 'shop-tls',
      ingressName: 'shop',
      ingressUid: `uid-${index}`,
      hosts: ['shop.test'],
      chainPem: pair.crt,
      keyPem: pair.key,
      issuerUrl: config.url,
      acmeProfile: config.acmeProfile,
      notAfter,
    });
    // The certificate Secret watch reports what kube-lego wrote: the cache "Inspect certificate" reads.
    secretEvents.next({ type: 'ADDED', object: cluster.secrets.get(`${namespace}/shop-tls`)! });
    events.next({
      type: 'ADDED',
      object: {
        metadata: {
          name: 'shop',
          namespace,
          uid: `uid-${index}`,
          resourceVersion: '1',
          annotations: { 'kubernetes.io/tls-acme': 'true' },
        },
        spec: { tls: [{ secretName: 'shop-tls', hosts: ['shop.test'] }] },
      },
    });
  }
  await operator.idle();
  return { operator, cluster };
}

/** Prints the figures; returns them. */
export async function benchEngine(ingresses = 10_000): Promise<Record<string, number>> {
  const { operator, cluster } = await operatorWith(ingresses);
  if (cluster.launches.length > 0) throw new Error('a valid certificate launched a Job');
  let secretReads = 0;
  const read = cluster.readTlsSecret.bind(cluster);
  cluster.readTlsSecret = (namespace, name) => {
    secretReads += 1;
    return read(namespace, name);
  };
  gc();
  // The heap's peak during the check, not only after it: sampled between runs.
  let peakHeap = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, 20);
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  operator.periodicCheck();
  await operator.idle();
  const wallMs = performance.now() - wallBefore;
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(sampler);
  const peakHeapMiB = peakHeap / MiB;
  const cpuMsPerToken = (cpu.user + cpu.system) / 1000 / ingresses;
  gc();
  const heapMiB = process.memoryUsage().heapUsed / MiB;
  await operator.stop();
  console.log(
    `engine, valid certificate: ${(wallMs / ingresses).toFixed(2)} ms wall, ${cpuMsPerToken.toFixed(2)} ms CPU per token ` +
      `(periodic check of ${ingresses} Ingresses in ${(wallMs / 1000).toFixed(1)} s)`,
  );
  console.log(
    `engine, heap during the periodic check of ${ingresses} Ingresses: peak ${peakHeapMiB.toFixed(1)} MiB, after it ${heapMiB.toFixed(1)} MiB`,
  );
  console.log(
    `engine, Secrets read from the API server during that check: ${secretReads} (the watch's cache)`,
  );
  return {
    engine_ms_per_token: wallMs / ingresses,
    engine_cpu_ms_per_token: cpuMsPerToken,
    engine_heap_mib: heapMiB,
    engine_peak_heap_mib: peakHeapMiB,
    engine_secret_reads: secretReads,
  };
}

if (import.meta.main) await benchEngine(Number(process.argv[2] ?? 10_000));
