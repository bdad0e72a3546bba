/** Small helpers of the tests that run against the local cluster: waiting, namespaces, diagnostics. */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';

/** Whether `error` is an API answer with HTTP status `code`. */
export function isStatus(error: unknown, code: number): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

/**
 * Calls `probe` every 50 ms until it returns a value other than undefined or false, for up to `timeoutMs`;
 * a probe that throws is retried, and its last error is named if time runs out.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${what}: not within ${timeoutMs / 1000} s${lastError ? ` (${String(lastError)})` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Creates a namespace and waits for its `default` ServiceAccount (pods are refused before it exists). */
export async function createNamespace(config: KubeConfig, name: string): Promise<void> {
  const core = config.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name } } });
  await eventually(`ServiceAccount ${name}/default`, () =>
    core.readNamespacedServiceAccount({ name: 'default', namespace: name }).catch((error: unknown) => {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }),
  );
}

/** Runs `body`; on failure rethrows with `diagnostics()` appended to the message. */
export async function withDiagnostics<T>(diagnostics: () => string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw Object.assign(new Error(`${message}\n${diagnostics()}`), { cause: error });
  }
}
