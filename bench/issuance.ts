/**
 * Issuance latency: wall time from starting `node dist/issue.mjs` (the Job bundle) to its Secret written, against a real
 * Pebble (no validation sleep, no Retry-After) and a real API server. Target: under 1 s for one host.
 */
import { performance } from 'node:perf_hooks';
import { createIngress, ensureNamespace, runIssuanceJob } from '../test/jobs/issuance-harness.ts';
import { startControlPlane, type ControlPlane } from '../test/support/control-plane.ts';
import { claimAddress } from '../test/support/loopback.ts';
import { startPebble, type Pebble } from '../test/support/pebble.ts';
import { allStarted } from '../test/support/start-all.ts';

const RUNS = 5;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Prints the figures; returns them for the caller. */
export async function benchIssuance(): Promise<Record<string, number>> {
  // The Job process's own address, where it answers challenges: every name resolves to it.
  const pod = await claimAddress();
  const [controlPlane, pebble] = await allStarted<[ControlPlane, Pebble]>([
    startControlPlane(),
    startPebble({ challengeAddress: pod.address, retryAfterSeconds: 0 }),
  ]);
  try {
    const kube = controlPlane.kubeConfig();
    await ensureNamespace(kube, 'kube-lego');
    await ensureNamespace(kube, 'bench');
    const figures: Record<string, number> = {};
    for (const hostCount of [1, 10]) {
      const times: number[] = [];
      for (let run = 0; run < RUNS; run += 1) {
        const name = `h${hostCount}-r${run}`;
        const hosts = Array.from({ length: hostCount }, (_, index) => `${index}.${name}.bench.test`);
        const uid = await createIngress(kube, 'bench', name, `${name}-tls`, hosts);
        const started = performance.now();
        const result = await runIssuanceJob(
          controlPlane,
          pebble,
          {
            namespace: 'bench',
            secretName: `${name}-tls`,
            hosts,
            ingressName: name,
            ingressUid: uid,
          },
          { LEGO_LOG_LEVEL: 'warn' },
        );
        if (result.code !== 0) throw new Error(`issuance failed: ${result.output}`);
        times.push(performance.now() - started);
      }
      figures[`issuance_${hostCount}_host_median_ms`] = Math.round(median(times));
      console.log(
        `issuance, ${hostCount} host(s): median ${Math.round(median(times))} ms over ${RUNS} runs ` +
          `(min ${Math.round(Math.min(...times))}, max ${Math.round(Math.max(...times))}); process start to Secret written`,
      );
    }
    return figures;
  } finally {
    await Promise.all([pebble.stop(), controlPlane.stop()]);
    await pod.release();
  }
}

if (import.meta.main) await benchIssuance();
