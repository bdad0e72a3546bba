/**
 * Bursts on the local cluster: N annotated Ingresses created at once, kube-lego installed from
 * manifests/install.yml (log level info, as shipped), Pebble without Retry-After. Prints for each burst
 * when the Secrets became valid (median, last), how many issuance Jobs failed on the way (each retried by
 * the back-off), the most Jobs that ran at once, the resident memory of each Job pod (both containers) at
 * its peak, and the leading operator's peak resident memory during the burst.
 * Targets: 50 at once all valid in under 15 s; 200 at once without a certificate lost; a Job pod under
 * 60 MiB; the operator under 256 MiB.
 */
import { Watch, type V1Job, type V1Pod, type V1Secret } from '@kubernetes/client-node';
import { JOB_LABEL } from '../src/issuance/job-objects.ts';
import { createNamespace, eventually } from '../test/support/cluster-testing.ts';
import { ingressManifest, jobFinished, leaderPod, networking } from '../test/e2e/e2e-harness.ts';
import { verifyTlsSecret } from '../test/jobs/issuance-harness.ts';
import type { Sandbox } from '../test/support/sandbox.ts';
import { percentile, sandboxWithKubeLego } from './bench-sandbox.ts';
import { Peaks, mib, residentMemory } from './process-memory.ts';

/** How often memory is sampled. */
const SAMPLE_MS = 200;

/** Prints the figures of a burst of each size in `sizes`, in one sandbox; returns them. */
export async function benchBurst(sizes: readonly number[] = [50, 200]): Promise<Record<string, number>> {
  const sandbox = await sandboxWithKubeLego();
  try {
    const figures: Record<string, number> = {};
    for (const size of sizes) Object.assign(figures, await burst(sandbox, size));
    return figures;
  } finally {
    await sandbox.stop();
  }
}

async function burst(sandbox: Sandbox, size: number): Promise<Record<string, number>> {
  const namespace = `burst-${size}`;
  await createNamespace(sandbox.kube, namespace);
  const root = await sandbox.pebble.issuingRootPem();
  const hostOf = (index: number) => `site-${index}.${namespace}.test`;
  const validAt = new Map<string, number>();
  const failedJobs = new Set<string>();
  const runningJobs = new Set<string>();
  let mostRunning = 0;
  const jobPods = new Set<string>();
  const watch = new Watch(sandbox.kube);
  const watches = [
    await watch.watch(
      `/api/v1/namespaces/${namespace}/secrets`,
      {},
      (_type, secret: V1Secret) => {
        const name = secret.metadata?.name ?? '';
        if (validAt.has(name) || !secret.data?.['tls.crt']) return;
        try {
          verifyTlsSecret(secret, root, [hostOf(Number(name.split('-')[1]))]);
          validAt.set(name, Date.now());
        } catch {
          // not valid (yet)
        }
      },
      () => undefined,
    ),
    await watch.watch(
      '/apis/batch/v1/namespaces/kube-lego/jobs',
      {},
      (type, job: V1Job) => {
        const uid = job.metadata?.uid ?? '';
        const failed = job.status?.conditions?.some((c) => c.type === 'Failed' && c.status === 'True');
        if (failed) failedJobs.add(uid);
        if (type === 'DELETED' || jobFinished(job)) runningJobs.delete(uid);
        else runningJobs.add(uid);
        mostRunning = Math.max(mostRunning, runningJobs.size);
      },
      () => undefined,
    ),
    await watch.watch(
      '/api/v1/namespaces/kube-lego/pods',
      { labelSelector: JOB_LABEL },
      (type, pod: V1Pod) => {
        if (type === 'ADDED') jobPods.add(pod.metadata?.name ?? '');
      },
      () => undefined,
    ),
  ];
  const leader = await eventually('the leading operator pod', () => leaderPod(sandbox));
  const podPeaks = new Peaks();
  /** Peaks per container, by its place in the Job's pod: `issue`, then `respond`. */
  const containerPeaks = [new Peaks(), new Peaks()];
  const operatorPeak = new Peaks();
  const sample = async () => {
    for (const pod of jobPods) {
      let total = 0;
      for (const [index, pid] of sandbox.kubelet.containerPids('kube-lego', pod).entries()) {
        const rss = (await residentMemory(pid))?.rss ?? 0;
        containerPeaks[index]?.see(pod, rss);
        total += rss;
      }
      podPeaks.see(pod, total);
    }
    for (const pid of leader === undefined ? [] : sandbox.kubelet.containerPids('kube-lego', leader)) {
      operatorPeak.see('leader', (await residentMemory(pid))?.rss ?? 0);
    }
  };
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await sample();
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
    }
  })();
  const started = Date.now();
  try {
    await Promise.all(
      Array.from({ length: size }, (_, index) =>
        networking(sandbox.kube).createNamespacedIngress({
          namespace,
          body: ingressManifest(`site-${index}`, [
            { secretName: `site-${index}-tls`, hosts: [hostOf(index)] },
          ]),
        }),
      ),
    );
    await eventually(
      `all ${size} Secrets of the burst valid`,
      async () => validAt.size === size,
      120_000 + size * 3_000,
    ).catch((error: unknown) => console.log(`  ${String(error)}: ${validAt.size} valid`));
  } finally {
    sampling = false;
    await sampler;
    for (const controller of watches) controller.abort();
  }
  const times = [...validAt.values()].map((at) => at - started);
  const pods = podPeaks.values().filter((bytes) => bytes > 0);
  const [issue, respond] = containerPeaks.map((peaks) => percentile(peaks.values(), 0.5));
  const figures = {
    [`burst_${size}_valid`]: validAt.size,
    [`burst_${size}_median_ms`]: percentile(times, 0.5),
    [`burst_${size}_last_ms`]: Math.max(...times),
    [`burst_${size}_failed_jobs`]: failedJobs.size,
    [`burst_${size}_most_jobs_running`]: mostRunning,
    [`burst_${size}_job_pod_rss_median_bytes`]: percentile(pods, 0.5),
    [`burst_${size}_job_pod_rss_max_bytes`]: Math.max(...pods),
    [`burst_${size}_operator_peak_rss_bytes`]: operatorPeak.get('leader') ?? Number.NaN,
  };
  console.log(
    `burst of ${size}: ${validAt.size} of ${size} valid, median ${(percentile(times, 0.5) / 1000).toFixed(1)} s, ` +
      `last ${(Math.max(...times) / 1000).toFixed(1)} s after creation; ${failedJobs.size} Jobs failed (retried); ` +
      `at most ${mostRunning} Jobs at once; Job pod RSS at its peak: median ${mib(percentile(pods, 0.5))}, ` +
      `max ${mib(Math.max(...pods))} (${pods.length} pods; issue ${mib(issue!)}, respond ${mib(respond!)}); leading operator's peak RSS ${mib(operatorPeak.get('leader') ?? 0)}`,
  );
  return figures;
}

if (import.meta.main) {
  const sizes = process.argv.slice(2).map(Number);
  await benchBurst(sizes.length > 0 ? sizes : undefined);
}
