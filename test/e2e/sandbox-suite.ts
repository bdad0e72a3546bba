/**
 * The set-up every end-to-end test file shares: in `before`, the sandbox started, kube-lego installed from
 * manifests/install.yml with the sandbox's settings (and the file's own), the operator ready, the test
 * namespaces created, then the file's own set-up; in `after`, the file's clean-up and the sandbox stopped.
 * When the set-up or any test failed, the operator's and every component's logs are printed first.
 */
import { after, afterEach, before } from 'node:test';
import { createNamespace, eventually } from '../support/cluster-testing.ts';
import {
  installKubeLego,
  installObjects,
  operatorLogs,
  sandboxSettings,
  startSandbox,
  type Sandbox,
} from '../support/sandbox.ts';
import { operatorReady } from './e2e-harness.ts';

/** What a test file adds to the shared set-up. */
export interface SandboxSuiteOptions {
  /** ConfigMap settings over the sandbox's (LEGO_CHECK_INTERVAL, the back-offs, ...). */
  settings?: Record<string, string>;
  /** Namespaces to create once the operator is ready. Default `shop`. */
  namespaces?: string[];
  /** The file's own set-up, once the operator is ready and the namespaces exist. */
  setUp?: (sandbox: Sandbox) => Promise<void>;
  /** The file's own clean-up, before the sandbox stops (runs even when the set-up failed). */
  cleanUp?: () => Promise<void>;
  /** Logs of the file's own extra parts (a second Pebble), printed with the sandbox's on a failure. */
  moreLogs?: () => string;
  /** The ingress controller Pebble validates through (SandboxOptions). Default the ingress router. */
  ingressController?: 'router' | 'traefik';
}

/** Registers the hooks; the result's `sandbox` is the running sandbox once `before` has run. */
export function sandboxSuite(options: SandboxSuiteOptions = {}): { readonly sandbox: Sandbox } {
  let sandbox: Sandbox | undefined;
  let failed = false;
  const printLogs = async (): Promise<void> => {
    if (!sandbox) return;
    const more = options.moreLogs?.() ?? '';
    process.stderr.write(`${await operatorLogs(sandbox).catch(String)}\n${sandbox.logs()}\n${more}\n`);
  };

  before(async () => {
    try {
      const started = await startSandbox({ ingressController: options.ingressController ?? 'router' });
      sandbox = started;
      await installKubeLego(
        started,
        await installObjects({ ...sandboxSettings(started), ...options.settings }),
      );
      await eventually('the operator pod ready', () => operatorReady(started));
      for (const namespace of options.namespaces ?? ['shop']) await createNamespace(started.kube, namespace);
      await options.setUp?.(started);
    } catch (error) {
      await printLogs();
      throw error;
    }
  });

  afterEach((context) => {
    // TestContext.passed (Node 21+) is missing from @types/node's typing of the hook's context.
    if ((context as { passed?: boolean }).passed === false) failed = true;
  });

  after(async () => {
    if (failed) await printLogs();
    await options.cleanUp?.();
    await sandbox?.stop();
  });

  return {
    get sandbox(): Sandbox {
      if (sandbox === undefined) throw new Error('the sandbox is not started: use it in tests, not at load');
      return sandbox;
    },
  };
}
