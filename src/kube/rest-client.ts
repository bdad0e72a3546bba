/**
 * A small JSON client for the Kubernetes API, for the issuance Job. The Job makes few kinds of call (read
 * the account Secret, create or replace it, read the Ingress, read, create or replace the TLS Secret, and,
 * edited in place, read its solver Service and create or replace its EndpointSlice);
 * loading @kubernetes/client-node for them cost each Job about 0.8 s of start-up and 60 MiB of memory
 * (measured, docs/architecture.md), more than the rest of the Job together. The operator, which watches,
 * keeps @kubernetes/client-node.
 *
 * Connection, as a pod finds the API server: `LEGO_KUBE_API_URL` when set (plain HTTP to a `kubectl proxy`,
 * kube-lego's way), else in-cluster: `KUBERNETES_SERVICE_HOST`/`_PORT`, with the ServiceAccount's token
 * and CA from `SERVICE_ACCOUNT_DIR` (default /var/run/secrets/kubernetes.io/serviceaccount). The token is
 * read again for each request, since a projected token is rotated in place.
 */
import { readFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { KubeApiError } from './api-error.ts';

/** The standard mount of a pod's ServiceAccount token, CA and namespace. */
export const DEFAULT_SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** How long one request may take before it fails; the Job's own deadline bounds the whole run. */
const REQUEST_TIMEOUT_MS = 30_000;

/** Where the API server is and how to authenticate to it. */
export interface ApiConnection {
  /** The API server's base URL, `https://host:port` or `http://` for a proxy. */
  readonly server: URL;
  /** PEM of the CA to trust for an https server. */
  readonly caPem?: string;
  /** The bearer token, read when each request is made. */
  readonly token?: () => Promise<string>;
  /** A client certificate and key (PEM), for an admin's kubeconfig in tests. */
  readonly clientCertPem?: string;
  readonly clientKeyPem?: string;
}

/** JSON calls on API paths (`/api/v1/namespaces/ns/secrets/name`); an error status throws KubeApiError. */
export interface KubeRest {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  put<T>(path: string, body: unknown): Promise<T>;
}

/** Thrown when neither `LEGO_KUBE_API_URL` nor a pod's environment says where the API server is. */
export class NoApiServerError extends Error {
  constructor() {
    super(
      'no API server: not in a pod (KUBERNETES_SERVICE_HOST is not set) and LEGO_KUBE_API_URL is not set',
    );
    this.name = 'NoApiServerError';
  }
}

/**
 * The connection a pod would use: `kubeApiUrl` (the setting `LEGO_KUBE_API_URL`) when given, else the
 * in-cluster one from the pod's environment (see the file's comment).
 */
export async function podConnection(
  kubeApiUrl: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<ApiConnection> {
  if (kubeApiUrl !== undefined) return { server: new URL(kubeApiUrl) };
  const host = env.KUBERNETES_SERVICE_HOST?.trim();
  if (!host) throw new NoApiServerError();
  const port = env.KUBERNETES_SERVICE_PORT?.trim() || '443';
  const dir = env.SERVICE_ACCOUNT_DIR?.trim() || DEFAULT_SERVICE_ACCOUNT_DIR;
  return {
    server: new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}`),
    caPem: await readFile(`${dir}/ca.crt`, 'utf8'),
    token: async () => (await readFile(`${dir}/token`, 'utf8')).trim(),
  };
}

/** A {@link KubeRest} over `connection` (Node's global agents keep its connection alive between calls). */
export function restClient(connection: ApiConnection): KubeRest {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const url = new URL(path, connection.server);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (connection.token !== undefined) headers.authorization = `Bearer ${await connection.token()}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const response = await send(url, method, headers, payload, connection);
    if (response.status >= 300) throw new KubeApiError(method, url.pathname, response.status, response.text);
    return JSON.parse(response.text) as T;
  };
  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body),
    put: (path, body) => call('PUT', path, body),
  };
}

/** One request; resolves with the status and the whole body as text. */
function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  payload: string | undefined,
  connection: ApiConnection,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const onResponse = (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      response.on('error', reject);
    };
    const options = { method, headers, timeout: REQUEST_TIMEOUT_MS };
    const request =
      url.protocol === 'http:'
        ? httpRequest(url, options, onResponse)
        : httpsRequest(
            url,
            {
              ...options,
              ...(connection.caPem !== undefined && { ca: connection.caPem }),
              ...(connection.clientCertPem !== undefined && { cert: connection.clientCertPem }),
              ...(connection.clientKeyPem !== undefined && { key: connection.clientKeyPem }),
            },
            onResponse,
          );
    request.on('timeout', () =>
      request.destroy(new Error(`${method} ${url.pathname}: no answer in ${REQUEST_TIMEOUT_MS} ms`)),
    );
    request.on('error', reject);
    request.end(payload);
  });
}

/** The API path of a namespaced object, or of its collection when `name` is omitted. */
export function objectPath(
  group: '' | 'networking.k8s.io' | 'discovery.k8s.io',
  resource: string,
  namespace: string,
  name?: string,
): string {
  const base = group === '' ? '/api/v1' : `/apis/${group}/v1`;
  const collection = `${base}/namespaces/${encodeURIComponent(namespace)}/${resource}`;
  return name === undefined ? collection : `${collection}/${encodeURIComponent(name)}`;
}
