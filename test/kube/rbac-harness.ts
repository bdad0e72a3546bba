/**
 * What the test/kube tests share: a real control plane (etcd, kube-apiserver, kube-controller-manager from
 * test/support/control-plane.ts) with the Namespace, ServiceAccounts and RBAC of manifests/install.yml
 * applied as shipped; KubeConfigs authenticated as those ServiceAccounts with tokens from the TokenRequest
 * API, as a pod's projected token is; and the API server's audit log, which shows every request a
 * ServiceAccount made and how the server answered it, including the 403s an adapter swallows (Events) or
 * retries (watches).
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Observable } from 'rxjs';
import type { ListWatchOptions, WatchEvent } from '../../src/kube/list-watch.ts';
import { eventually } from '../support/cluster-testing.ts';
import { startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { applyObjects, readManifest } from '../support/manifests.ts';
import {
  identityObjects,
  INSTALL_MANIFEST_URL,
  serviceAccountUser,
  type ResourceRequest,
  type ServiceAccountRef,
} from '../support/manifest-rbac.ts';

/** The operator's identity (the Deployment's `serviceAccountName`). */
export const OPERATOR: ServiceAccountRef = { namespace: 'kube-lego', name: 'kube-lego' };
/** The issuance Jobs' identity (`serviceAccountName` of the Job's pod, src/issuance/job-objects.ts). */
export const ISSUER: ServiceAccountRef = { namespace: 'kube-lego', name: 'kube-lego-issuer' };

/** One request as the audit log recorded it. */
export interface AuditedRequest {
  verb: string;
  group: string;
  /** `resource` or `resource/subresource`. */
  resource: string;
  namespace: string | undefined;
  name: string | undefined;
  /** The HTTP status the server answered (200 for a watch still open). */
  code: number;
  uri: string;
}

/** `delete jobs.batch kube-lego/x → 200`, for assertion messages. */
export function describeRequest(request: AuditedRequest): string {
  const resource = request.group === '' ? request.resource : `${request.resource}.${request.group}`;
  const where = [request.namespace, request.name].filter(Boolean).join('/');
  return `${request.verb} ${resource}${where ? ` ${where}` : ''} → ${request.code}`;
}

/** The requests the server refused for lack of permission. */
export function forbidden(requests: readonly AuditedRequest[]): string[] {
  return requests.filter((request) => request.code === 403).map(describeRequest);
}

/** `verb group/resource` of each request, deduplicated and sorted: what a call needed, not how often. */
export function requestKinds(requests: readonly AuditedRequest[]): string[] {
  return [
    ...new Set(requests.map((request) => `${request.verb} ${request.group}/${request.resource}`)),
  ].sort();
}

/** kube-apiserver's audit log: Metadata level, ServiceAccounts only, one JSON event a line. */
export class AuditLog {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  /**
   * A point in the log: {@link requestsSince} returns what was requested after this call. Both a position
   * and a time, since a long-running request (a watch) is logged when it ends: a watch of an earlier test
   * that ends after the mark is written after it, yet was received before it.
   */
  mark(): AuditMark {
    const time = Date.now();
    try {
      return { position: statSync(this.path).size, time };
    } catch {
      return { position: 0, time };
    }
  }

  /**
   * Every request `account` made after `mark` (received at or after its time), the last stage of each. A sentinel request made as the
   * same identity (a SelfSubjectReview, which everyone may create) shows the server has logged the
   * requests before it; it is left out of the answer. Waits 10 s at most.
   */
  async requestsSince(
    mark: AuditMark,
    account: ServiceAccountRef,
    as: KubeConfig,
  ): Promise<AuditedRequest[]> {
    const user = serviceAccountUser(account);
    const events = () =>
      readFileSync(this.path)
        .subarray(mark.position)
        .toString('utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as AuditEvent)
        .filter(
          (event) => event.user?.username === user && Date.parse(event.requestReceivedTimestamp) >= mark.time,
        );
    const before = new Set(
      events()
        .filter(isSentinel)
        .map((event) => event.auditID),
    );
    await as.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    await eventually(
      'the sentinel request in the audit log',
      async () => events().some((event) => isSentinel(event) && !before.has(event.auditID)),
      10_000,
    );
    const last = new Map<string, AuditEvent>();
    for (const event of events()) if (!isSentinel(event)) last.set(event.auditID, event);
    return [...last.values()].map((event) => ({
      verb: event.verb,
      group: event.objectRef?.apiGroup ?? '',
      resource: [event.objectRef?.resource, event.objectRef?.subresource].filter(Boolean).join('/'),
      namespace: event.objectRef?.namespace,
      name: event.objectRef?.name,
      code: event.responseStatus?.code ?? 0,
      uri: event.requestURI,
    }));
  }
}

/** The start of the audit log: every request. */
export const LOG_START: AuditMark = { position: 0, time: 0 };

/** A point in the audit log, from {@link AuditLog.mark}. */
export interface AuditMark {
  /** The log's size then, in bytes. */
  readonly position: number;
  /** Then, in ms since the epoch. */
  readonly time: number;
}

interface AuditEvent {
  auditID: string;
  stage: string;
  /** When the server received the request, RFC 3339 with microseconds. */
  requestReceivedTimestamp: string;
  verb: string;
  requestURI: string;
  user?: { username?: string };
  objectRef?: {
    resource?: string;
    subresource?: string;
    namespace?: string;
    name?: string;
    apiGroup?: string;
  };
  responseStatus?: { code?: number };
}

const isSentinel = (event: AuditEvent) => event.objectRef?.resource === 'selfsubjectreviews';

const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    userGroups: ['system:serviceaccounts']
  - level: None
`;

/** A running control plane with install.yml's identities and RBAC. */
export interface RbacCluster {
  controlPlane: ControlPlane;
  /** The cluster admin (system:masters), for setting the scene and checking results. */
  admin: KubeConfig;
  /** Access as `account`, with a fresh token from the TokenRequest API. */
  as(account: ServiceAccountRef): Promise<KubeConfig>;
  /** Whether the API server's authorizer allows `account` the request (a SubjectAccessReview). */
  allows(account: ServiceAccountRef, request: ResourceRequest): Promise<boolean>;
  audit: AuditLog;
  /** The control plane's logs, for a failing test's message. */
  logs(): string;
  stop(): Promise<void>;
}

/** A watch under test: what it reported, its connection states and retries, and a wait for a report. */
export interface FollowedWatch {
  readonly events: string[];
  readonly connected: boolean[];
  readonly retries: string[];
  /** Waits (10 s at most) until `expected` has been reported. */
  until(expected: string): Promise<unknown>;
  /** Unsubscribes. */
  stop(): void;
}

/**
 * Subscribes to a watch built by `start` with quick back-off (100 ms to 1 s), collecting each event as
 * `describe` puts it, and its connection states and retries.
 */
export function followWatch<T>(
  start: (options: ListWatchOptions) => Observable<WatchEvent<T>>,
  describe: (event: WatchEvent<T>) => string,
): FollowedWatch {
  const events: string[] = [];
  const connected: boolean[] = [];
  const retries: string[] = [];
  const subscription = start({
    initialBackoffMs: 100,
    maxBackoffMs: 1000,
    onConnected: (state) => connected.push(state),
    onRetry: (error) => retries.push(String(error)),
  }).subscribe((event) => events.push(describe(event)));
  return {
    events,
    connected,
    retries,
    until: (expected) =>
      eventually(
        `${expected} reported (retries: ${retries.join('; ')})`,
        async () => events.includes(expected),
        10_000,
      ),
    stop: () => subscription.unsubscribe(),
  };
}

/**
 * Runs `body` (calls made with `as`, authenticated as `account`); returns its result and the requests
 * `account` made meanwhile, after asserting that the API server refused none of them.
 */
export async function audited<T>(
  cluster: RbacCluster,
  account: ServiceAccountRef,
  as: KubeConfig,
  body: () => Promise<T>,
): Promise<{ result: T; requests: AuditedRequest[] }> {
  const mark = cluster.audit.mark();
  const result = await body();
  const requests = await cluster.audit.requestsSince(mark, account, as);
  assert.deepEqual(forbidden(requests), [], 'no request refused');
  return { result, requests };
}

/**
 * Starts a control plane with an audit log, applies the Namespace, ServiceAccounts, roles and bindings of
 * manifests/install.yml (or of `objects`), and resolves once the authorizer enforces them.
 */
export async function startRbacCluster(objects?: KubernetesObject[]): Promise<RbacCluster> {
  const auditDir = await mkdtemp(join(tmpdir(), 'kube-lego-audit-'));
  const policy = join(auditDir, 'policy.yaml');
  await writeFile(policy, AUDIT_POLICY);
  const audit = new AuditLog(join(auditDir, 'audit.log'));
  let controlPlane: ControlPlane;
  try {
    controlPlane = await startControlPlane({
      apiServerArgs: [
        `--audit-policy-file=${policy}`,
        `--audit-log-path=${audit.path}`,
        '--audit-log-format=json',
        '--audit-log-mode=blocking',
        '--audit-log-maxbackup=1',
      ],
    });
  } catch (error) {
    await rm(auditDir, { recursive: true, force: true });
    throw error;
  }
  const admin = controlPlane.kubeConfig();
  const stop = async () => {
    await controlPlane.stop();
    await rm(auditDir, { recursive: true, force: true });
  };
  try {
    const manifest = identityObjects(objects ?? (await readManifest(INSTALL_MANIFEST_URL)));
    await applyObjects(admin, manifest);
    const authorization = admin.makeApiClient(AuthorizationV1Api);
    const allows = async (account: ServiceAccountRef, request: ResourceRequest) => {
      const review = await authorization.createSubjectAccessReview({
        body: {
          spec: {
            user: serviceAccountUser(account),
            groups: [
              'system:serviceaccounts',
              `system:serviceaccounts:${account.namespace}`,
              'system:authenticated',
            ],
            resourceAttributes: {
              verb: request.verb,
              group: request.group,
              resource: request.resource.split('/')[0],
              subresource: request.resource.split('/')[1],
              namespace: request.namespace,
              name: request.name,
            },
          },
        },
      });
      return review.status?.allowed === true;
    };
    // The authorizer reads roles and bindings through informers: wait until one grant of each binding shows.
    for (const [account, request] of [
      [OPERATOR, { verb: 'list', group: 'networking.k8s.io', resource: 'ingresses' }],
      [OPERATOR, { verb: 'create', group: 'batch', resource: 'jobs', namespace: 'kube-lego' }],
      [ISSUER, { verb: 'create', group: '', resource: 'secrets', namespace: 'default' }],
    ] as const) {
      await eventually(
        `RBAC of install.yml in effect for ${account.name}`,
        () => allows(account, request),
        30_000,
      );
    }
    const core = admin.makeApiClient(CoreV1Api);
    return {
      controlPlane,
      admin,
      audit,
      allows,
      async as(account) {
        const answer = await core.createNamespacedServiceAccountToken({
          name: account.name,
          namespace: account.namespace,
          body: { spec: { audiences: [], expirationSeconds: 3600 } },
        });
        const token = answer.status?.token;
        if (!token) throw new Error(`TokenRequest for ${serviceAccountUser(account)} returned no token`);
        const config = new KubeConfig();
        config.loadFromOptions({
          clusters: [
            {
              name: 'local',
              server: controlPlane.server,
              caData: Buffer.from(controlPlane.caPem).toString('base64'),
              skipTLSVerify: false,
            },
          ],
          users: [{ name: account.name, token }],
          contexts: [
            { name: account.name, cluster: 'local', user: account.name, namespace: account.namespace },
          ],
          currentContext: account.name,
        });
        const review = await config.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
        const username = review.status?.userInfo?.username;
        if (username !== serviceAccountUser(account)) {
          throw new Error(`the token of ${serviceAccountUser(account)} authenticates as ${username}`);
        }
        return config;
      },
      logs: () => controlPlane.logs(),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
