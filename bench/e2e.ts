/**
 * End-to-end latency on the local cluster: from an annotated Ingress created to its Secret holding a valid
 * certificate, with kube-lego installed from manifests/install.yml (in-cluster operator, issuance Job through
 * the real Job controller, Pebble validating through the ingress router, no Retry-After). Target: median
 * under 2 s.
 */
import { performance } from 'node:perf_hooks';
import { createNamespace, eventually } from '../test/support/cluster-testing.ts';
import { ingressManifest, networking, operatorReady, validSecret } from '../test/e2e/e2e-harness.ts';
import { installKubeLego, startSandbox } from '../test/support/sandbox.ts';

const RUNS = 20;

const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;

/** Prints the figures; returns them. */
export async function benchEndToEnd(): Promise<Record<string, number>> {
  const sandbox = await startSandbox({ retryAfterSeconds: 0 });
  try {
    await installKubeLego(sandbox);
    await eventually('the operator pod ready', () => operatorReady(sandbox));
    await createNamespace(sandbox.kube, 'bench');
    const times: number[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      const host = `site-${run}.bench.test`;
      const started = performance.now();
      await networking(sandbox.kube).createNamespacedIngress({
        namespace: 'bench',
        body: ingressManifest(`site-${run}`, [{ secretName: `site-${run}-tls`, hosts: [host] }]),
      });
      await validSecret(sandbox, 'bench', `site-${run}-tls`, [host]);
      times.push(performance.now() - started);
    }
    const median = percentile(times, 0.5);
    const p90 = percentile(times, 0.9);
    console.log(
      `end to end, Ingress created to Secret valid: median ${Math.round(median)} ms, p90 ${Math.round(p90)} ms over ${RUNS} runs`,
    );
    return { e2e_median_ms: median, e2e_p90_ms: p90 };
  } finally {
    await sandbox.stop();
  }
}

if (import.meta.main) await benchEndToEnd();
