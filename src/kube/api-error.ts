/**
 * The HTTP status of a failed Kubernetes API call, whichever client made it: @kubernetes/client-node's
 * ApiException and this project's KubeApiError both carry it as `code`. Kept apart from either client so
 * that the issuance Job, which does not load @kubernetes/client-node, can read it too.
 */

/** The HTTP status of a failed API call (404, 409, ...), or undefined for a failure without one. */
export function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** A Kubernetes API call answered with an error status; `message` names the request and the API's reason. */
export class KubeApiError extends Error {
  /** The HTTP status (404 not found, 409 conflict, 403 forbidden, ...). */
  readonly code: number;

  constructor(method: string, path: string, code: number, body: string) {
    super(`${method} ${path}: HTTP ${code}: ${apiMessage(body)}`);
    this.name = 'KubeApiError';
    this.code = code;
  }
}

/** The `message` of a Kubernetes Status body, else the body itself cut short. */
function apiMessage(body: string): string {
  try {
    const status = JSON.parse(body) as { message?: unknown };
    if (typeof status.message === 'string') return status.message;
  } catch {
    // not JSON: the body as it came
  }
  return body.slice(0, 300);
}
