/**
 * End-to-end latency on the local cluster: from an annotated Ingress created to its Secret holding a valid
 * certificate, with kube-lego installed from manifests/install.yml (in-cluster operator, issuance Job through
 * the real Job controller, Pebble validating through the ingress router, no Retry-After, log level info as
 * shipped). Target: median under 1 s, p90 under 1.5 s. Prints where the time goes: the median time from the Ingress's creation to
 * each stage (bench/issuance-timeline.ts).
 */
import { performance } from 'node:perf_hooks';
import { createNamespace, eventually } from '../test/support/cluster-testing.ts';
import { ingressManifest, networking, validSecret } from '../test/e2e/e2e-harness.ts';
import { percentile, sandboxWithKubeLego } from './bench-sandbox.ts';
import { IssuanceTimeline, STAGES, type Stage } from './issuance-timeline.ts';

const RUNS = 20;

/** Prints the figures; returns them. */
export async function benchEndToEnd(): Promise<Record<string, number>> {
  const sandbox = await sandboxWithKubeLego();
  try {
    await createNamespace(sandbox.kube, 'bench');
    const timeline = await IssuanceTimeline.start(sandbox.kube, 'kube-lego', 'bench');
    const times: number[] = [];
    const stageTimes = new Map<Stage, number[]>(STAGES.map((stage) => [stage, []]));
    try {
      for (let run = 0; run < RUNS; run += 1) {
        const host = `site-${run}.bench.test`;
        const certificate = `bench/site-${run}-tls`;
        const createdAt = Date.now();
        const started = performance.now();
        await networking(sandbox.kube).createNamespacedIngress({
          namespace: 'bench',
          body: ingressManifest(`site-${run}`, [{ secretName: `site-${run}-tls`, hosts: [host] }]),
        });
        await validSecret(sandbox, 'bench', `site-${run}-tls`, [host]);
        times.push(performance.now() - started);
        await eventually(`${certificate}'s outcome recorded`, async () =>
          timeline.stages(certificate).has('outcome recorded'),
        );
        timeline.readJobLogs(sandbox.kubelet, 'kube-lego');
        for (const [stage, at] of timeline.stages(certificate)) stageTimes.get(stage)!.push(at - createdAt);
      }
    } finally {
      timeline.stop();
    }
    const median = percentile(times, 0.5);
    const p90 = percentile(times, 0.9);
    console.log(
      `end to end, Ingress created to Secret valid: median ${Math.round(median)} ms, p90 ${Math.round(p90)} ms over ${RUNS} runs`,
    );
    const figures: Record<string, number> = { e2e_median_ms: median, e2e_p90_ms: p90 };
    const breakdown = STAGES.map((stage) => {
      const values = stageTimes.get(stage)!;
      const at = values.length === 0 ? Number.NaN : percentile(values, 0.5);
      figures[`e2e_${stage.replaceAll(' ', '_')}_ms`] = at;
      return `${stage} ${Number.isNaN(at) ? 'not seen' : `+${Math.round(at)}`}`;
    });
    console.log(`  median time from the Ingress created to: ${breakdown.join(', ')} (ms)`);
    return figures;
  } finally {
    await sandbox.stop();
  }
}

if (import.meta.main) await benchEndToEnd();
