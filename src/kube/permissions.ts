/**
 * The operator's start-up check of its own permissions: one SelfSubjectAccessReview per permission it
 * needs, and one clear line per permission missing, instead of a 403 stack trace later.
 */
import { AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Config } from '../config.ts';
import { LEADER_LEASE } from '../leader/kubernetes-lease-store.ts';

/** The operator lacks permissions it needs; each was logged on its own line. */
export class PermissionError extends Error {
  constructor(count: number) {
    super(`${count} permission(s) missing: grant them as manifests/install.yml does`);
    this.name = 'PermissionError';
  }
}

/** One permission: a verb on a resource, in a namespace or cluster-wide (namespace undefined). */
export interface Permission {
  verb: string;
  group: string;
  resource: string;
  /** A subresource of it (`log` of `pods`). */
  subresource?: string;
  namespace: string | undefined;
  /** The one object it is needed on, when the rule names it (`resourceNames`). */
  name?: string;
  /** Why the operator needs it, for the message. */
  why: string;
}

/** What the operator needs for the settings. Pure. */
export function requiredPermissions(config: Config): Permission[] {
  const watched = config.watchNamespace;
  const own = config.namespace;
  const need = (
    verb: string,
    group: string,
    resource: string,
    namespace: string | undefined,
    why: string,
  ) => ({
    verb,
    group,
    resource,
    namespace,
    why,
  });
  return [
    need('list', 'networking.k8s.io', 'ingresses', watched, 'to find annotated Ingresses'),
    need('watch', 'networking.k8s.io', 'ingresses', watched, 'to see Ingress changes'),
    need('get', '', 'secrets', watched, 'to inspect certificates'),
    need('list', '', 'secrets', watched, 'to find the certificate Secrets it wrote'),
    need('watch', '', 'secrets', watched, 'to see certificate Secrets deleted or changed'),
    need('create', '', 'events', watched, 'to report on Ingresses'),
    need('create', 'batch', 'jobs', own, 'to launch issuance Jobs'),
    need('get', 'batch', 'jobs', own, "to read an issuance Job's outcome"),
    need('list', 'batch', 'jobs', own, 'to find issuance Jobs that finished'),
    need('watch', 'batch', 'jobs', own, 'to see issuance Jobs finish'),
    need('delete', 'batch', 'jobs', own, 'to replace a stale or failed issuance Job'),
    need('patch', 'batch', 'jobs', own, "to record an issuance Job's outcome and back-off on it"),
    need('list', '', 'pods', own, "to read an issuance Job's outcome"),
    ...(config.viewPort === 0
      ? []
      : [
          {
            ...need('get', '', 'pods', own, "to show a running issuance Job's step in the process view"),
            subresource: 'log',
          },
        ]),
    need('create', '', 'services', watched, 'to create solver Services'),
    need('create', 'networking.k8s.io', 'ingresses', own, 'to create solver Ingresses'),
    need('delete', '', 'services', watched, 'to delete solver Services when their Job ends'),
    need('get', 'networking.k8s.io', 'ingresses', watched, 'to edit Ingresses in place'),
    need('patch', 'networking.k8s.io', 'ingresses', watched, 'to edit Ingresses in place'),
    need('delete', 'networking.k8s.io', 'ingresses', own, 'to delete solver Ingresses when their Job ends'),
    ...(config.leaderElection
      ? [
          {
            ...need('get', 'coordination.k8s.io', 'leases', own, 'to read the leader Lease'),
            name: LEADER_LEASE,
          },
          need('create', 'coordination.k8s.io', 'leases', own, 'to create the leader Lease'),
          {
            ...need('update', 'coordination.k8s.io', 'leases', own, 'to take and renew the leader Lease'),
            name: LEADER_LEASE,
          },
        ]
      : []),
  ];
}

/** How a permission reads in a log line: `create jobs.batch in namespace kube-lego`. */
export function describePermission(permission: Permission): string {
  const plural =
    permission.subresource === undefined
      ? permission.resource
      : `${permission.resource}/${permission.subresource}`;
  const resource = permission.group === '' ? plural : `${plural}.${permission.group}`;
  const scope =
    permission.namespace === undefined ? 'in all namespaces' : `in namespace ${permission.namespace}`;
  return `${permission.verb} ${resource}${permission.name === undefined ? '' : ` ${permission.name}`} ${scope}`;
}

/** The permissions of `required` the operator's identity lacks. */
export async function missingPermissions(kube: KubeConfig, required: Permission[]): Promise<Permission[]> {
  const api = kube.makeApiClient(AuthorizationV1Api);
  const reviews = await Promise.all(
    required.map((permission) =>
      api.createSelfSubjectAccessReview({
        body: {
          spec: {
            resourceAttributes: {
              verb: permission.verb,
              group: permission.group,
              resource: permission.resource,
              ...(permission.subresource !== undefined && { subresource: permission.subresource }),
              ...(permission.namespace !== undefined && { namespace: permission.namespace }),
              ...(permission.name !== undefined && { name: permission.name }),
            },
          },
        },
      }),
    ),
  );
  return required.filter((_, index) => reviews[index]?.status?.allowed !== true);
}
