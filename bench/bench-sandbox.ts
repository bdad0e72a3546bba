/** What the local-cluster benchmarks share: a sandbox with kube-lego installed as shipped, and percentiles. */
import { eventually } from '../test/support/cluster-testing.ts';
import { operatorReady } from '../test/e2e/e2e-harness.ts';
import {
  installKubeLego,
  installObjects,
  sandboxSettings,
  startSandbox,
  type Sandbox,
} from '../test/support/sandbox.ts';

/**
 * A sandbox (Pebble without Retry-After) with manifests/install.yml applied at the shipped log level
 * (info), its operator ready. The caller stops it.
 */
export async function sandboxWithKubeLego(): Promise<Sandbox> {
  const sandbox = await startSandbox({ retryAfterSeconds: 0 });
  try {
    await installKubeLego(
      sandbox,
      await installObjects({ ...sandboxSettings(sandbox), LEGO_LOG_LEVEL: 'info' }),
    );
    await eventually('the operator pod ready', () => operatorReady(sandbox));
    return sandbox;
  } catch (error) {
    await sandbox.stop();
    throw error;
  }
}

/** The `p` percentile (0 to 1) of `values`, NaN for none. */
export const percentile = (values: readonly number[], p: number): number =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] ?? Number.NaN;
