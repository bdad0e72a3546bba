/**
 * What the process kubelet resolves from a pod spec before it starts a container: the downward API
 * (`fieldRef`, `resourceFieldRef`), `$(VAR)` references, and the environment from `env` and `envFrom`,
 * with the same rules as the kubelet (envFrom first in order, then env, later names win).
 */
import { cpus, totalmem } from 'node:os';
import type {
  V1Container,
  V1ObjectFieldSelector,
  V1Pod,
  V1ResourceFieldSelector,
} from '@kubernetes/client-node';

/** Reads Secrets and ConfigMaps of the pod's namespace; undefined when the object does not exist. */
export interface ConfigSource {
  secret(name: string): Promise<Record<string, Buffer> | undefined>;
  configMap(name: string): Promise<Record<string, Buffer> | undefined>;
}

/** A problem that keeps a container from being created yet (the kubelet's CreateContainerConfigError). */
export class ContainerConfigError extends Error {}

/**
 * Expands `$(NAME)` in `input` from `lookup`, as Kubernetes does in env values, command and args:
 * `$$` is a literal `$`, and a reference to an undefined name stays as written.
 */
export function expandReferences(input: string, lookup: (name: string) => string | undefined): string {
  let output = '';
  for (let index = 0; index < input.length; index += 1) {
    const char = input[index];
    if (char !== '$' || index + 1 >= input.length) {
      output += char;
      continue;
    }
    const next = input[index + 1];
    if (next === '$') {
      output += '$';
      index += 1;
    } else if (next === '(') {
      const close = input.indexOf(')', index + 2);
      if (close === -1) {
        output += input.slice(index);
        break;
      }
      const name = input.slice(index + 2, close);
      output += lookup(name) ?? `$(${name})`;
      index = close;
    } else {
      output += char;
    }
  }
  return output;
}

/** The value in `map['key']` selectors such as `metadata.labels['app']`. */
function subscripted(path: string, field: string): string | undefined {
  const match = new RegExp(`^${field.replace('.', '\\.')}\\['(.*)'\\]$`).exec(path);
  return match?.[1];
}

/** A map formatted as the downward API writes labels and annotations: `key="value"` lines, sorted. */
function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((key) => `${key}=${JSON.stringify(map?.[key] ?? '')}`)
    .join('\n');
}

/** The value of a downward API `fieldRef` for `pod` (status fields as the kubelet knows them). */
export function fieldRefValue(pod: V1Pod, selector: V1ObjectFieldSelector, podIP: string): string {
  const path = selector.fieldPath;
  const metadata = pod.metadata ?? {};
  const label = subscripted(path, 'metadata.labels');
  if (label !== undefined) return metadata.labels?.[label] ?? '';
  const annotation = subscripted(path, 'metadata.annotations');
  if (annotation !== undefined) return metadata.annotations?.[annotation] ?? '';
  switch (path) {
    case 'metadata.name':
      return metadata.name ?? '';
    case 'metadata.namespace':
      return metadata.namespace ?? '';
    case 'metadata.uid':
      return metadata.uid ?? '';
    case 'metadata.labels':
      return formatMap(metadata.labels);
    case 'metadata.annotations':
      return formatMap(metadata.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return '127.0.0.1';
    case 'status.podIP':
    case 'status.podIPs':
      return podIP;
    default:
      throw new ContainerConfigError(`unsupported fieldRef ${path}`);
  }
}

const QUANTITY_SUFFIXES: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes quantity (`500m`, `1Gi`, `2e3`) as a number. */
export function parseQuantity(quantity: string | number): number {
  if (typeof quantity === 'number') return quantity;
  const match = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$/.exec(quantity.trim());
  const factor = match ? QUANTITY_SUFFIXES[match[2] ?? ''] : undefined;
  if (!match || factor === undefined) throw new ContainerConfigError(`bad quantity ${quantity}`);
  return Number(match[1]) * factor;
}

/**
 * The value of a downward API `resourceFieldRef`: the container's limit or request, the machine's CPUs
 * and memory for a limit that is not set (as the kubelet uses node allocatable), rounded up in `divisor`s.
 */
export function resourceFieldValue(
  pod: V1Pod,
  selector: V1ResourceFieldSelector,
  container?: string,
): string {
  const target = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find(
    (candidate) => candidate.name === (selector.containerName || container),
  );
  const [kind, resource] = selector.resource.split('.') as [string, string];
  const set = kind === 'limits' ? target?.resources?.limits : target?.resources?.requests;
  const allocatable: Record<string, number> = { cpu: cpus().length, memory: totalmem() };
  const raw = set?.[resource];
  const value = raw !== undefined ? parseQuantity(raw) : kind === 'limits' ? (allocatable[resource] ?? 0) : 0;
  const divisor = parseQuantity(selector.divisor ?? 1) || 1;
  return String(Math.ceil(value / divisor));
}

/** The environment of `container` from its `envFrom` and `env`, downward API and references resolved. */
export async function containerEnv(
  pod: V1Pod,
  container: V1Container,
  podIP: string,
  source: ConfigSource,
  base: Readonly<Record<string, string>>,
): Promise<Record<string, string>> {
  const env: Record<string, string> = { ...base };
  const text = (data: Record<string, Buffer>, key: string) => data[key]?.toString('utf8');
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    const kind = from.configMapRef ? 'configmap' : 'secret';
    if (!ref?.name) continue;
    const data = await (from.configMapRef ? source.configMap(ref.name) : source.secret(ref.name));
    if (data === undefined) {
      if (ref.optional) continue;
      throw new ContainerConfigError(`${kind} "${ref.name}" not found`);
    }
    for (const key of Object.keys(data)) {
      if (!key.includes('=')) env[`${from.prefix ?? ''}${key}`] = text(data, key) ?? '';
    }
  }
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    if (from === undefined) {
      env[variable.name] = expandReferences(variable.value ?? '', (name) => env[name]);
    } else if (from.fieldRef) {
      env[variable.name] = fieldRefValue(pod, from.fieldRef, podIP);
    } else if (from.resourceFieldRef) {
      env[variable.name] = resourceFieldValue(pod, from.resourceFieldRef, container.name);
    } else if (from.secretKeyRef || from.configMapKeyRef) {
      const ref = (from.secretKeyRef ?? from.configMapKeyRef)!;
      const kind = from.secretKeyRef ? 'secret' : 'configmap';
      const data = await (from.secretKeyRef
        ? source.secret(ref.name ?? '')
        : source.configMap(ref.name ?? ''));
      const value = data === undefined ? undefined : text(data, ref.key);
      if (value !== undefined) env[variable.name] = value;
      else if (!ref.optional) {
        throw new ContainerConfigError(
          data === undefined
            ? `${kind} "${ref.name}" not found`
            : `couldn't find key ${ref.key} in ${kind} ${pod.metadata?.namespace}/${ref.name}`,
        );
      }
    } else {
      throw new ContainerConfigError(`env ${variable.name}: unsupported valueFrom`);
    }
  }
  return env;
}

/** Uppercase letters, digits and `_` of a mount path, for `KUBELET_MOUNT_<...>`: `/etc/app-secret` → `ETC_APP_SECRET`. */
export function sanitizeMountPath(mountPath: string): string {
  return mountPath
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}
