/**
 * How the ingress router picks a backend for a request: pure functions over Ingress objects, with the
 * semantics of the Ingress API and of ingress-nginx where the API leaves a choice.
 *
 * - Class: the `kubernetes.io/ingress.class` annotation, else `spec.ingressClassName` (the annotation wins,
 *   as in ingress-nginx); an Ingress is served when its class is one of the router's, or, with neither set,
 *   when the router serves Ingresses without class (off by default, as ingress-nginx without
 *   --watch-ingress-without-class).
 * - Host: the Host header without its port, lowercased. Rules whose host equals it come first, then rules
 *   with a wildcard host (`*.example.test` matches exactly one more label), then rules without host. The
 *   first of these tiers that has any rule for the host decides; a path that none of its rules matches is a
 *   404 (as an nginx `server` block would answer), not a fall-through to the next tier.
 * - Path: Exact matches the path as is; Prefix matches whole path elements (`/foo` matches `/foo` and
 *   `/foo/bar`, not `/foobar`); ImplementationSpecific is taken as Prefix. The longest matching rule path
 *   wins, Exact before Prefix on equal length, then the oldest Ingress (then namespace/name).
 * - `spec.defaultBackend` of a served Ingress (the oldest, if several) answers what no rule matches
 *   (the API's wording: "requests that don't match any rule").
 */
import type { V1Ingress, V1IngressBackend } from '@kubernetes/client-node';

/** The annotation that names an Ingress's class, older than spec.ingressClassName and still honoured. */
export const CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

/** Which Ingresses a router serves. */
export interface ClassPolicy {
  readonly classes: readonly string[];
  readonly withoutClass: boolean;
}

/** The Service port a route leads to. */
export interface RouteTarget {
  /** `namespace/name` of the Ingress the route comes from. */
  readonly ingress: string;
  readonly namespace: string;
  readonly service: string;
  /** The Service port, by number or name, as the Ingress backend gives it. */
  readonly port: { readonly number?: number; readonly name?: string };
}

/** The class of an Ingress: the annotation, else spec.ingressClassName, else undefined. */
export function ingressClassOf(ingress: V1Ingress): string | undefined {
  return ingress.metadata?.annotations?.[CLASS_ANNOTATION] ?? ingress.spec?.ingressClassName ?? undefined;
}

/** Whether a router with `policy` serves `ingress`. */
export function isServed(ingress: V1Ingress, policy: ClassPolicy): boolean {
  const ingressClass = ingressClassOf(ingress);
  return ingressClass === undefined ? policy.withoutClass : policy.classes.includes(ingressClass);
}

/** The host of a Host header: without port, lowercased; IPv6 literals keep their brackets. */
export function hostOfHeader(header: string | undefined): string {
  const value = (header ?? '').trim().toLowerCase();
  if (value.startsWith('[')) return value.slice(0, value.indexOf(']') + 1);
  return value.replace(/:\d*$/, '').replace(/\.$/, '');
}

/** Whether a rule host (maybe `*.domain`) matches a request host. */
function hostMatches(ruleHost: string, host: string): 'exact' | 'wildcard' | undefined {
  const rule = ruleHost.toLowerCase();
  if (rule === host) return 'exact';
  if (rule.startsWith('*.')) {
    const suffix = rule.slice(1);
    const label = host.slice(0, host.length - suffix.length);
    if (host.endsWith(suffix) && label.length > 0 && !label.includes('.')) return 'wildcard';
  }
  return undefined;
}

/** Whether a rule path of `pathType` matches the request path. */
export function pathMatches(rulePath: string, pathType: string, path: string): boolean {
  if (pathType === 'Exact') return path === rulePath;
  const prefix = rulePath.replace(/\/+$/, '');
  return prefix === '' || path === prefix || path.startsWith(`${prefix}/`);
}

function created(ingress: V1Ingress): number {
  const time = ingress.metadata?.creationTimestamp;
  return time === undefined ? 0 : new Date(time).getTime();
}

function nameOf(ingress: V1Ingress): string {
  return `${ingress.metadata?.namespace ?? ''}/${ingress.metadata?.name ?? ''}`;
}

/** Oldest first, then by namespace/name: which Ingress wins a tie. */
function olderFirst(a: V1Ingress, b: V1Ingress): number {
  return created(a) - created(b) || nameOf(a).localeCompare(nameOf(b));
}

function target(ingress: V1Ingress, backend: V1IngressBackend | undefined): RouteTarget | undefined {
  const service = backend?.service;
  if (service === undefined) return undefined;
  return {
    ingress: nameOf(ingress),
    namespace: ingress.metadata?.namespace ?? '',
    service: service.name,
    port: {
      ...(service.port?.number === undefined ? {} : { number: service.port.number }),
      ...(service.port?.name ? { name: service.port.name } : {}),
    },
  };
}

/**
 * The route for a request to `host` (as {@link hostOfHeader} gives it) and `path` (without query) among
 * the served `ingresses`, or undefined when none matches (a 404). A rule whose backend is not a Service
 * (`resource`) matches, but leads nowhere: undefined too.
 */
export function findRoute(
  ingresses: readonly V1Ingress[],
  host: string,
  path: string,
): RouteTarget | undefined {
  const sorted = [...ingresses].sort(olderFirst);
  const tiers: Record<
    'exact' | 'wildcard' | 'any',
    { ingress: V1Ingress; rule: NonNullable<NonNullable<V1Ingress['spec']>['rules']>[number] }[]
  > = {
    exact: [],
    wildcard: [],
    any: [],
  };
  for (const ingress of sorted) {
    for (const rule of ingress.spec?.rules ?? []) {
      if (!rule.host) tiers.any.push({ ingress, rule });
      else {
        const match = hostMatches(rule.host, host);
        if (match !== undefined) tiers[match].push({ ingress, rule });
      }
    }
  }
  const tier = [tiers.exact, tiers.wildcard, tiers.any].find((rules) => rules.length > 0);
  let best: { length: number; exact: boolean; target: RouteTarget | undefined } | undefined;
  for (const { ingress, rule } of tier ?? []) {
    for (const httpPath of rule.http?.paths ?? []) {
      const rulePath = httpPath.path || '/';
      const exact = httpPath.pathType === 'Exact';
      if (!pathMatches(rulePath, httpPath.pathType, path)) continue;
      const length = exact ? rulePath.length : rulePath.replace(/\/+$/, '').length;
      if (best === undefined || length > best.length || (length === best.length && exact && !best.exact)) {
        best = { length, exact, target: target(ingress, httpPath.backend) };
      }
    }
  }
  if (best !== undefined) return best.target;
  const fallback = sorted.find((ingress) => ingress.spec?.defaultBackend?.service);
  return fallback === undefined ? undefined : target(fallback, fallback.spec?.defaultBackend);
}
