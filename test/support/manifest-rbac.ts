/**
 * What the RBAC objects of a manifest (manifests/install.yml) allow a ServiceAccount, decided the way the
 * API server's RBAC authorizer decides it, for fakes that must refuse what a real cluster would refuse.
 *
 * Modelled: ClusterRoles bound by ClusterRoleBindings (every namespace, and cluster-scoped requests), Roles
 * and ClusterRoles bound by RoleBindings (the binding's namespace only), subjects naming the ServiceAccount
 * or its groups (`system:serviceaccounts`, `system:serviceaccounts:<namespace>`, `system:authenticated`),
 * `*` in apiGroups, resources and verbs, `resource/subresource`, and resourceNames. Not modelled: the
 * cluster's own bootstrap roles (system:basic-user and the like, which every user has), aggregated
 * ClusterRoles and nonResourceURLs. test/kube/kubernetes-cluster-under-rbac.test.ts checks this reading
 * against a real API server's SubjectAccessReviews.
 */
import type {
  KubernetesObject,
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1PolicyRule,
  V1Role,
  V1RoleBinding,
} from '@kubernetes/client-node';
import { readManifest } from './manifests.ts';

/** One API request, as RBAC sees it. */
export interface ResourceRequest {
  verb: string;
  /** API group, '' for the core group. */
  group: string;
  /** Plural resource, `resource/subresource` for a subresource. */
  resource: string;
  /** Undefined for a cluster-scoped request (or one across all namespaces). */
  namespace?: string;
  name?: string;
}

/** A ServiceAccount. */
export interface ServiceAccountRef {
  namespace: string;
  name: string;
}

/** The RBAC username of a ServiceAccount: `system:serviceaccount:<namespace>:<name>`. */
export function serviceAccountUser(account: ServiceAccountRef): string {
  return `system:serviceaccount:${account.namespace}:${account.name}`;
}

const RBAC_KINDS = new Set(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

/**
 * The objects of a manifest that make up its identities and their RBAC:
 * Namespaces, ServiceAccounts, roles, bindings.
 */
export function identityObjects(objects: readonly KubernetesObject[]): KubernetesObject[] {
  return objects.filter(
    (object) =>
      object.kind === 'Namespace' || object.kind === 'ServiceAccount' || RBAC_KINDS.has(object.kind ?? ''),
  );
}

/**
 * The message the API server gives a refused request (its `Status.message`), e.g. `jobs.batch "x" is
 * forbidden: User "system:serviceaccount:kube-lego:kube-lego" cannot delete resource "jobs" in API group
 * "batch" in the namespace "kube-lego"`.
 */
export function forbiddenMessage(account: ServiceAccountRef, request: ResourceRequest): string {
  const qualified = request.group === '' ? request.resource : `${request.resource}.${request.group}`;
  const what = request.name === undefined ? qualified : `${qualified} "${request.name}"`;
  const scope =
    request.namespace === undefined ? 'at the cluster scope' : `in the namespace "${request.namespace}"`;
  return (
    `${what} is forbidden: User "${serviceAccountUser(account)}" cannot ${request.verb} resource ` +
    `"${request.resource}" in API group "${request.group}" ${scope}`
  );
}

function ruleMatches(rule: V1PolicyRule, request: ResourceRequest): boolean {
  const has = (list: readonly string[] | undefined, value: string) =>
    (list ?? []).includes('*') || (list ?? []).includes(value);
  const [resource, subresource] = request.resource.split('/');
  const resourceMatches =
    has(rule.resources, request.resource) ||
    (subresource !== undefined && (rule.resources ?? []).includes(`${resource}/*`));
  if (!has(rule.verbs, request.verb) || !has(rule.apiGroups, request.group) || !resourceMatches) return false;
  if (rule.resourceNames === undefined || rule.resourceNames.length === 0) return true;
  return request.name !== undefined && rule.resourceNames.includes(request.name);
}

/** The RBAC of one manifest. */
export class ManifestRbac {
  readonly #objects: readonly KubernetesObject[];

  constructor(objects: readonly KubernetesObject[]) {
    this.#objects = objects.filter((object) => RBAC_KINDS.has(object.kind ?? ''));
  }

  /**
   * The same RBAC installed into another namespace, as `kustomize edit set namespace` (or
   * `kubectl apply -n`) would: namespaced objects and ServiceAccount subjects in `from` move to `to`.
   */
  relocated(from: string, to: string): ManifestRbac {
    const moved = structuredClone(this.#objects).map((object) => {
      if (object.metadata?.namespace === from) object.metadata.namespace = to;
      for (const subject of (object as V1RoleBinding).subjects ?? []) {
        if (subject.kind === 'ServiceAccount' && subject.namespace === from) subject.namespace = to;
      }
      return object;
    });
    return new ManifestRbac(moved);
  }

  /** The same RBAC with `edit` applied to a copy of its objects (to remove a rule, say). */
  edited(edit: (objects: KubernetesObject[]) => void): ManifestRbac {
    const copy = structuredClone([...this.#objects]);
    edit(copy);
    return new ManifestRbac(copy);
  }

  /** Whether the manifest lets `account` make `request`. */
  allows(account: ServiceAccountRef, request: ResourceRequest): boolean {
    const bound = (binding: V1RoleBinding | V1ClusterRoleBinding) =>
      (binding.subjects ?? []).some(
        (subject) =>
          (subject.kind === 'ServiceAccount' &&
            subject.name === account.name &&
            (subject.namespace ?? binding.metadata?.namespace) === account.namespace) ||
          (subject.kind === 'Group' &&
            [
              'system:authenticated',
              'system:serviceaccounts',
              `system:serviceaccounts:${account.namespace}`,
            ].includes(subject.name)),
      );
    const role = (kind: string, name: string, namespace: string | undefined) =>
      this.#objects.find(
        (object) =>
          object.kind === kind &&
          object.metadata?.name === name &&
          (kind === 'ClusterRole' || object.metadata?.namespace === namespace),
      ) as V1Role | V1ClusterRole | undefined;
    for (const object of this.#objects) {
      let rules: V1PolicyRule[] | undefined;
      if (object.kind === 'ClusterRoleBinding') {
        const binding = object as V1ClusterRoleBinding;
        if (!bound(binding) || binding.roleRef.kind !== 'ClusterRole') continue;
        rules = role('ClusterRole', binding.roleRef.name, undefined)?.rules;
      } else if (object.kind === 'RoleBinding') {
        const binding = object as V1RoleBinding;
        const namespace = binding.metadata?.namespace;
        if (!bound(binding) || request.namespace === undefined || request.namespace !== namespace) continue;
        rules = role(binding.roleRef.kind, binding.roleRef.name, namespace)?.rules;
      }
      if ((rules ?? []).some((rule) => ruleMatches(rule, request))) return true;
    }
    return false;
  }
}

/** manifests/install.yml, as users apply it. */
export const INSTALL_MANIFEST_URL = new URL('../../manifests/install.yml', import.meta.url);

/** The RBAC of manifests/install.yml. */
export async function installRbac(): Promise<ManifestRbac> {
  return new ManifestRbac(await readManifest(INSTALL_MANIFEST_URL));
}
