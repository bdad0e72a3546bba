/**
 * Edit-in-place: the ACME challenge path added to a user's own Ingress for the life of an issuance Job, and
 * taken out again, for controllers that give each Ingress its own address (GCE, AWS ALB without a group),
 * where a separate solver Ingress would get another address that the CA's validation never reaches.
 *
 * Pure: the Ingress in, a JSON Patch (RFC 6902) out. Each patch changes only kube-lego's own entries and
 * tests, in the same request, every entry it relies on, so a change the Ingress's owner made meanwhile makes
 * the API server refuse the patch (the caller reads the Ingress again and recomputes) instead of being
 * overwritten. A merge patch or an update would write back the whole `spec.rules` list, and server-side
 * apply cannot own a part of it: Ingress rules and paths are atomic lists.
 *
 * Decisions:
 * - the path goes first in the paths of the first rule for each host that has `http` paths; a host with no
 *   such rule gets a rule of its own, holding the path alone;
 * - kube-lego's entries are recognised by path and backend Service name (the Job's name): nothing else of
 *   the user's is ever touched;
 * - a rule left without paths once kube-lego's path is out was added by kube-lego (the API server refuses
 *   an `http` without paths, so a user's rule never has none) and goes too.
 */
import type { V1HTTPIngressPath, V1Ingress, V1IngressRule } from '@kubernetes/client-node';
import { normalizeHost } from '../certificate/policy.ts';

/** One JSON Patch operation of the kinds used here. */
export type PatchOperation =
  | { op: 'test'; path: string; value: unknown }
  | { op: 'add'; path: string; value: unknown }
  | { op: 'remove'; path: string };

/** The challenge route of one issuance: its hosts, and the Service (and port name) that reaches its Job. */
export interface ChallengeRoute {
  hosts: readonly string[];
  service: string;
  port: string;
  /** The path prefix of HTTP-01 validation requests. */
  path: string;
}

/** Whether `entry` is the challenge path of the Service `service`. */
function isChallengePath(entry: V1HTTPIngressPath, route: Pick<ChallengeRoute, 'service' | 'path'>) {
  return entry.path === route.path && entry.backend?.service?.name === route.service;
}

/** The path entry kube-lego adds. */
export function challengePath(route: ChallengeRoute): V1HTTPIngressPath {
  return {
    path: route.path,
    pathType: 'Prefix',
    backend: { service: { name: route.service, port: { name: route.port } } },
  };
}

/**
 * The patch that routes each host's challenge path to `route.service`, or an empty list when every host
 * routes it already.
 */
export function addChallengePaths(ingress: V1Ingress, route: ChallengeRoute): PatchOperation[] {
  const rules: readonly V1IngressRule[] = ingress.spec?.rules ?? [];
  const operations: PatchOperation[] = [];
  const newRules: V1IngressRule[] = [];
  for (const host of route.hosts) {
    const forHost = rules
      .map((rule, index) => ({ rule, index }))
      .filter(({ rule }) => rule.host !== undefined && normalizeHost(rule.host) === host);
    if (forHost.some(({ rule }) => (rule.http?.paths ?? []).some((entry) => isChallengePath(entry, route)))) {
      continue;
    }
    const withPaths = forHost.find(({ rule }) => (rule.http?.paths ?? []).length > 0);
    if (withPaths === undefined) {
      newRules.push({ host, http: { paths: [challengePath(route)] } });
      continue;
    }
    const at = `/spec/rules/${withPaths.index}`;
    operations.push(
      { op: 'test', path: `${at}/host`, value: withPaths.rule.host },
      { op: 'add', path: `${at}/http/paths/0`, value: challengePath(route) },
    );
  }
  if (newRules.length === 0) return operations;
  if (ingress.spec?.rules === undefined) {
    return [...operations, { op: 'add', path: '/spec/rules', value: newRules }];
  }
  return [
    ...operations,
    ...newRules.map((rule) => ({ op: 'add' as const, path: '/spec/rules/-', value: rule })),
  ];
}

/**
 * The patch that takes every challenge path of `route.service` out, and the rules it leaves without paths;
 * an empty list when there is none.
 */
export function removeChallengePaths(
  ingress: V1Ingress,
  route: Pick<ChallengeRoute, 'service' | 'path'>,
): PatchOperation[] {
  const operations: PatchOperation[] = [];
  const rules = ingress.spec?.rules ?? [];
  let rulesLeft = rules.length;
  // Highest index first, so each removal leaves the indices of those still to come unchanged.
  for (let ruleIndex = rules.length - 1; ruleIndex >= 0; ruleIndex -= 1) {
    const paths = rules[ruleIndex]!.http?.paths ?? [];
    const ours = paths.flatMap((entry, index) => (isChallengePath(entry, route) ? [index] : []));
    if (ours.length === 0) continue;
    const at = `/spec/rules/${ruleIndex}`;
    const checks: PatchOperation[] = ours.map((index) => ({
      op: 'test',
      path: `${at}/http/paths/${index}/backend/service/name`,
      value: route.service,
    }));
    if (ours.length === paths.length) {
      operations.push(
        ...checks,
        { op: 'test', path: `${at}/http/paths`, value: paths },
        {
          op: 'remove',
          path: at,
        },
      );
      rulesLeft -= 1;
      continue;
    }
    operations.push(...checks);
    for (const index of [...ours].reverse())
      operations.push({ op: 'remove', path: `${at}/http/paths/${index}` });
  }
  // The API server leaves an empty list out of the Ingress it returns: rules that kube-lego alone had
  // added go as the field they were added as.
  if (rulesLeft === 0 && operations.length > 0) {
    return [
      ...operations.filter((operation) => operation.op === 'test'),
      { op: 'remove', path: '/spec/rules' },
    ];
  }
  return operations;
}
