/**
 * The operator's entry point (`npm start`): read the settings, load and check the diagram, connect to
 * the API server, and, while this replica holds the leader Lease (or always, without leader election),
 * watch Ingresses and run the lifecycle process, until SIGTERM.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { RenewalInfoCache } from './acme/renewal-info-cache.ts';
import { clusterIssuanceSteps } from './kube/issuance-steps.ts';
import { OperatorView } from './view/operator-view.ts';
import { startViewServer, type ViewSources } from './view/view-server.ts';
import { caRenewalInfo } from './acme/renewal-info.ts';
import { ConfigError, checkSchedule, parseConfig } from './config.ts';
import { createLogger } from './log.ts';
import { kubeConfig } from './kube/connect.ts';
import { KubernetesCluster } from './kube/kubernetes-cluster.ts';
import {
  PermissionError,
  describePermission,
  missingPermissions,
  requiredPermissions,
} from './kube/permissions.ts';
import { watchIngresses } from './kube/ingress-watch.ts';
import { watchManagedSecrets } from './kube/secret-watch.ts';
import { watchIssuanceJobs } from './kube/job-watch.ts';
import { WatchStates, startHealthServer } from './health.ts';
import { kubernetesLeaseStore } from './leader/kubernetes-lease-store.ts';
import { DEFAULT_ELECTION, LeaderElector } from './leader/leader-election.ts';
import { Metrics } from './metrics.ts';
import { DefinitionError, loadDefinition } from './process/definition.ts';
import { systemClock } from './process/schedule.ts';
import { JOB_FINISHED, Operator, SECRET_CHANGED } from './operator.ts';
import { lifecycleTasks } from '../tasks/index.ts';

/** The shipped lifecycle diagram; `LEGO_LIFECYCLE_PROCESS` points at an edited copy instead. */
const SHIPPED_DIAGRAM = fileURLToPath(new URL('../processes/certificate-lifecycle.bpmn', import.meta.url));
/** The issuance Jobs' diagram (the same image, so the same file), for the process view. */
const ISSUANCE_DIAGRAM = fileURLToPath(new URL('../processes/issue-certificate.bpmn', import.meta.url));

async function main(): Promise<void> {
  const config = parseConfig(process.env);
  const log = createLogger({ level: config.logLevel, type: config.logType });
  const diagramPath = process.env.LEGO_LIFECYCLE_PROCESS || SHIPPED_DIAGRAM;
  const lifecycleXml = await readFile(diagramPath, 'utf8');
  const definition = await loadDefinition(
    lifecycleXml,
    'certificate-lifecycle',
    new Set(Object.keys(lifecycleTasks)),
  );
  checkSchedule(config, definition.timerCycle);
  const kube = kubeConfig(config.kubeApiUrl);
  const missing = await missingPermissions(kube, requiredPermissions(config));
  for (const permission of missing) {
    log.error(
      { permission: describePermission(permission) },
      `missing permission: ${describePermission(permission)} (${permission.why})`,
    );
  }
  if (missing.length > 0) {
    throw new ConfigError(
      'RBAC',
      `${missing.length} permissions missing`,
      'the rules of manifests/install.yml',
    );
  }
  const watches = new WatchStates();
  // One per process: it outlives each Operator (one per leadership), so counters run on across them.
  const metrics = new Metrics();
  const view = config.viewPort === 0 ? undefined : new OperatorView('certificate-lifecycle', Date.now);
  const renewalInfo = config.renewalInfo
    ? new RenewalInfoCache(
        caRenewalInfo({
          directoryUrl: config.url,
          ...(config.caBundle !== undefined && { caPem: config.caBundle }),
        }),
      )
    : undefined;
  const startOperator = () => {
    const started = new Operator({
      config,
      log,
      cluster: new KubernetesCluster(kube, log),
      definition,
      clock: systemClock,
      metrics,
      ...(renewalInfo !== undefined && { renewalInfo }),
      ...(view !== undefined && { view }),
      ingressEvents: watchIngresses(kube, config.watchNamespace, {
        onConnected: watches.track('Ingress'),
        onRetry: (error, delayMs) => {
          metrics.watchRestarted('ingress');
          log.warn(
            { error: (error as Error)?.message ?? String(error), delayMs },
            'Ingress watch failed: retrying',
          );
        },
      }),
      secretEvents: watchManagedSecrets(kube, config.watchNamespace, {
        // Ready waits for it only where the diagram uses it (an edited diagram may have no "Secret changed").
        ...(definition.messageStarts.has(SECRET_CHANGED)
          ? { onConnected: watches.track('certificate Secret') }
          : {}),
        onRetry: (error, delayMs) => {
          metrics.watchRestarted('secret');
          log.warn(
            { error: (error as Error)?.message ?? String(error), delayMs },
            'certificate Secret watch failed: retrying',
          );
        },
      }),
      jobEvents: watchIssuanceJobs(kube, config.namespace, {
        // Ready waits for it only where the diagram uses it (an edited diagram may have no "Job finished").
        ...(definition.messageStarts.has(JOB_FINISHED) ? { onConnected: watches.track('issuance Job') } : {}),
        onRetry: (error, delayMs) => {
          metrics.watchRestarted('job');
          log.warn(
            { error: (error as Error)?.message ?? String(error), delayMs },
            'issuance Job watch failed: retrying',
          );
        },
      }),
    });
    started.start();
    return started;
  };
  let operator: Operator | undefined;
  /** Stops the work (watches, schedule, runs); the Jobs run on, independent pods. */
  const stopOperator = async () => {
    const stopping = operator;
    operator = undefined;
    watches.clear();
    await stopping?.stop();
  };
  const elector = config.leaderElection
    ? new LeaderElector(
        kubernetesLeaseStore(kube, config.namespace),
        { ...DEFAULT_ELECTION, identity: `${config.podName ?? hostname()}_${randomUUID().slice(0, 8)}` },
        systemClock,
        log,
        {
          onStartedLeading: () => {
            metrics.setLeader(true);
            operator = startOperator();
          },
          onStoppedLeading: () => {
            metrics.setLeader(false);
            void stopOperator();
          },
        },
      )
    : undefined;
  // Without leader election this process is the one that works: it leads.
  metrics.setLeader(elector === undefined);
  const health = await startHealthServer(
    config.port,
    config.podIp ?? '0.0.0.0',
    {
      disconnectedWatches: () => watches.disconnectedWatches(),
      standby: () => elector !== undefined && operator === undefined,
    },
    metrics.registry,
  );
  const viewServers: Server[] = [];
  if (view !== undefined) {
    const sources: ViewSources = {
      view,
      lifecycleXml,
      issuanceXml: await readFile(ISSUANCE_DIAGRAM, 'utf8'),
      issuanceSteps: clusterIssuanceSteps(kube, config.namespace),
      leading: () => operator !== undefined,
      leader: () => elector?.holder ?? (operator === undefined ? undefined : 'this replica'),
      log,
    };
    const hosts = [...new Set([config.podIp ?? '127.0.0.1', '127.0.0.1'])];
    for (const host of hosts) {
      // On the pod's IP; and on its localhost, where `kubectl port-forward` connects. In a pod each has
      // its own; where processes share one (the test sandbox), the second replica finds it taken.
      try {
        viewServers.push(await startViewServer(config.viewPort, host, sources));
      } catch (error) {
        if (host !== '127.0.0.1' || viewServers.length === 0) throw error;
        log.warn(
          { port: config.viewPort, error: (error as Error).message },
          'process view: not on 127.0.0.1 (kubectl port-forward reaches it there); on the pod IP only',
        );
      }
    }
  }
  log.info(
    {
      url: config.url,
      namespace: config.namespace,
      watchNamespace: config.watchNamespace ?? '(all)',
      diagram: diagramPath,
      leaderElection: config.leaderElection,
    },
    'kube-lego started',
  );
  if (elector === undefined) operator = startOperator();
  else elector.start();
  const shutdown = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    health.close();
    for (const server of viewServers) {
      server.closeAllConnections();
      server.close();
    }
    // Stop taking work first, then free the Lease, so the standby starts at once and never beside us.
    await stopOperator();
    await elector?.stop({ release: true });
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DefinitionError || error instanceof PermissionError) {
    process.stderr.write(`kube-lego: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`kube-lego: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
